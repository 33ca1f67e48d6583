//! Typed settings, read from `TENANTRY_*` environment variables (or the equivalent flags) and
//! validated once at start-up. `tenantry --help` documents every one of them.
//!
//! Secrets (the JWT secret, database passwords) never appear in `Debug` output or logs.

use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use secrecy::{ExposeSecret, SecretString};

/// Minimum JWT secret length in bytes (HS256 wants a key at least as long as its output).
pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// Tenantry: a multi-tenant SaaS API whose tenant isolation is enforced by PostgreSQL
/// row-level security.
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Create the database if needed, migrate, run the RLS self-check and serve (default).
    Serve,
    /// Create the database if needed and apply pending migrations, then exit.
    Migrate,
    /// Delete rows removed longer ago than TENANTRY_RETENTION_DAYS (and ended sessions,
    /// expired idempotency keys), then exit. Run it daily (cron, a Kubernetes CronJob).
    Purge,
    /// On a Citus coordinator, after `migrate`: make organizations a reference table,
    /// distribute every other table by org_id (colocated) and let the roles Citus connects as
    /// log in to the workers, then exit. Idempotent; `migrate` repeats it once distributed.
    Distribute,
    /// Run the webhook relay and the mail worker alone (without the HTTP API): deliver the
    /// organizations' events to their webhook endpoints and send the email outbox until
    /// SIGTERM. `serve` runs both too unless TENANTRY_WEBHOOK_RELAY=false or
    /// TENANTRY_MAIL_WORKER=false; any number may run at once.
    Relay,
    /// Print the OpenAPI document (YAML by default) and exit; needs no database.
    Openapi(OpenapiArgs),
}

