//! `sql/queries/events/*.sql`.

use serde_json::Value;
use uuid::Uuid;

use crate::db::TenantTx;
use crate::domain::EventType;
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
