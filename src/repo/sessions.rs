//! `sql/queries/sessions/*.sql`.

use tokio_postgres::Row;

use chrono::{DateTime, Utc};

use super::col;
use crate::db::TenantTx;
use crate::domain::{Session, SessionId, UserId};
use crate::error::AppError;
use crate::sql;

pub(crate) struct NewSession<'a> {
    pub id: SessionId,
    pub refresh_hash: &'a [u8],
    pub user_agent: Option<&'a str>,
    pub client_addr: Option<&'a str>,
    pub lifetime_secs: f64,
}

/// Opens a session for the transaction's user; returns its expiry.
pub(crate) async fn insert(
    tx: &mut TenantTx,
    session: &NewSession<'_>,
) -> Result<DateTime<Utc>, AppError> {
    let org_id = *tx.org_id().as_uuid();
    let user_id = *tx
        .user_id()
        .ok_or_else(|| AppError::internal("a session is a person's"))?
        .as_uuid();
    let row = tx
        .query_one(
            &sql!("sessions/insert.sql"),
            &[
                &org_id,
                session.id.as_uuid(),
                &user_id,
                &session.refresh_hash,
                &session.user_agent,
                &session.client_addr,
                &session.lifetime_secs,
            ],
        )
        .await?;
    col(&row, "expires_at")
}

impl TryFrom<&Row> for Session {
    type Error = AppError;

    fn try_from(row: &Row) -> Result<Self, AppError> {
        Ok(Session {
            id: SessionId::from_uuid(col(row, "id")?),
            user_agent: col(row, "user_agent")?,
            client_addr: col(row, "client_addr")?,
            created_at: col(row, "created_at")?,
            last_used_at: col(row, "last_used_at")?,
            expires_at: col(row, "expires_at")?,
        })
    }
}

pub(crate) async fn list(tx: &mut TenantTx, user: UserId) -> Result<Vec<Session>, AppError> {
    let org_id = *tx.org_id().as_uuid();
    tx.query(&sql!("sessions/list.sql"), &[&org_id, user.as_uuid()])
        .await?
        .iter()
        .map(Session::try_from)
        .collect()
}

/// Ends one live session of `user`; returns it, or None when there was none.
pub(crate) async fn revoke(
    tx: &mut TenantTx,
    user: UserId,
    id: SessionId,
) -> Result<Option<Session>, AppError> {
    let org_id = *tx.org_id().as_uuid();
    tx.query_opt(
        &sql!("sessions/revoke.sql"),
        &[&org_id, user.as_uuid(), id.as_uuid()],
    )
    .await?
    .as_ref()
    .map(Session::try_from)
    .transpose()
}

/// Ends every live session of `user` except `keep`; returns the ended sessions.
pub(crate) async fn revoke_all(
    tx: &mut TenantTx,
    user: UserId,
    keep: Option<SessionId>,
) -> Result<Vec<Session>, AppError> {
    let org_id = *tx.org_id().as_uuid();
    let keep = keep.map(|id| *id.as_uuid());
    tx.query(
        &sql!("sessions/revoke_all.sql"),
        &[&org_id, user.as_uuid(), &keep],
    )
    .await?
    .iter()
    .map(Session::try_from)
    .collect()
}
