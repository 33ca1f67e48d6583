//! `sql/queries/invitations/*.sql`.

use tokio_postgres::Row;
use uuid::Uuid;

use super::col;
use crate::db::TenantTx;
use crate::domain::{Invitation, InvitationStatus, Role, UserId};
use crate::error::AppError;
use crate::sql;

impl TryFrom<&Row> for Invitation {
    type Error = AppError;

    fn try_from(row: &Row) -> Result<Self, AppError> {
        let role: &str = col(row, "role")?;
        let accepted: Option<chrono::DateTime<chrono::Utc>> = col(row, "accepted_at")?;
        let revoked: Option<chrono::DateTime<chrono::Utc>> = col(row, "revoked_at")?;
        let expires_at: chrono::DateTime<chrono::Utc> = col(row, "expires_at")?;
        // Judged here rather than in SQL: Citus refuses now() in an UPDATE's RETURNING.
        let expired = expires_at <= chrono::Utc::now();
        let status = match (accepted, revoked, expired) {
            (Some(_), _, _) => InvitationStatus::Accepted,
            (None, Some(_), _) => InvitationStatus::Revoked,
            (None, None, true) => InvitationStatus::Expired,
            (None, None, false) => InvitationStatus::Pending,
        };
        Ok(Self {
            id: col(row, "id")?,
            email: col(row, "email")?,
            role: Role::parse(role).ok_or_else(|| {
                AppError::internal(format!("unknown role {role:?} in invitations"))
            })?,
            invited_by: UserId::from_uuid(col(row, "invited_by")?),
            expires_at,
            created_at: col(row, "created_at")?,
            status,
        })
    }
}

fn one(row: Option<Row>) -> Result<Option<Invitation>, AppError> {
    row.as_ref().map(Invitation::try_from).transpose()
}

pub(crate) struct NewInvitation<'a> {
    pub id: Uuid,
    pub email: &'a str,
    pub role: Role,
    pub token_hash: &'a [u8],
    pub ttl_secs: f64,
    pub invited_by: UserId,
}

pub(crate) async fn insert(
    tx: &mut TenantTx,
    new: &NewInvitation<'_>,
) -> Result<Invitation, AppError> {
    let org_id = *tx.org_id().as_uuid();
    let row = tx
        .query_one(
            &sql!("invitations/insert.sql"),
            &[
                &org_id,
                &new.id,
                &new.email,
                &new.role.as_str(),
                &new.token_hash,
                &new.ttl_secs,
                new.invited_by.as_uuid(),
            ],
        )
        .await?;
    Invitation::try_from(&row)
}

pub(crate) async fn member_exists(tx: &mut TenantTx, email: &str) -> Result<bool, AppError> {
    let org_id = *tx.org_id().as_uuid();
    let row = tx
        .query_one(&sql!("invitations/member_exists.sql"), &[&org_id, &email])
        .await?;
    col(&row, "member")
}

pub(crate) async fn list(
    tx: &mut TenantTx,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Invitation>, AppError> {
    let org_id = *tx.org_id().as_uuid();
    tx.query(&sql!("invitations/list.sql"), &[&org_id, &after, &limit])
        .await?
        .iter()
        .map(Invitation::try_from)
        .collect()
}

pub(crate) async fn get(tx: &mut TenantTx, id: Uuid) -> Result<Option<Invitation>, AppError> {
    let org_id = *tx.org_id().as_uuid();
    one(tx
        .query_opt(&sql!("invitations/get.sql"), &[&org_id, &id])
        .await?)
}

pub(crate) async fn revoke(tx: &mut TenantTx, id: Uuid) -> Result<Option<Invitation>, AppError> {
    let org_id = *tx.org_id().as_uuid();
    one(tx
        .query_opt(&sql!("invitations/revoke.sql"), &[&org_id, &id])
        .await?)
}

pub(crate) async fn resend(
    tx: &mut TenantTx,
    id: Uuid,
    token_hash: &[u8],
    ttl_secs: f64,
) -> Result<Option<Invitation>, AppError> {
    let org_id = *tx.org_id().as_uuid();
    one(tx
        .query_opt(
            &sql!("invitations/resend.sql"),
            &[&org_id, &id, &token_hash, &ttl_secs],
        )
        .await?)
}

/// What redeeming an invitation's token found.
pub(crate) enum Redeemed {
    /// The invitation is now accepted; the inviter's context is entered.
    Accepted { email: String, role: Role },
    /// Any other outcome, named as `app.redeem_invitation` names it.
    Refused(String),
}

pub(crate) async fn redeem(
    tx: &mut TenantTx,
    id: Uuid,
    hash: &[u8],
    new_user: UserId,
) -> Result<Redeemed, AppError> {
    let org_id = *tx.org_id().as_uuid();
    let row = tx
        .query_one(
            &sql!("invitations/redeem.sql"),
            &[&org_id, &id, &hash, new_user.as_uuid()],
        )
        .await?;
    let outcome: String = col(&row, "outcome")?;
    if outcome != "accepted" {
        return Ok(Redeemed::Refused(outcome));
    }
    let role: &str = col(&row, "role")?;
    Ok(Redeemed::Accepted {
        email: col(&row, "email")?,
        role: Role::parse(role)
            .ok_or_else(|| AppError::internal(format!("unknown role {role:?} in invitations")))?,
    })
}