#[derive(Debug, Clone, Args)]
pub struct OpenapiArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = SpecFormat::Yaml)]
    pub format: SpecFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SpecFormat {
    Yaml,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Environment {
    /// Safe local defaults: a missing JWT secret is generated (with a warning), logs are text.
    Development,
    /// Refuses to start without a configured JWT secret; logs are JSON.
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Every setting of the service. Tests build this value directly instead of touching the
/// process environment.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Settings (each also read from the environment)")]
pub struct Settings {
    /// Deployment environment.
    #[arg(long = "env", env = "TENANTRY_ENV", value_enum, default_value_t = Environment::Development)]
    pub environment: Environment,

    /// Address and port the HTTP server binds to.
    #[arg(long, env = "TENANTRY_LISTEN_ADDR", default_value = "127.0.0.1:8080")]
    pub listen_addr: SocketAddr,

    /// PostgreSQL URL of the request pool (postgres://user:password@host:port/dbname). In
    /// production its user should be a NOSUPERUSER NOINHERIT role that is a member of
    /// `tenantry_app` and `tenantry_anon` only.
    #[arg(
        long,
        env = "TENANTRY_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/tenantry",
        value_parser = parse_pg_config,
        hide_env_values = true
    )]
    pub database_url: tokio_postgres::Config,

    /// PostgreSQL URL used to create the database and run migrations (the schema owner).
    /// Defaults to TENANTRY_DATABASE_URL.
    #[arg(long, env = "TENANTRY_MIGRATION_DATABASE_URL", value_parser = parse_pg_config, hide_env_values = true)]
    pub migration_database_url: Option<tokio_postgres::Config>,

    /// Create the database on start-up when it does not exist.
    #[arg(long, env = "TENANTRY_CREATE_DATABASE", default_value_t = true, action = ArgAction::Set)]
    pub create_database: bool,

    /// Apply pending migrations on start-up (`serve`).
    #[arg(long, env = "TENANTRY_MIGRATE_ON_START", default_value_t = true, action = ArgAction::Set)]
    pub migrate_on_start: bool,

    /// Maximum number of pooled database connections.
    #[arg(long, env = "TENANTRY_DB_POOL_SIZE", default_value_t = 16,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub db_pool_size: u32,

    /// How long a request waits for a pooled connection before answering 503, in milliseconds.
    #[arg(long, env = "TENANTRY_DB_ACQUIRE_TIMEOUT_MS", default_value_t = 2000,
          value_parser = clap::value_parser!(u64).range(1..=600_000))]
    pub db_acquire_timeout_ms: u64,

    /// Timeout for opening a database connection, in milliseconds.
    #[arg(long, env = "TENANTRY_DB_CONNECT_TIMEOUT_MS", default_value_t = 3000,
          value_parser = clap::value_parser!(u64).range(1..=600_000))]
    pub db_connect_timeout_ms: u64,

    /// `statement_timeout` of pooled connections, in milliseconds (0 disables it).
    #[arg(long, env = "TENANTRY_DB_STATEMENT_TIMEOUT_MS", default_value_t = 5000)]
    pub db_statement_timeout_ms: u64,

    /// `idle_in_transaction_session_timeout` of pooled connections, in milliseconds (0
    /// disables it): the server ends a session whose transaction sits idle this long.
    #[arg(
        long,
        env = "TENANTRY_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS",
        default_value_t = 10_000
    )]
    pub db_idle_in_transaction_timeout_ms: u64,

    /// Secret for signing access tokens (HS256), at least 32 bytes. Required in production;
    /// generated per process (with a warning) in development.
    #[arg(long, env = "TENANTRY_JWT_SECRET", value_parser = parse_secret, hide_env_values = true)]
    pub jwt_secret: Option<SecretString>,

    /// Earlier JWT secrets, comma-separated: tokens they signed (identified by the `kid`
    /// header) still verify until they expire, but nothing new is signed with them. Rotate
    /// keys by moving the current secret here and setting a new TENANTRY_JWT_SECRET.
    #[arg(long, env = "TENANTRY_JWT_PREVIOUS_SECRETS", value_parser = parse_secret,
          value_delimiter = ',', hide_env_values = true)]
    pub jwt_previous_secrets: Vec<SecretString>,

    /// `iss` claim of issued tokens, required on verification.
    #[arg(long, env = "TENANTRY_JWT_ISSUER", default_value = "tenantry")]
    pub jwt_issuer: String,

    /// `aud` claim of issued tokens, required on verification.
    #[arg(long, env = "TENANTRY_JWT_AUDIENCE", default_value = "tenantry-api")]
    pub jwt_audience: String,

    /// Lifetime of access tokens, in seconds.
    #[arg(long, env = "TENANTRY_ACCESS_TOKEN_TTL_SECS", default_value_t = 900,
          value_parser = clap::value_parser!(u64).range(30..=86_400))]
    pub access_token_ttl_secs: u64,

    /// Longest time a request may take before it is abandoned (its transaction rolled back)
    /// and answered 503 `TIMEOUT`, in milliseconds.
    #[arg(long, env = "TENANTRY_REQUEST_TIMEOUT_MS", default_value_t = 30_000,
          value_parser = clap::value_parser!(u64).range(100..=3_600_000))]
    pub request_timeout_ms: u64,

    /// After SIGTERM or Ctrl-C: how long in-flight requests may take to finish, in
    /// milliseconds.
    #[arg(long, env = "TENANTRY_SHUTDOWN_GRACE_MS", default_value_t = 30_000,
          value_parser = clap::value_parser!(u64).range(0..=3_600_000))]
    pub shutdown_grace_ms: u64,

    /// At start-up, how long to keep retrying (with backoff) while the database is
    /// unreachable before giving up, in milliseconds.
    #[arg(long, env = "TENANTRY_DB_STARTUP_TIMEOUT_MS", default_value_t = 30_000,
          value_parser = clap::value_parser!(u64).range(0..=3_600_000))]
    pub db_startup_timeout_ms: u64,

    /// When set, `GET /metrics` requires `Authorization: Bearer <this token>`. Letters,
    /// digits and `-._~+/` only (a bearer token's alphabet), at least 16 of them.
    #[arg(long, env = "TENANTRY_METRICS_TOKEN", value_parser = parse_bearer_secret, hide_env_values = true)]
    pub metrics_token: Option<SecretString>,

    /// Log-in attempts a minute for one account (organization slug and email), and refreshes
    /// a minute for one session (counted once the refresh token verifies); more get 429
    /// `RATE_LIMITED` with `Retry-After`.
    #[arg(long, env = "TENANTRY_ACCOUNT_ATTEMPTS_PER_MINUTE", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub account_attempts_per_minute: u32,

    /// Log-in and refresh attempts a minute from one client address (the peer address of the
    /// connection: a proxy's, behind one).
    #[arg(long, env = "TENANTRY_CLIENT_ATTEMPTS_PER_MINUTE", default_value_t = 60,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub client_attempts_per_minute: u32,

    /// Failed refreshes (tokens that do not verify, or were already used) a minute from one
    /// client address; past it, failures answer 429 `RATE_LIMITED` with `Retry-After`.
    #[arg(long, env = "TENANTRY_REFRESH_FAILURES_PER_MINUTE", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub refresh_failures_per_minute: u32,

    /// Requests a minute with one API key (counted for each distinct key presented, before any
    /// look-up, so that nobody without the key's secret can spend its budget); more get 429
    /// `RATE_LIMITED` with `Retry-After`.
    #[arg(long, env = "TENANTRY_API_KEY_REQUESTS_PER_MINUTE", default_value_t = 6000,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000_000))]
    pub api_key_requests_per_minute: u32,

    /// Sign-ups an hour from one client address (each costs an argon2id hash); more get 429
    /// `RATE_LIMITED` with `Retry-After`.
    #[arg(long, env = "TENANTRY_SIGNUPS_PER_HOUR", default_value_t = 20,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub signups_per_hour: u32,

    /// Absolute lifetime of a session (a refresh-token family), in seconds; refreshing does not
    /// extend it.
    #[arg(long, env = "TENANTRY_SESSION_TTL_SECS", default_value_t = 2_592_000,
          value_parser = clap::value_parser!(u64).range(60..=31_536_000))]
    pub session_ttl_secs: u64,

    /// For how long after a refresh the token it replaced is still accepted (concurrent
    /// refreshes from several tabs), in seconds; 0 disables the grace.
    #[arg(long, env = "TENANTRY_REFRESH_GRACE_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(0..=300))]
    pub refresh_grace_secs: u64,

    /// How many days removed users and projects (and ended sessions) are kept, restorable,
    /// before `tenantry purge` deletes them for good.
    #[arg(long, env = "TENANTRY_RETENTION_DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub retention_days: u32,

    /// How many days events (the audit log and outbox, `GET /v1/events`) are kept before
    /// `tenantry purge` deletes them; consumers must read them within this period.
    #[arg(long, env = "TENANTRY_EVENT_RETENTION_DAYS", default_value_t = 90,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub event_retention_days: u32,

    /// Largest accepted request body, in bytes (larger bodies get 413).
    #[arg(long, env = "TENANTRY_BODY_LIMIT_BYTES", default_value_t = 65_536,
          value_parser = clap::value_parser!(u64).range(1024..=16_777_216))]
    pub body_limit_bytes: u64,

    /// How many argon2id hashes may run at once (each takes ~19 MiB and one core for ~25 ms).
    /// Defaults to the number of CPUs.
    #[arg(long, env = "TENANTRY_PASSWORD_HASH_CONCURRENCY",
          value_parser = clap::value_parser!(u32).range(1..=256))]
    pub password_hash_concurrency: Option<u32>,

    /// How many argon2id computations may wait for one of the
    /// TENANTRY_PASSWORD_HASH_CONCURRENCY slots; when that many wait, more are refused at once
    /// with 503 `OVERLOADED` and `Retry-After` instead of queueing without bound.
    #[arg(long, env = "TENANTRY_PASSWORD_HASH_QUEUE", default_value_t = 32,
          value_parser = clap::value_parser!(u32).range(0..=100_000))]
    pub password_hash_queue: u32,

    /// SMTP server that sends the service's emails: `smtp://host:port` (plain, for a local
    /// relay), `smtp://host:587?tls=required` (STARTTLS), `smtps://host:465` (TLS from the
    /// start); credentials as `smtps://user:password@host`. Required in production; in
    /// development, without it, emails are written as .eml files to TENANTRY_MAIL_DIR.
    #[arg(long, env = "TENANTRY_SMTP_URL", value_parser = parse_secret, hide_env_values = true)]
    pub smtp_url: Option<SecretString>,

    /// The sender of every email, as `Name <address>` or `address`. Required in production.
    #[arg(long, env = "TENANTRY_MAIL_FROM")]
    pub mail_from: Option<String>,

    /// The base URL of the links in emails (the front end's pages, which post the token to
    /// this API): `<base>/accept-invitation#token=...`, `<base>/reset-password#token=...`,
    /// `<base>/verify-email#token=...`. Required in production.
    #[arg(long, env = "TENANTRY_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Where emails go, as .eml files, when TENANTRY_SMTP_URL is not set (development only).
    #[arg(long, env = "TENANTRY_MAIL_DIR", default_value = "target/mail")]
    pub mail_dir: std::path::PathBuf,

    /// Run the mail worker (which sends the outbox) in this process. Every process may run
    /// one; turn it off where another process sends.
    #[arg(long, env = "TENANTRY_MAIL_WORKER", default_value_t = true, action = ArgAction::Set)]
    pub mail_worker: bool,

    /// How often the mail worker looks for due emails when nothing wakes it, in milliseconds
    /// (a request that queues an email wakes the worker of its own process at once).
    #[arg(long, env = "TENANTRY_MAIL_POLL_MS", default_value_t = 5000,
          value_parser = clap::value_parser!(u64).range(10..=600_000))]
    pub mail_poll_ms: u64,

    /// The first pause before an email that failed to send is tried again, in milliseconds;
    /// pauses double (with random jitter) up to an hour.
    #[arg(long, env = "TENANTRY_MAIL_RETRY_BASE_MS", default_value_t = 30_000,
          value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    pub mail_retry_base_ms: u64,

    /// Attempts to send one email before it is given up (recorded as failed).
    #[arg(long, env = "TENANTRY_MAIL_MAX_ATTEMPTS", default_value_t = 12,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub mail_max_attempts: u32,

    /// Whether a user must have verified their email address to log in. Defaults to false
    /// in development and true in production.
    #[arg(long, env = "TENANTRY_REQUIRE_VERIFIED_EMAIL", action = ArgAction::Set)]
    pub require_verified_email: Option<bool>,

    /// How long an invitation's link works, in seconds (7 days by default).
    #[arg(long, env = "TENANTRY_INVITATION_TTL_SECS", default_value_t = 604_800,
          value_parser = clap::value_parser!(u64).range(60..=31_536_000))]
    pub invitation_ttl_secs: u64,

    /// How long a password reset link works, in seconds (30 minutes by default).
    #[arg(long, env = "TENANTRY_PASSWORD_RESET_TTL_SECS", default_value_t = 1800,
          value_parser = clap::value_parser!(u64).range(60..=86_400))]
    pub password_reset_ttl_secs: u64,

    /// How long an email verification link works, in seconds (2 days by default).
    #[arg(long, env = "TENANTRY_EMAIL_VERIFICATION_TTL_SECS", default_value_t = 172_800,
          value_parser = clap::value_parser!(u64).range(60..=2_592_000))]
    pub email_verification_ttl_secs: u64,

    /// Invitations an organization may send (or resend) an hour; more get 429.
    #[arg(long, env = "TENANTRY_INVITATIONS_PER_HOUR", default_value_t = 50,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub invitations_per_hour: u32,

    /// Password reset emails an hour for one account (organization slug and email, whether
    /// or not it exists); more get 429. Requests also count against
    /// TENANTRY_CLIENT_ATTEMPTS_PER_MINUTE per client address.
    #[arg(long, env = "TENANTRY_PASSWORD_RESETS_PER_HOUR", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub password_resets_per_hour: u32,
    /// Whether `serve` also runs the webhook relay (`tenantry relay` runs one alone).
    #[arg(long, env = "TENANTRY_WEBHOOK_RELAY", default_value_t = true, action = ArgAction::Set)]
    pub webhook_relay: bool,

    /// Let webhooks reach loopback, private, link-local and other non-public addresses
    /// (development and tests only: in production this opens server-side request forgery).
    #[arg(long, env = "TENANTRY_WEBHOOK_ALLOW_PRIVATE", default_value_t = false, action = ArgAction::Set)]
    pub webhook_allow_private: bool,

    /// Timeout for connecting to a webhook endpoint, in milliseconds.
    #[arg(long, env = "TENANTRY_WEBHOOK_CONNECT_TIMEOUT_MS", default_value_t = 5_000,
          value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub webhook_connect_timeout_ms: u64,

    /// Longest a delivery attempt may take (connect, send, read the answer), in milliseconds;
    /// longer is a failed attempt (`timeout`).
    #[arg(long, env = "TENANTRY_WEBHOOK_TIMEOUT_MS", default_value_t = 15_000,
          value_parser = clap::value_parser!(u64).range(10..=120_000))]
    pub webhook_timeout_ms: u64,

    /// How often the relay looks for work without being notified, in milliseconds.
    #[arg(long, env = "TENANTRY_WEBHOOK_POLL_MS", default_value_t = 5_000,
          value_parser = clap::value_parser!(u64).range(10..=600_000))]
    pub webhook_poll_ms: u64,

    /// The first retry's delay, in milliseconds; each later one doubles (with jitter), up to
    /// 4 hours: with 17 attempts, a failing delivery is retried for about a day (21.7 h).
    #[arg(long, env = "TENANTRY_WEBHOOK_RETRY_BASE_MS", default_value_t = 5_000,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub webhook_retry_base_ms: u64,

    /// Attempts of one delivery before it is marked dead.
    #[arg(long, env = "TENANTRY_WEBHOOK_MAX_ATTEMPTS", default_value_t = 17,
          value_parser = clap::value_parser!(u32).range(1..=100))]
    pub webhook_max_attempts: u32,

    /// Consecutive failed attempts (of any of its deliveries) after which an endpoint is
    /// disabled (`disabled_reason: failing`, event `webhook_endpoint.disabled`).
    #[arg(long, env = "TENANTRY_WEBHOOK_DISABLE_AFTER", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub webhook_disable_after: u32,

    /// Log format; defaults to `json` in production and `text` otherwise. Levels come from
    /// RUST_LOG (default `info`).
    #[arg(long, env = "TENANTRY_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
}

