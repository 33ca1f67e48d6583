//! `sql/queries/user_tokens/*.sql`: password reset and email verification tokens.

use uuid::Uuid;

use super::col;
use crate::auth::email_token::TokenKind;
use crate::db::TenantTx;
use crate::domain::UserId;
use crate::error::AppError;
use crate::sql;

pub(crate) struct NewUserToken<'a> {
    pub id: Uuid,
    pub user_id: UserId,
    pub kind: TokenKind,
    /// The address being verified (its key), for email verification.
    pub email: Option<&'a str>,
    pub token_hash: &'a [u8],
    pub ttl_secs: f64,
}

pub(crate) async fn insert(tx: &mut TenantTx, new: &NewUserToken<'_>) -> Result<(), AppError> {
    let org_id = *tx.org_id().as_uuid();
    tx.execute(
        &sql!("user_tokens/insert.sql"),
        &[
            &org_id,
            &new.id,
            new.user_id.as_uuid(),
            &new.kind.as_str(),
            &new.email,
            &new.token_hash,
            &new.ttl_secs,
        ],
    )
    .await?;
    Ok(())
}

/// What redeeming a token found.
pub(crate) enum Redeemed {
    /// The token is now used; the user's context is entered. `email` is the address being
    /// verified (email verification only).
    Used {
        user_id: UserId,
        email: Option<String>,
    },
    /// Any other outcome, named as `app.redeem_user_token` names it.
    Refused(String),
}

pub(crate) async fn redeem(
    tx: &mut TenantTx,
    id: Uuid,
    kind: TokenKind,
    hash: &[u8],
) -> Result<Redeemed, AppError> {
    let org_id = *tx.org_id().as_uuid();
    let row = tx
        .query_one(
            &sql!("user_tokens/redeem.sql"),
            &[&org_id, &id, &kind.as_str(), &hash],
        )
        .await?;
    let outcome: String = col(&row, "outcome")?;
    if outcome != "used_now" {
        return Ok(Redeemed::Refused(outcome));
    }
    Ok(Redeemed::Used {
        user_id: UserId::from_uuid(col(&row, "user_id")?),
        email: col(&row, "email")?,
    })
}

/// Marks the user's other unused tokens of `kind` used.
pub(crate) async fn use_all(
    tx: &mut TenantTx,
    user: UserId,
    kind: TokenKind,
) -> Result<u64, AppError> {
    let org_id = *tx.org_id().as_uuid();
    tx.execute(
        &sql!("user_tokens/use_all.sql"),
        &[&org_id, user.as_uuid(), &kind.as_str()],
    )
    .await
}
