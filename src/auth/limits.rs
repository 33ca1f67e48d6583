//! Rate limits for sign-up, log-in and refresh: per account (organization slug + the
//! database's key of the email, or session) and per client address; and for API keys, per
//! key. Each is a GCRA bucket (governor) refilled per minute (per hour for sign-ups). Nothing here folds case: an
//! account's key is the one the database matches with.
//!
//! Memory is bounded: buckets back at full capacity carry no information and are dropped
//! whenever a limiter holds more than [`MAX_KEYS`] keys, and periodically by
//! [`RateLimits::sweep`].

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::domain::{OrgId, SessionId, UserId};
use crate::error::AppError;

/// Above this many tracked keys, a limiter drops its idle buckets before adding more.
pub const MAX_KEYS: usize = 100_000;

/// How many attempts each limiter allows; each is also its burst size.
#[derive(Debug, Clone, Copy)]
pub struct Quotas {
    /// Log-in attempts a minute for one account; refreshes a minute for one session; checks
    /// of one user's current password (before changing their credentials) a minute.
    pub per_account: u32,
    /// Log-in and refresh attempts a minute from one client address.
    pub per_client: u32,
    /// Sign-ups an hour from one client address (each costs an argon2id hash).
    pub signups_per_hour: u32,
    /// Failed refreshes (tokens that do not verify) a minute from one client address.
    pub refresh_failures_per_minute: u32,
    /// Requests a minute with one API key.
    pub api_key_requests_per_minute: u32,
    /// Invitations (sent or resent) an hour for one organization.
    pub invitations_per_hour: u32,
    /// Password reset requests an hour for one account (slug and email key).
    pub password_resets_per_hour: u32,
}

pub struct RateLimits {
    accounts: DefaultKeyedRateLimiter<String>,
    sessions: DefaultKeyedRateLimiter<(OrgId, SessionId)>,
    reauthentications: DefaultKeyedRateLimiter<(OrgId, UserId)>,
    clients: DefaultKeyedRateLimiter<IpAddr>,
    signups: DefaultKeyedRateLimiter<IpAddr>,
    refresh_failures: DefaultKeyedRateLimiter<IpAddr>,
    /// By the SHA-256 of the key's whole text, as presented.
    api_keys: DefaultKeyedRateLimiter<[u8; 32]>,
    invitations: DefaultKeyedRateLimiter<OrgId>,
    password_resets: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl std::fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimits")
            .field("accounts", &self.accounts.len())
            .field("sessions", &self.sessions.len())
            .field("reauthentications", &self.reauthentications.len())
            .field("clients", &self.clients.len())
            .field("signups", &self.signups.len())
            .field("refresh_failures", &self.refresh_failures.len())
            .field("api_keys", &self.api_keys.len())
            .finish()
    }
}

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

