//! Events: every change a tenant makes records one, in the change's own transaction
//! ([`record`]), and owners and admins read them back in commit order.
//!
//! An event's payload is the resource exactly as the API returns it. The API layer owns that
//! shape, so it implements [`Resource`] beside each response body (the service names no API
//! type): `payload()` is the response body's JSON, by construction.

use serde_json::Value;
use uuid::Uuid;

use super::{AppState, MAX_PAGE_SIZE, authorized, decode_cursor};
use crate::auth::Principal;
use crate::db::TenantTx;
use crate::domain::{Event, EventType, Position, Role};
use crate::error::AppError;
use crate::repo;
pub(crate) use crate::repo::events::Filter;

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

/// A request for a page of events.
pub(crate) struct ListQuery<'a> {
    pub filter: Filter,
    pub cursor: Option<&'a str>,
    pub limit: u32,
}

/// A page of events in commit order.
pub(crate) struct Page {
    pub events: Vec<Event>,
    /// Where the next page starts: after this page's last event, or, for an empty page, where
    /// this one started (`None` only when there is no event and no cursor yet). Polling with it
    /// later returns the events committed since, and never skips one.
    pub next_cursor: Option<String>,
    /// More events match now: fetch the next page at once.
    pub has_more: bool,
}

/// Owners and admins read the organization's events (RLS shows them to no one else).
fn authorize_read(role: Role) -> Result<(), AppError> {
    if role.manages_users() {
        Ok(())
    } else {
        Err(AppError::forbidden("only owners and admins read events"))
    }
}

/// A page of the organization's events after the cursor, in commit order.
pub(crate) async fn list(
    state: &AppState,
    principal: &Principal,
    query: ListQuery<'_>,
) -> Result<Page, AppError> {
    let limit = query.limit.clamp(1, MAX_PAGE_SIZE);
    let mut filter = query.filter;
    filter.types.sort_by_key(|t| t.as_str());
    filter.types.dedup();
    // The cursor is bound to the filters: it cannot be replayed on another list.
    let list = format!(
        "events:{:?}:{:?}:{:?}:{:?}:{:?}",
        filter.types, filter.subject_id, filter.actor_id, filter.since, filter.until
    );
    let after = decode_cursor(state, principal.org_id(), &list, query.cursor)?
        .map(|position| {
            position
                .key
                .and_then(|seq| seq.parse::<i64>().ok())
                .ok_or_else(|| AppError::internal("an authentic events cursor without its seq"))
        })
        .transpose()?;
    let mut tx = state.db.tenant_tx(principal).await?;
    tx.commit_with_next_statement();
    let rows = repo::events::list(&mut tx, &filter, after, i64::from(limit) + 1).await;
    let mut events = authorized(&tx, rows, authorize_read)?;
    tx.commit().await?;
    let has_more = events.len() > limit as usize;
    events.truncate(limit as usize);
    let next_cursor = match events.last() {
        Some(last) => Some(state.cursors.encode(
            principal.org_id(),
            &list,
            &Position {
                id: last.id,
                key: Some(last.seq.to_string()),
            },
        )),
        None => query.cursor.map(str::to_owned),
    };
    Ok(Page {
        events,
        next_cursor,
        has_more,
    })
}
