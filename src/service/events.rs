//! Events: every change a tenant makes records one, in the change's own transaction
//! ([`record`]), and owners and admins read them back in commit order.
//!
//! An event's payload is the resource exactly as the API returns it. The API layer owns that
//! shape, so it implements [`Resource`] beside each response body (the service names no API
//! type): `payload()` is the response body's JSON, by construction.

use serde_json::Value;
use uuid::Uuid;

use crate::db::TenantTx;
use crate::domain::EventType;
use crate::repo;

/// A record the API returns, as an event payload.
pub(crate) trait Resource {
    /// The id of the resource (the event's subject).
    fn subject_id(&self) -> Uuid;
    /// The response body the API would send for it.
    fn payload(&self) -> Value;
}

/// Records that `event_type` happened to `resource`, in `tx`: the event is written last, in
/// COMMIT's round trip, and commits (or rolls back) with the change.
pub(crate) fn record<R: Resource>(tx: &mut TenantTx, event_type: EventType, resource: &R) {
    repo::events::emit(tx, event_type, resource.subject_id(), resource.payload());
}
