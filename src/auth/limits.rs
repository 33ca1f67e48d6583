//! Rate limits for log-in and refresh: per account (organization slug + the database's key of
//! the email, or session) and per client address, each a GCRA bucket (governor) refilled per
//! minute. Nothing here folds case: an account's key is the one the database matches with.
//!
//! Memory is bounded: buckets back at full capacity carry no information and are dropped
//! whenever a limiter holds more than [`MAX_KEYS`] keys, and periodically by
//! [`RateLimits::sweep`].

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::domain::{OrgId, SessionId};
use crate::error::AppError;

/// Above this many tracked keys, a limiter drops its idle buckets before adding more.
pub const MAX_KEYS: usize = 100_000;

pub struct RateLimits {
    accounts: DefaultKeyedRateLimiter<String>,
    sessions: DefaultKeyedRateLimiter<(OrgId, SessionId)>,
    clients: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits")
            .field("accounts", &self.accounts.len())
            .field("sessions", &self.sessions.len())
            .field("clients", &self.clients.len())
            .finish()
    }
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

impl RateLimits {
    /// `per_account` attempts a minute for one account or session, `per_client` for one
    /// client address (both also the burst size).
    pub fn new(per_account: u32, per_client: u32) -> Self {
        Self {
            accounts: RateLimiter::dashmap(per_minute(per_account)),
            sessions: RateLimiter::dashmap(per_minute(per_account)),
            clients: RateLimiter::dashmap(per_minute(per_client)),
            clock: DefaultClock::default(),
        }
    }

    /// A log-in attempt from `client`, counted before anything is looked up.
    pub fn check_login_client(&self, client: Option<IpAddr>) -> Result<(), AppError> {
        self.check_client(client)
    }

    /// A log-in attempt on the account `email_key` of organization `org_slug`, where
    /// `email_key` is the email's key as the database computed it (`app.text_key`, returned
    /// by the log-in lookup whether or not the account exists): every spelling that reaches
    /// one account shares its budget, and unknown accounts are limited alike. Checked before
    /// the password is verified.
    pub fn check_login_account(&self, org_slug: &str, email_key: &str) -> Result<(), AppError> {
        let key = format!("{org_slug}\n{email_key}");
        bounded(&self.accounts);
        self.accounts
            .check_key(&key)
            .map_err(|not_until| self.limited(not_until.wait_time_from(self.clock.now())))
    }

    /// A refresh of session `session` of organization `org` from `client`.
    pub fn check_refresh(
        &self,
        client: Option<IpAddr>,
        org: OrgId,
        session: SessionId,
    ) -> Result<(), AppError> {
        self.check_client(client)?;
        bounded(&self.sessions);
        self.sessions
            .check_key(&(org, session))
            .map_err(|not_until| self.limited(not_until.wait_time_from(self.clock.now())))
    }

    fn check_client(&self, client: Option<IpAddr>) -> Result<(), AppError> {
        let Some(client) = client else {
            return Ok(());
        };
        bounded(&self.clients);
        self.clients
            .check_key(&client)
            .map_err(|not_until| self.limited(not_until.wait_time_from(self.clock.now())))
    }

    fn limited(&self, wait: Duration) -> AppError {
        AppError::RateLimited {
            retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
        }
    }

    /// Drops idle buckets of every limiter (run periodically).
    pub fn sweep(&self) {
        self.accounts.retain_recent();
        self.sessions.retain_recent();
        self.clients.retain_recent();
        self.accounts.shrink_to_fit();
        self.sessions.shrink_to_fit();
        self.clients.shrink_to_fit();
    }
}

fn bounded<K: std::hash::Hash + Eq + Clone>(limiter: &DefaultKeyedRateLimiter<K>) {
    if limiter.len() > MAX_KEYS {
        limiter.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_limited_and_told_when_to_retry() {
        let limits = RateLimits::new(3, 1000);
        for _ in 0..3 {
            limits
                .check_login_account("acme", "a@acme.test")
                .expect("within the limit");
        }
        match limits.check_login_account("acme", "a@acme.test") {
            Err(AppError::RateLimited { retry_after_secs }) => {
                assert!((1..=60).contains(&retry_after_secs), "{retry_after_secs}");
            }
            other => panic!("expected a rate limit, got {other:?}"),
        }
        limits
            .check_login_account("acme", "b@acme.test")
            .expect("another account is not affected");
        limits
            .check_login_account("globex", "a@acme.test")
            .expect("the same email in another organization is not affected");
    }

    #[test]
    fn a_client_address_is_limited_across_accounts() {
        let limits = RateLimits::new(1000, 2);
        let ip: IpAddr = "192.0.2.7".parse().expect("ip");
        limits.check_login_client(Some(ip)).expect("first");
        limits.check_login_client(Some(ip)).expect("second");
        assert!(limits.check_login_client(Some(ip)).is_err());
        let other: IpAddr = "192.0.2.8".parse().expect("ip");
        limits
            .check_login_client(Some(other))
            .expect("another client");
    }
}