/// A setting that cannot be used as given.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "TENANTRY_JWT_SECRET must be set to at least {MIN_JWT_SECRET_BYTES} bytes when TENANTRY_ENV=production"
    )]
    MissingJwtSecret,
    #[error(
        "every TENANTRY_JWT_PREVIOUS_SECRETS entry must be at least {MIN_JWT_SECRET_BYTES} bytes"
    )]
    ShortPreviousSecret,
    #[error("the database URL must name a database")]
    MissingDatabaseName,
    #[error(
        "TENANTRY_SMTP_URL, TENANTRY_MAIL_FROM and TENANTRY_PUBLIC_URL must be set when TENANTRY_ENV=production"
    )]
    MissingMailSettings,
    #[error("{0}")]
    InvalidMailSetting(String),
}

impl Settings {
    /// Settings with every default, as if no variable were set.
    pub fn defaults() -> Self {
        Cli::parse_from(["tenantry"]).settings
    }

    pub fn log_format(&self) -> LogFormat {
        self.log_format.unwrap_or(match self.environment {
            Environment::Production => LogFormat::Json,
            Environment::Development => LogFormat::Text,
        })
    }

    /// Whether log-in requires a verified email address.
    pub fn require_verified_email(&self) -> bool {
        self.require_verified_email
            .unwrap_or(self.environment == Environment::Production)
    }

