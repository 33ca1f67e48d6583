//! Start-up and the server's life: create and migrate the database, run the RLS self-check,
//! build the shared state, serve until a shutdown signal, then drain and close the pool.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use poem::Server;
use poem::listener::TcpAcceptor;

use crate::api;
use crate::auth::jwt::TokenService;
use crate::auth::limits::{Quotas, RateLimits};
use crate::auth::password::PasswordHasher;
use crate::auth::refresh::SuccessorKey;
use crate::config::{ConfigError, Settings};
use crate::db::{self, Db, StartupError};
use crate::domain::CursorKey;
use crate::mail::Mailer;
use crate::service::{AppState, EmailPolicy, SessionPolicy};
use crate::webhooks::relay::{self, RelaySettings};

/// Why `serve` or `migrate` failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Server(#[source] std::io::Error),
    #[error("cannot prepare password hashing: {0}")]
    Hasher(String),
    #[error(transparent)]
    Spec(#[from] api::SpecError),
    #[error(transparent)]
    Relay(#[from] crate::webhooks::relay::RelayError),
}

/// `tenantry migrate`: create the database if needed and apply pending migrations.
pub async fn migrate(settings: &Settings) -> Result<(), RunError> {
    let config = settings.migration_database_url();
    db::wait_until_reachable(config, settings.db_startup_timeout()).await?;
    if settings.create_database {
        db::ensure_database(config).await?;
    }
    let applied = db::migrate(config).await?;
    tracing::info!(applied, "migrations are up to date");
    Ok(())
}

/// `tenantry distribute`: distributes the migrated schema on a Citus coordinator.
pub async fn distribute(settings: &Settings) -> Result<db::Distribution, RunError> {
    let config = settings.migration_database_url();
    db::wait_until_reachable(config, settings.db_startup_timeout()).await?;
    Ok(db::distribute(config).await?)
}

/// `tenantry purge`: deletes rows removed longer ago than the retention period, and events
/// older than the event retention period.
pub async fn purge(settings: &Settings) -> Result<Vec<(String, i64)>, RunError> {
    let config = settings.migration_database_url();
    db::wait_until_reachable(config, settings.db_startup_timeout()).await?;
    let purged = db::purge(config, settings.retention_days).await?;
    for (kind, count) in &purged {
        tracing::info!(kind = %kind, purged = count, retention_days = settings.retention_days, "purged");
    }
    let events = db::purge_events(config, settings.event_retention_days).await?;
    for (kind, count) in &events {
        tracing::info!(kind = %kind, purged = count, event_retention_days = settings.event_retention_days, "purged");
    }
    Ok(purged.into_iter().chain(events).collect())
}

/// Everything `serve` does before it binds: database, migrations, self-check, state.
pub async fn prepare(settings: &Settings) -> Result<AppState, RunError> {
    let jwt_secret = settings.resolve_jwt_secret()?;
    let previous_secrets = settings.previous_jwt_secrets()?;
    // Mail settings are checked before anything else starts: production refuses to start
    // without SMTP.
    let mail = Mailer::from_settings(settings)?;
    db::wait_until_reachable(
        settings.migration_database_url(),
        settings.db_startup_timeout(),
    )
    .await?;
    if settings.migrate_on_start {
        migrate(settings).await?;
    }
    let db = Db::new(&settings.db_config())?;
    for warning in db.self_check().await? {
        tracing::warn!("{warning}");
    }
    tracing::info!("row-level security self-check passed");
    let hasher = PasswordHasher::new(
        settings.password_hash_concurrency(),
        settings.password_hash_queue as usize,
    )
    .map_err(|err| RunError::Hasher(err.to_string()))?;
    Ok(AppState {
        db,
        tokens: Arc::new(TokenService::with_previous_keys(
            &jwt_secret,
            &previous_secrets,
            &settings.jwt_issuer,
            &settings.jwt_audience,
            settings.access_token_ttl_secs,
        )),
        hasher,
        sessions: SessionPolicy {
            ttl: Duration::from_secs(settings.session_ttl_secs),
            refresh_grace: Duration::from_secs(settings.refresh_grace_secs),
            successors: SuccessorKey::derive(&jwt_secret),
        },
        cursors: CursorKey::derive(&jwt_secret),
        webhooks: crate::service::webhooks::WebhookPolicy {
            allow_private: settings.webhook_allow_private,
        },
        limits: Arc::new(RateLimits::new(Quotas {
            per_account: settings.account_attempts_per_minute,
            per_client: settings.client_attempts_per_minute,
            signups_per_hour: settings.signups_per_hour,
            refresh_failures_per_minute: settings.refresh_failures_per_minute,
            api_key_requests_per_minute: settings.api_key_requests_per_minute,
            invitations_per_hour: settings.invitations_per_hour,
            password_resets_per_hour: settings.password_resets_per_hour,
        })),
        mail: Arc::new(mail),
        email: EmailPolicy {
            public_url: settings.public_url()?,
            invitation_ttl: Duration::from_secs(settings.invitation_ttl_secs),
            password_reset_ttl: Duration::from_secs(settings.password_reset_ttl_secs),
            verification_ttl: Duration::from_secs(settings.email_verification_ttl_secs),
            require_verified: settings.require_verified_email(),
        },
    })
}

/// A server bound to its address, ready to run.
pub struct App {
    acceptor: TcpAcceptor,
    addr: SocketAddr,
    state: AppState,
    http: api::HttpSettings,
    shutdown_grace: Duration,
    /// Run the mail worker beside the server.
    mail_worker: bool,
    /// The webhook relay to run beside the server (TENANTRY_WEBHOOK_RELAY).
    relay: Option<RelaySettings>,
}

impl App {
    /// Prepares the state and binds the listener (port 0 picks a free port).
    pub async fn build(settings: &Settings) -> Result<Self, RunError> {
        let state = prepare(settings).await?;
        let addr = settings.listen_addr;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| RunError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| RunError::Bind { addr, source })?;
        let acceptor =
            TcpAcceptor::from_tokio(listener).map_err(|source| RunError::Bind { addr, source })?;
        Ok(Self {
            acceptor,
            addr,
            state,
            http: api::HttpSettings {
                body_limit: settings.body_limit_bytes,
                request_timeout: settings.request_timeout(),
                metrics_token: settings.metrics_token.clone(),
            },
            shutdown_grace: settings.shutdown_grace(),
            mail_worker: settings.mail_worker,
            relay: settings
                .webhook_relay
                .then(|| RelaySettings::from_settings(settings)),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes, lets in-flight requests finish, closes the pool.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), RunError> {
        let db = self.state.db.clone();
        // Idle rate-limit buckets are dropped every minute: memory stays bounded.
        let limits = self.state.limits.clone();
        let sweeper = tokio::spawn(async move {
            let mut every_minute = tokio::time::interval(Duration::from_secs(60));
            loop {
                every_minute.tick().await;
                limits.sweep();
            }
        });
        // The mail worker sends the outbox until the server stops.
        let (stop_mail, mail_stopped) = tokio::sync::oneshot::channel::<()>();
        let mail_worker = self.mail_worker.then(|| {
            tokio::spawn(crate::mail::run(
                db.clone(),
                self.state.mail.clone(),
                async {
                    let _ = mail_stopped.await;
                },
            ))
        });
        let (stop_relay, relay_stopped) = tokio::sync::oneshot::channel::<()>();
        let relay = self.relay.map(|settings| {
            tokio::spawn(async move {
                let stopped = async {
                    let _ = relay_stopped.await;
                };
                if let Err(err) = relay::run(settings, stopped).await {
                    tracing::error!(error = %err, "the webhook relay stopped");
                }
            })
        });
        let routes = api::routes(self.state, self.http)?;
        tracing::info!(addr = %self.addr, "serving; Swagger UI at /docs");
        let result = Server::new_with_acceptor(self.acceptor)
            .run_with_graceful_shutdown(routes, shutdown, Some(self.shutdown_grace))
            .await;
        sweeper.abort();
        let _ = stop_mail.send(());
        if let Some(worker) = mail_worker {
            let _ = worker.await;
        }
        let _ = stop_relay.send(());
        if let Some(relay) = relay {
            let _ = relay.await;
        }
        db.close();
        tracing::info!("stopped");
        result.map_err(RunError::Server)
    }
}

/// `tenantry serve`.
pub async fn serve(settings: Settings) -> Result<(), RunError> {
    App::build(&settings).await?.run(shutdown_signal()).await
}

/// `tenantry relay`: the webhook relay and the mail worker (unless TENANTRY_MAIL_WORKER is
/// false), without the HTTP server, until SIGINT or SIGTERM.
pub async fn relay(settings: Settings) -> Result<(), RunError> {
    // Mail settings first: production refuses to start without SMTP here too.
    let mailer = Arc::new(Mailer::from_settings(&settings)?);
    db::wait_until_reachable(&settings.database_url, settings.db_startup_timeout()).await?;
    let db = Db::new(&settings.db_config())?;
    let (stop_mail, mail_stopped) = tokio::sync::oneshot::channel::<()>();
    let mail_worker = settings.mail_worker.then(|| {
        tokio::spawn(crate::mail::run(db.clone(), mailer, async {
            let _ = mail_stopped.await;
        }))
    });
    let result = relay::run(RelaySettings::from_settings(&settings), shutdown_signal()).await;
    let _ = stop_mail.send(());
    if let Some(worker) = mail_worker {
        let _ = worker.await;
    }
    db.close();
    result?;
    Ok(())
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received: finishing in-flight requests");
}
