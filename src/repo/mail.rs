//! `sql/queries/mail/*.sql`: the mail worker's functions, run in a `WorkerTx`.

use uuid::Uuid;

use super::col;
use crate::db::WorkerTx;
use crate::domain::OrgId;
use crate::error::AppError;
use crate::sql;

/// An email claimed for sending.
pub(crate) struct Claimed {
    pub id: Uuid,
    pub kind: String,
    pub recipient: String,
    pub data: serde_json::Value,
    /// Attempts so far, this one included.
    pub attempts: i32,
}

impl std::fmt::Debug for Claimed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the data: it may hold a link with a token.
        f.debug_struct("Claimed")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

pub(crate) async fn due_orgs(tx: &mut WorkerTx, limit: i32) -> Result<Vec<OrgId>, AppError> {
    tx.query(&sql!("mail/due_orgs.sql"), &[&limit])
        .await?
        .iter()
        .map(|row| Ok(OrgId::from_uuid(col(row, "org_id")?)))
        .collect()
}

pub(crate) async fn claim(
    tx: &mut WorkerTx,
    org: OrgId,
    limit: i32,
    lease_secs: f64,
) -> Result<Vec<Claimed>, AppError> {
    tx.query(
        &sql!("mail/claim.sql"),
        &[org.as_uuid(), &limit, &lease_secs],
    )
    .await?
    .iter()
    .map(|row| {
        Ok(Claimed {
            id: col(row, "id")?,
            kind: col(row, "kind")?,
            recipient: col(row, "recipient")?,
            data: col(row, "data")?,
            attempts: col(row, "attempts")?,
        })
    })
    .collect()
}

/// What sending one email did.
pub(crate) enum Finish<'a> {
    Sent,
    /// Permanently refused (or out of attempts): never tried again.
    Failed(&'a str),
    /// Try again after this many seconds.
    Retry(&'a str, f64),
}

pub(crate) async fn finish(
    tx: &mut WorkerTx,
    org: OrgId,
    id: Uuid,
    outcome: Finish<'_>,
) -> Result<(), AppError> {
    let (outcome, error, after): (&str, Option<&str>, f64) = match outcome {
        Finish::Sent => ("sent", None, 0.0),
        Finish::Failed(error) => ("failed", Some(error), 0.0),
        Finish::Retry(error, after) => ("retry", Some(error), after),
    };
    tx.query(
        &sql!("mail/finish.sql"),
        &[org.as_uuid(), &id, &outcome, &error, &after],
    )
    .await?;
    Ok(())
}
