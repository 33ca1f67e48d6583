//! Business rules and role-based access control. Each operation opens one transaction in the
//! caller's tenant context, calls repositories, and commits: the commit point is visible here.
//! No HTTP types and no SQL text.

pub(crate) mod api_keys;
pub(crate) mod auth;
pub(crate) mod events;
pub(crate) mod idempotency;
pub(crate) mod invitations;
pub(crate) mod organizations;
pub(crate) mod outbox;
pub(crate) mod projects;
pub(crate) mod recovery;
pub mod sessions;
pub(crate) mod users;
pub(crate) mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use crate::auth::jwt::TokenService;
use crate::auth::limits::RateLimits;
use crate::auth::password::PasswordHasher;
use crate::auth::refresh::SuccessorKey;
use crate::auth::{Person, Principal};
use crate::db::{Db, TenantTx};
use crate::domain::{CursorKey, OrgId, Position, Role};
use crate::error::AppError;
use crate::mail::Mailer;
use crate::retry::Backoff;

/// What every service operation may use. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub tokens: Arc<TokenService>,
    pub hasher: PasswordHasher,
    pub sessions: SessionPolicy,
    pub limits: Arc<RateLimits>,
    /// Signs pagination cursors.
    pub cursors: CursorKey,
    /// Sends the outbox; requests only wake it.
    pub mail: Arc<Mailer>,
    pub email: EmailPolicy,
    /// The webhook rules that depend on the settings.
    pub webhooks: webhooks::WebhookPolicy,
}

/// What the email flows need to know.
#[derive(Clone, Debug)]
pub struct EmailPolicy {
    /// The base of links in emails, without a trailing slash.
    pub public_url: String,
    pub invitation_ttl: Duration,
    pub password_reset_ttl: Duration,
    pub verification_ttl: Duration,
    /// Log-in requires a verified address.
    pub require_verified: bool,
}

/// `If-Match`: the version the client last read, or any (`*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    Any,
    Version(i64),
}

impl Precondition {
    /// The version a compare-and-set must find, if any.
    pub(crate) fn expected(precondition: Option<Self>) -> Option<i64> {
        match precondition {
            Some(Precondition::Version(version)) => Some(version),
            _ => None,
        }
    }

    /// 412 when the current `version` is not the one the client read.
    pub(crate) fn check(precondition: Option<Self>, version: i64) -> Result<(), AppError> {
        match Self::expected(precondition) {
            Some(expected) if expected != version => Err(AppError::PreconditionFailed),
            _ => Ok(()),
        }
    }
}

/// Page size when a list request names none.
pub const DEFAULT_PAGE_SIZE: u32 = 20;
/// The largest page a list returns.
pub const MAX_PAGE_SIZE: u32 = 100;

/// The position a client's cursor points at, for list `list` of `org`; a cursor that is not
/// ours (forged, altered, of another organization or list) is 400 `INVALID_CURSOR`.
pub(crate) fn decode_cursor(
    state: &AppState,
    org: OrgId,
    list: &str,
    raw: Option<&str>,
) -> Result<Option<Position>, AppError> {
    raw.map(|raw| {
        state
            .cursors
            .decode(org, list, raw)
            .ok_or_else(|| AppError::BadRequest {
                code: "INVALID_CURSOR",
                message:
                    "the cursor is not valid for this list; use next_cursor from a previous page"
                        .into(),
                details: vec![crate::error::FieldError::new(
                    "cursor",
                    "not a valid cursor",
                )],
            })
    })
    .transpose()
}

/// Cuts the `limit + 1` rows a list query returned into a page and the next page's cursor
/// (None on the last page).
pub(crate) fn paginate<T>(
    state: &AppState,
    org: OrgId,
    list: &str,
    mut rows: Vec<T>,
    limit: u32,
    position_of: impl Fn(&T) -> Position,
) -> (Vec<T>, Option<String>) {
    let limit = limit as usize;
    if rows.len() <= limit {
        return (rows, None);
    }
    rows.truncate(limit);
    let next = rows
        .last()
        .map(|last| state.cursors.encode(org, list, &position_of(last)));
    (rows, next)
}

/// The outcome of a write sent before the caller's role was known (the role comes back in
/// the same round trip), once `authorize` has judged that role. A refusal wins over the
/// write's own error, so a caller without the right learns nothing from a 409; a role that
/// never arrived fails the request rather than skipping the check.
pub(crate) fn authorized<T>(
    tx: &TenantTx,
    outcome: Result<T, AppError>,
    authorize: impl FnOnce(Role) -> Result<(), AppError>,
) -> Result<T, AppError> {
    match tx.role() {
        Ok(role) => authorize(role).and(outcome),
        Err(unknown) => Err(outcome.err().unwrap_or(unknown)),
    }
}

/// The calling person, for the operations only a person may call (their own sessions,
/// log-out, creating and revoking API keys). An API key is first checked like on any other
/// operation (401 when it is unknown, revoked or expired), then refused: 403 `PERSON_ONLY`.
pub(crate) async fn require_person(
    state: &AppState,
    principal: &Principal,
) -> Result<Person, AppError> {
    if let Some(person) = principal.person() {
        return Ok(person);
    }
    state.db.tenant_tx(principal).await?.current_role().await?;
    principal.require_person()
}

/// Session lifetimes and refresh-token rotation.
#[derive(Clone, Debug)]
pub struct SessionPolicy {
    /// Absolute lifetime of a session; refreshing does not extend it.
    pub ttl: Duration,
    /// How long after a rotation the token it replaced still refreshes, to the same successor.
    pub refresh_grace: Duration,
    /// Derives each refresh token's successor.
    pub successors: SuccessorKey,
}

/// How many times a transaction that failed with a serialization failure or a deadlock
/// (40001, 40P01) is attempted in all before answering 503 `DATABASE_BUSY`.
pub const MAX_ATTEMPTS: u32 = 4;

/// How conflicting transactions are retried: [`MAX_ATTEMPTS`] in all, pauses from 10 ms.
const CONFLICT_BACKOFF: Backoff = Backoff {
    first: Duration::from_millis(10),
    max: Duration::from_millis(80),
    attempts: MAX_ATTEMPTS,
    within: Duration::MAX,
};

/// Runs `attempt` (one whole transaction) until it succeeds, fails for another reason, or
/// has failed [`MAX_ATTEMPTS`] times with a retryable conflict.
pub(crate) async fn retrying<T, F, Fut>(attempt: F) -> Result<T, AppError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, AppError>>,
{
    CONFLICT_BACKOFF
        .retry(attempt, AppError::is_retryable, |tries, _, wait| {
            tracing::debug!(tries, ?wait, "retrying a transaction after a conflict");
        })
        .await
}
