//! `sql/queries/auth/*.sql`: pre-authentication lookups, run in an `AnonTx`.

use super::col;
use crate::db::AnonTx;
use crate::domain::{OrgId, Role, UserId};
use crate::error::AppError;
use crate::sql;

/// What log-in needs to know about a user, and nothing more.
pub(crate) struct LoginCandidate {
    pub org_id: OrgId,
    pub user_id: UserId,
    pub password_hash: String,
    pub role: Role,
}

pub(crate) async fn login_lookup(
    tx: &mut AnonTx,
    org_slug: &str,
    email: &str,
) -> Result<Option<LoginCandidate>, AppError> {
    let rows = tx
        .query(&sql!("auth/login_lookup.sql"), &[&org_slug, &email])
        .await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let role: &str = col(row, "role")?;
    Ok(Some(LoginCandidate {
        org_id: OrgId::from_uuid(col(row, "org_id")?),
        user_id: UserId::from_uuid(col(row, "user_id")?),
        password_hash: col(row, "password_hash")?,
        role: Role::parse(role)
            .ok_or_else(|| AppError::internal(format!("unknown role {role:?} in users")))?,
    }))
}
