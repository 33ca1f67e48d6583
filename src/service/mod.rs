//! Business rules and role-based access control. Each operation opens one transaction in the
//! caller's tenant context, calls repositories, and commits: the commit point is visible here.
//! No HTTP types and no SQL text.

pub(crate) mod auth;
pub(crate) mod organizations;
pub mod sessions;
pub(crate) mod users;

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

use crate::auth::jwt::TokenService;
use crate::auth::limits::RateLimits;
use crate::auth::password::PasswordHasher;
use crate::db::Db;

/// What every service operation may use. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub tokens: Arc<TokenService>,
    pub hasher: PasswordHasher,
    /// When set, `GET /metrics` requires it as a bearer token.
    pub metrics_token: Option<SecretString>,
    pub sessions: SessionPolicy,
    pub limits: Arc<RateLimits>,
}

/// Session lifetimes.
#[derive(Clone, Copy, Debug)]
pub struct SessionPolicy {
    /// Absolute lifetime of a session; refreshing does not extend it.
    pub ttl: Duration,
    /// How long the token replaced by a refresh is still accepted.
    pub refresh_grace: Duration,
}

/// How many times a transaction that failed with a serialization failure or a deadlock
/// (40001, 40P01) is attempted in all before answering 503 `DATABASE_BUSY`.
pub const MAX_ATTEMPTS: u32 = 4;

/// Runs `attempt` (one whole transaction) until it succeeds, fails for another reason, or
/// has failed [`MAX_ATTEMPTS`] times with a retryable conflict. Waits between attempts grow
/// linearly with random jitter, so competing requests do not collide again in lockstep.
pub(crate) async fn retrying<T, F, Fut>(mut attempt: F) -> Result<T, crate::error::AppError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, crate::error::AppError>>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(err) if err.is_retryable() && tries < MAX_ATTEMPTS => {
                let jitter = u64::from(getrandom::u32().unwrap_or(0) % 20);
                let wait = Duration::from_millis(10 * u64::from(tries) + jitter);
                tracing::debug!(tries, ?wait, "retrying a transaction after a conflict");
                tokio::time::sleep(wait).await;
                tries += 1;
            }
            result => return result,
        }
    }
}
