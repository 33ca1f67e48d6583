//! `sql/queries/events/*.sql`.

use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio_postgres::Row;
use uuid::Uuid;

use super::col;
use crate::db::TenantTx;
use crate::domain::{Actor, Event, EventType};
use crate::error::AppError;
use crate::sql;

/// Queues the event to be written last, in COMMIT's round trip (`events/emit.sql`). The actor
/// and the time are the transaction's; the request id is the current request's.
pub(crate) fn emit(tx: &mut TenantTx, event_type: EventType, subject_id: Uuid, payload: Value) {
    let org_id = *tx.org_id().as_uuid();
    tx.run_before_commit(
        sql!("events/emit.sql"),
        vec![
            Box::new(org_id),
            Box::new(Uuid::now_v7()),
            Box::new(event_type.as_str()),
            Box::new(subject_id),
            Box::new(crate::request::request_id()),
            Box::new(payload),
        ],
    );
}

impl TryFrom<&Row> for Event {
    type Error = AppError;

    fn try_from(row: &Row) -> Result<Self, AppError> {
        let event_type: &str = col(row, "type")?;
        let actor_type: Option<&str> = col(row, "actor_type")?;
        Ok(Self {
            id: col(row, "id")?,
            seq: col(row, "seq")?,
            event_type: EventType::parse(event_type)
                .ok_or_else(|| AppError::internal(format!("unknown event type {event_type:?}")))?,
            subject_id: col(row, "subject_id")?,
            actor: Actor::from_columns(actor_type, col(row, "actor_id")?)
                .map_err(AppError::internal)?,
            request_id: col(row, "request_id")?,
            payload: col(row, "payload")?,
            created_at: col(row, "created_at")?,
        })
    }
}

/// What a list of events is narrowed to.
#[derive(Debug, Default)]
pub(crate) struct Filter {
    /// Any of these types (all when empty).
    pub types: Vec<EventType>,
    pub subject_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    /// Created at or after.
    pub since: Option<DateTime<Utc>>,
    /// Created before.
    pub until: Option<DateTime<Utc>>,
}

/// Up to `limit` events after `after_seq`, in commit order (`events/list.sql`).
pub(crate) async fn list(
    tx: &mut TenantTx,
    filter: &Filter,
    after_seq: Option<i64>,
    limit: i64,
) -> Result<Vec<Event>, AppError> {
    let org_id = *tx.org_id().as_uuid();
    let types: Option<Vec<&str>> =
        (!filter.types.is_empty()).then(|| filter.types.iter().map(|t| t.as_str()).collect());
    tx.query(
        &sql!("events/list.sql"),
        &[
            &org_id,
            &types,
            &filter.subject_id,
            &filter.actor_id,
            &filter.since,
            &filter.until,
            &after_seq,
            &limit,
        ],
    )
    .await?
    .iter()
    .map(Event::try_from)
    .collect()
}
