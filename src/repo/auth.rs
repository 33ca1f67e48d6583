//! `sql/queries/auth/*.sql`: pre-authentication lookups, run in an `AnonTx`.

use super::col;
use crate::auth::refresh::RefreshToken;
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

/// What the log-in lookup found for an organization slug and an email.
pub(crate) struct LoginLookup {
    /// The email's key as the database computed it (`app.text_key`): the account's identity
    /// for rate limiting, known whether or not the account exists.
    pub account_key: String,
    pub candidate: Option<LoginCandidate>,
}

pub(crate) async fn login_lookup(
    tx: &mut AnonTx,
    org_slug: &str,
    email: &str,
) -> Result<LoginLookup, AppError> {
    let rows = tx
        .query(&sql!("auth/login_lookup.sql"), &[&org_slug, &email])
        .await?;
    let [row] = rows.as_slice() else {
        return Err(AppError::internal(
            "the log-in lookup returns exactly one row",
        ));
    };
    let account_key = col(row, "account_key")?;
    let Some(user_id) = col::<Option<uuid::Uuid>>(row, "user_id")? else {
        return Ok(LoginLookup {
            account_key,
            candidate: None,
        });
    };
    let role: &str = col(row, "role")?;
    Ok(LoginLookup {
        account_key,
        candidate: Some(LoginCandidate {
            org_id: OrgId::from_uuid(col(row, "org_id")?),
            user_id: UserId::from_uuid(user_id),
            password_hash: col(row, "password_hash")?,
            role: Role::parse(role)
                .ok_or_else(|| AppError::internal(format!("unknown role {role:?} in users")))?,
        }),
    })
}

/// What exchanging a refresh token did.
pub(crate) enum Rotation {
    /// The token was current (or just replaced, inside the grace window): `next` is now valid.
    Rotated {
        user_id: UserId,
        role: Role,
        expires_at: chrono::DateTime<chrono::Utc>,
    },
    /// The token had already been exchanged: the whole family is now revoked.
    Reused,
    /// No live session accepts this token.
    Invalid,
}

pub(crate) async fn rotate_refresh_token(
    tx: &mut AnonTx,
    presented: &RefreshToken,
    next: &RefreshToken,
    grace_secs: f64,
) -> Result<Rotation, AppError> {
    let rows = tx
        .query(
            &sql!("auth/rotate_refresh_token.sql"),
            &[
                presented.org_id.as_uuid(),
                presented.session_id.as_uuid(),
                &presented.hash(),
                &next.hash(),
                &grace_secs,
            ],
        )
        .await?;
    let Some(row) = rows.first() else {
        return Ok(Rotation::Invalid);
    };
    let outcome: &str = col(row, "outcome")?;
    Ok(match outcome {
        "rotated" => {
            let role: Option<&str> = col(row, "role")?;
            let user_id: Option<uuid::Uuid> = col(row, "user_id")?;
            let expires_at: Option<chrono::DateTime<chrono::Utc>> = col(row, "expires_at")?;
            match (user_id, role.and_then(Role::parse), expires_at) {
                (Some(user_id), Some(role), Some(expires_at)) => Rotation::Rotated {
                    user_id: UserId::from_uuid(user_id),
                    role,
                    expires_at,
                },
                _ => Rotation::Invalid,
            }
        }
        "reused" => Rotation::Reused,
        _ => Rotation::Invalid,
    })
}