fn per_hour(n: u32) -> Quota {
    Quota::per_hour(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
}

impl RateLimits {
    pub fn new(quotas: Quotas) -> Self {
        Self {
            accounts: RateLimiter::dashmap(per_minute(quotas.per_account)),
            sessions: RateLimiter::dashmap(per_minute(quotas.per_account)),
            reauthentications: RateLimiter::dashmap(per_minute(quotas.per_account)),
            clients: RateLimiter::dashmap(per_minute(quotas.per_client)),
            signups: RateLimiter::dashmap(per_hour(quotas.signups_per_hour)),
            refresh_failures: RateLimiter::dashmap(per_minute(quotas.refresh_failures_per_minute)),
            api_keys: RateLimiter::dashmap(per_minute(quotas.api_key_requests_per_minute)),
            invitations: RateLimiter::dashmap(per_hour(quotas.invitations_per_hour)),
            password_resets: RateLimiter::dashmap(per_hour(quotas.password_resets_per_hour)),
            clock: DefaultClock::default(),
        }
    }

    /// A sign-up from `client`: checked before its password is hashed.
    pub fn check_signup(&self, client: Option<IpAddr>) -> Result<(), AppError> {
        let Some(client) = client else {
            return Ok(());
        };
        bounded(&self.signups);
        self.signups
            .check_key(&client)
            .map_err(|not_until| self.limited(not_until.wait_time_from(self.clock.now())))
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

    /// A refresh of session `session` of organization `org`, counted only once its token has
    /// verified: anyone can name a session (its id is in every token), so counting before
    /// would let forged tokens spend the victim's budget.
    pub fn check_session(&self, org: OrgId, session: SessionId) -> Result<(), AppError> {
        bounded(&self.sessions);
        self.sessions
            .check_key(&(org, session))
            .map_err(|not_until| self.limited(not_until.wait_time_from(self.clock.now())))
    }

    /// A check of `user`'s current password, before a change of their own credentials:
    /// limited like log-in, so a stolen access token cannot guess the password either.
    pub fn check_reauthentication(&self, org: OrgId, user: UserId) -> Result<(), AppError> {
        bounded(&self.reauthentications);
        self.reauthentications
            .check_key(&(org, user))
            .map_err(|not_until| self.limited(not_until.wait_time_from(self.clock.now())))
    }

    /// A refresh whose token did not verify, from `client`: `Err` (429) once the client has
    /// spent its failure budget.
    pub fn check_refresh_failure(&self, client: Option<IpAddr>) -> Result<(), AppError> {
        let Some(client) = client else {
            return Ok(());
        };
        bounded(&self.refresh_failures);
        self.refresh_failures
            .check_key(&client)
            .map_err(|not_until| self.limited(not_until.wait_time_from(self.clock.now())))
    }

    /// A request with the API key whose text hashes to `presented` (SHA-256 of the whole key
    /// as sent), before any look-up. Each distinct text has its own budget: the key's holder
    /// spends the key's, and a caller who knows a key's id but not its secret only spends the
    /// budget of the wrong key it made up.
    pub fn check_api_key(&self, presented: [u8; 32]) -> Result<(), AppError> {
        bounded(&self.api_keys);
        self.api_keys
            .check_key(&presented)
            .map_err(|not_until| self.limited(not_until.wait_time_from(self.clock.now())))
    }

    /// Any log-in or refresh attempt from `client`, before any work.
    pub fn check_client(&self, client: Option<IpAddr>) -> Result<(), AppError> {
        let Some(client) = client else {
            return Ok(());
        };
        bounded(&self.clients);
        self.clients
            .check_key(&client)
            .map_err(|not_until| self.limited(not_until.wait_time_from(self.clock.now())))
    }

    /// An invitation sent or resent by organization `org`, before anything is written.
    pub fn check_invitation(&self, org: OrgId) -> Result<(), AppError> {
        bounded(&self.invitations);
        self.invitations
            .check_key(&org)
            .map_err(|not_until| self.limited(not_until.wait_time_from(self.clock.now())))
    }

    /// A password reset request for the account `email_key` of organization `org_slug` (the
    /// key the database computed, whether or not the account exists, as for log-in).
    pub fn check_password_reset(&self, org_slug: &str, email_key: &str) -> Result<(), AppError> {
        let key = format!("{org_slug}\n{email_key}");
        bounded(&self.password_resets);
        self.password_resets
            .check_key(&key)
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
        self.invitations.retain_recent();
        self.password_resets.retain_recent();
        self.sessions.retain_recent();
        self.reauthentications.retain_recent();
        self.clients.retain_recent();
        self.signups.retain_recent();
        self.refresh_failures.retain_recent();
        self.api_keys.retain_recent();
        self.accounts.shrink_to_fit();
        self.sessions.shrink_to_fit();
        self.reauthentications.shrink_to_fit();
        self.clients.shrink_to_fit();
        self.signups.shrink_to_fit();
        self.refresh_failures.shrink_to_fit();
        self.api_keys.shrink_to_fit();
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

    fn quotas(per_account: u32, per_client: u32) -> Quotas {
        Quotas {
            per_account,
            per_client,
            signups_per_hour: 2,
            refresh_failures_per_minute: 2,
            api_key_requests_per_minute: 2,
            invitations_per_hour: 2,
            password_resets_per_hour: 2,
        }
    }

    #[test]
    fn refresh_failures_are_limited_per_client_and_sessions_apart() {
        let limits = RateLimits::new(quotas(1, 1000));
        let ip: IpAddr = "192.0.2.7".parse().expect("ip");
        limits.check_refresh_failure(Some(ip)).expect("first");
        limits.check_refresh_failure(Some(ip)).expect("second");
        assert!(limits.check_refresh_failure(Some(ip)).is_err());
        let (org, session) = (OrgId::generate(), SessionId::generate());
        limits
            .check_session(org, session)
            .expect("failures spend nothing of a session's budget");
        assert!(limits.check_session(org, session).is_err());
    }

    #[test]
    fn each_presented_api_key_has_its_own_budget() {
        let limits = RateLimits::new(quotas(1000, 1000));
        let key = [7u8; 32];
        limits.check_api_key(key).expect("first");
        limits.check_api_key(key).expect("second");
        assert!(matches!(
            limits.check_api_key(key),
            Err(AppError::RateLimited { .. })
        ));
        limits
            .check_api_key([8u8; 32])
            .expect("another key text (a guess at the secret) spends nothing of the first's");
    }

    #[test]
    fn sign_ups_are_limited_per_client_address_for_the_hour() {
        let limits = RateLimits::new(quotas(1000, 1000));
        let ip: IpAddr = "192.0.2.7".parse().expect("ip");
        limits.check_signup(Some(ip)).expect("first");
        limits.check_signup(Some(ip)).expect("second");
        match limits.check_signup(Some(ip)) {
            Err(AppError::RateLimited { retry_after_secs }) => {
                assert!(
                    (60..=3600).contains(&retry_after_secs),
                    "{retry_after_secs}"
                );
            }
            other => panic!("expected a rate limit, got {other:?}"),
        }
        let other: IpAddr = "192.0.2.8".parse().expect("ip");
        limits.check_signup(Some(other)).expect("another client");
    }

    #[test]
    fn an_account_is_limited_and_told_when_to_retry() {
        let limits = RateLimits::new(quotas(3, 1000));
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
        let limits = RateLimits::new(quotas(1000, 2));
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