    /// The base of links in emails, without a trailing slash: an http(s) URL. Production
    /// requires it; development defaults to `http://localhost:3000`.
    pub fn public_url(&self) -> Result<String, ConfigError> {
        let url = match (&self.public_url, self.environment) {
            (Some(url), _) => url.trim_end_matches('/').to_owned(),
            (None, Environment::Production) => return Err(ConfigError::MissingMailSettings),
            (None, Environment::Development) => "http://localhost:3000".to_owned(),
        };
        let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
        if !scheme_ok
            || url.len() > 500
            || url
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '#' || c == '?')
        {
            return Err(ConfigError::InvalidMailSetting(
                "TENANTRY_PUBLIC_URL must be an http:// or https:// URL without query or fragment"
                    .into(),
            ));
        }
        Ok(url)
    }

    pub fn migration_database_url(&self) -> &tokio_postgres::Config {
        self.migration_database_url
            .as_ref()
            .unwrap_or(&self.database_url)
    }

    /// What the request pool is built from.
    pub fn db_config(&self) -> crate::db::DbConfig {
        crate::db::DbConfig {
            url: self.database_url.clone(),
            pool_size: self.db_pool_size as usize,
            acquire_timeout: Duration::from_millis(self.db_acquire_timeout_ms),
            connect_timeout: self.db_connect_timeout(),
            statement_timeout_ms: self.db_statement_timeout_ms,
            idle_in_transaction_timeout_ms: self.db_idle_in_transaction_timeout_ms,
        }
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_millis(self.shutdown_grace_ms)
    }

    pub fn db_startup_timeout(&self) -> Duration {
        Duration::from_millis(self.db_startup_timeout_ms)
    }

    pub fn db_connect_timeout(&self) -> Duration {
        Duration::from_millis(self.db_connect_timeout_ms)
    }

    pub fn password_hash_concurrency(&self) -> usize {
        self.password_hash_concurrency.map_or_else(
            || std::thread::available_parallelism().map_or(2, usize::from),
            |n| n as usize,
        )
    }

    /// The JWT secret to use. A missing or too short secret is an error in production; in
    /// development a random one is generated (tokens then die with the process).
    /// The previous (verify-only) JWT secrets, each at least as long as a current one.
    pub fn previous_jwt_secrets(&self) -> Result<Vec<SecretString>, ConfigError> {
        if self
            .jwt_previous_secrets
            .iter()
            .any(|s| s.expose_secret().len() < MIN_JWT_SECRET_BYTES)
        {
            return Err(ConfigError::ShortPreviousSecret);
        }
        Ok(self.jwt_previous_secrets.clone())
    }

    pub fn resolve_jwt_secret(&self) -> Result<SecretString, ConfigError> {
        if let Some(secret) = &self.jwt_secret
            && secret.expose_secret().len() >= MIN_JWT_SECRET_BYTES
        {
            return Ok(secret.clone());
        }
        if self.environment == Environment::Production {
            return Err(ConfigError::MissingJwtSecret);
        }
        tracing::warn!(
            "TENANTRY_JWT_SECRET is missing or shorter than {MIN_JWT_SECRET_BYTES} bytes: using a random \
             secret for this process (development only; tokens will not survive a restart)"
        );
        Ok(SecretString::from(crate::auth::random_token()))
    }
}

fn parse_pg_config(value: &str) -> Result<tokio_postgres::Config, String> {
    let config = tokio_postgres::Config::from_str(value)
        .map_err(|err| format!("not a valid PostgreSQL URL: {err}"))?;
    if config.get_dbname().is_none() {
        return Err(ConfigError::MissingDatabaseName.to_string());
    }
    Ok(config)
}

fn parse_secret(value: &str) -> Result<SecretString, String> {
    Ok(SecretString::from(value.to_owned()))
}

/// A secret that clients send as `Authorization: Bearer <secret>`: a header with any other
/// character cannot be read (400), so such a secret would lock everyone out.
fn parse_bearer_secret(value: &str) -> Result<SecretString, String> {
    let alphabet = |b: u8| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b);
    if value.len() < 16 || !value.bytes().all(alphabet) {
        return Err("must be at least 16 characters of A-Z, a-z, 0-9 and -._~+/".into());
    }
    parse_secret(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_refuses_a_missing_or_short_jwt_secret() {
        let mut settings = Settings::defaults();
        settings.environment = Environment::Production;
        assert!(settings.resolve_jwt_secret().is_err());
        settings.jwt_secret = Some(SecretString::from("too-short".to_owned()));
        assert!(settings.resolve_jwt_secret().is_err());
        settings.jwt_secret = Some(SecretString::from("x".repeat(MIN_JWT_SECRET_BYTES)));
        assert!(settings.resolve_jwt_secret().is_ok());
    }

    #[test]
    fn development_generates_a_long_random_secret() {
        let settings = Settings::defaults();
        let first = settings.resolve_jwt_secret().expect("generated");
        let second = settings.resolve_jwt_secret().expect("generated");
        assert!(first.expose_secret().len() >= MIN_JWT_SECRET_BYTES);
        assert_ne!(first.expose_secret(), second.expose_secret());
    }

    #[test]
    fn a_metrics_token_must_be_sendable_as_a_bearer_token() {
        assert!(parse_bearer_secret("scrape-me-please").is_ok());
        assert!(parse_bearer_secret("short").is_err());
        assert!(parse_bearer_secret("has a space in it!").is_err());
        assert!(parse_bearer_secret("caf\u{e9}-caf\u{e9}-caf\u{e9}-caf").is_err());
    }

    #[test]
    fn a_database_url_without_a_database_name_is_rejected() {
        assert!(parse_pg_config("postgres://postgres@127.0.0.1:5432").is_err());
        assert!(parse_pg_config("postgres://postgres@127.0.0.1:5432/tenantry").is_ok());
    }
}
