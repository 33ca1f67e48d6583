//! The relay: turns each organization's events into signed HTTP deliveries.
//!
//! One loop, organization by organization. Each step is a transaction as `tenantry_relay` (a
//! role whose policies, like the runtime role's, show one organization: the one the
//! transaction entered with `app.relay_enter`), so every statement is a single-organization
//! query that Citus routes to one shard:
//! 1. fan-out: each enabled endpoint's new events (after its cursor, in commit order) become
//!    deliveries (`relay/fan_out.sql`);
//! 2. claim: endpoints whose oldest pending delivery is due, locked with `FOR UPDATE SKIP
//!    LOCKED` within the organization (no cross-organization lock) and leased to this relay
//!    (`relay/claim.sql`), with the next deliveries of each, in commit order (`relay/run.sql`);
//! 3. send each endpoint's run in order (endpoints concurrently), signed per Standard
//!    Webhooks; the event's id is the `webhook-id` of every attempt;
//! 4. record each attempt at once, if the lease still holds (renewing it): succeeded, or
//!    pending again after an exponential backoff with jitter (the run stops there: later
//!    deliveries wait behind it), or dead after the last attempt; count the endpoint's
//!    consecutive failures and disable it past the limit; then release the endpoint.
//!
//! A relay killed mid-run leaves its endpoints leased; the lease expires (the attempt timeout
//! plus a margin) and any relay resends what was in flight, with the same `webhook-id` (at
//! least once). Any number of relays may run: one delivers to an endpoint at a time, so each
//! endpoint receives its events in commit order.
//!
//! Which organizations have work comes from `LISTEN tenantry_webhooks` (a delivery or an
//! event notifies its organization's id) and, as a fallback, from polling
//! `app.webhook_due_orgs`, which returns only organization ids.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::future::join_all;
use tokio::sync::mpsc;
use tokio_postgres::{AsyncMessage, Client, NoTls};
use uuid::Uuid;

use super::outbound::{Attempt, Outbound, OutboundSettings};
use super::signing;
use crate::config::Settings;
use crate::db::Sql;
use crate::domain::EventType;
use crate::domain::webhooks::WebhookEndpoint;
use crate::metrics::METRICS;
use crate::service::events::Resource as _;
use crate::sql;

/// The channel deliveries and events notify on.
pub const CHANNEL: &str = "tenantry_webhooks";
/// Endpoints claimed at once in one organization.
const CLAIM_ENDPOINTS: i64 = 16;
/// Deliveries of one endpoint sent (in order) under one claim.
const RUN_LENGTH: i64 = 50;
/// The relay's database connections (one per endpoint being delivered to, at most).
const POOL_SIZE: usize = 8;
/// Events fanned out to one endpoint per step.
const FAN_OUT_BATCH: i64 = 500;
/// Organizations taken from one poll.
const POLL_ORGS: i32 = 1000;
/// The longest wait between two retries of a delivery.
const MAX_BACKOFF: Duration = Duration::from_secs(4 * 3600);
/// The wait when work is due but held elsewhere.
const BUSY_WAIT: Duration = Duration::from_millis(100);
/// Added to the attempt timeout for a claim's lease.
const LEASE_MARGIN: Duration = Duration::from_secs(2);

/// How the relay behaves.
#[derive(Debug, Clone)]
pub struct RelaySettings {
    pub database: tokio_postgres::Config,
    pub outbound: OutboundSettings,
    pub poll: Duration,
    pub retry_base: Duration,
    pub max_attempts: u32,
    pub disable_after: u32,
    pub statement_timeout_ms: u64,
}

impl RelaySettings {
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            database: settings.database_url.clone(),
            outbound: OutboundSettings {
                connect_timeout: Duration::from_millis(settings.webhook_connect_timeout_ms),
                timeout: Duration::from_millis(settings.webhook_timeout_ms),
                allow_private: settings.webhook_allow_private,
            },
            poll: Duration::from_millis(settings.webhook_poll_ms),
            retry_base: Duration::from_millis(settings.webhook_retry_base_ms),
            max_attempts: settings.webhook_max_attempts,
            disable_after: settings.webhook_disable_after,
            statement_timeout_ms: settings.db_statement_timeout_ms,
        }
    }

    fn lease(&self) -> Duration {
        self.outbound.timeout + LEASE_MARGIN
    }
}

/// Why the relay could not run.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("cannot build the webhook HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    #[error("database: {}", describe(.0))]
    Db(#[from] tokio_postgres::Error),
    #[error("database pool: {0}")]
    Pool(String),
    #[error("a row the relay read: {0}")]
    Record(String),
}

/// A database error with the server's message (tokio-postgres shows only "db error").
fn describe(err: &tokio_postgres::Error) -> String {
    match err.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => err.to_string(),
    }
}

/// The delay before attempt `attempts + 1`: `base * 2^(attempts-1)`, at most
/// [`MAX_BACKOFF`], then scaled by a random factor in [0.5, 1] (jitter: relays that failed
/// together do not retry together).
pub fn backoff(base: Duration, attempts: u32, jitter: f64) -> Duration {
    let exponent = attempts.saturating_sub(1).min(30);
    let full = base
        .checked_mul(1u32 << exponent)
        .unwrap_or(MAX_BACKOFF)
        .min(MAX_BACKOFF);
    full.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

fn random_unit() -> f64 {
    let mut bytes = [0u8; 4];
    if getrandom::fill(&mut bytes).is_err() {
        return 1.0;
    }
    f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX)
}

/// Runs the relay until `shutdown` completes. Database failures are logged and retried.
pub async fn run(
    settings: RelaySettings,
    shutdown: impl Future<Output = ()>,
) -> Result<(), RelayError> {
    let outbound = Outbound::new(settings.outbound)?;
    let pool = pool(&settings)?;
    tokio::pin!(shutdown);
    let mut pause = Duration::from_millis(100);
    loop {
        // Set once the relay is connected and listening: an error after a while of work is
        // retried after the first pause; failures to connect, or at once, back off further.
        let mut connected = false;
        let started = tokio::time::Instant::now();
        tokio::select! {
            () = &mut shutdown => return Ok(()),
            result = run_connected(&settings, &outbound, &pool, &mut connected) => {
                if let Err(err) = result {
                    tracing::warn!(error = %err, retry_in = ?pause, "webhook relay lost its database connection");
                }
            }
        }
        if connected && started.elapsed() > Duration::from_secs(1) {
            pause = Duration::from_millis(100);
        }
        tokio::select! {
            () = &mut shutdown => return Ok(()),
            () = tokio::time::sleep(pause) => {}
        }
        pause = (pause * 2).min(Duration::from_secs(10));
    }
}

async fn connect(
    settings: &RelaySettings,
) -> Result<(Client, mpsc::UnboundedReceiver<Uuid>), RelayError> {
    let (client, mut connection) = settings.database.connect(NoTls).await?;
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        use futures_util::StreamExt;
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(n)) => {
                    if let Ok(org) = n.payload().parse::<Uuid>()
                        && tx.send(org).is_err()
                    {
                        break;
                    }
                }
                Ok(_) => {}
                Err(err) => {
                    tracing::debug!(error = %err, "relay connection closed");
                    break;
                }
            }
        }
    });
    client
        .batch_execute(&format!(
            "SET statement_timeout = {}",
            settings.statement_timeout_ms
        ))
        .await?;
    Ok((client, rx))
}

async fn run_connected(
    settings: &RelaySettings,
    outbound: &Outbound,
    pool: &Pool,
    connected: &mut bool,
) -> Result<(), RelayError> {
    let (listener, mut notified) = connect(settings).await?;
    listener.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
    *connected = true;
    tracing::info!("webhook relay running");
    let mut wait = Duration::ZERO;
    loop {
        // Wake on a notification, or when the poll (or the soonest retry) is due.
        let mut orgs = BTreeSet::new();
        tokio::select! {
            org = notified.recv() => match org {
                Some(org) => { orgs.insert(org); }
                None => return Ok(()),
            },
            () = tokio::time::sleep(wait) => {
                for row in listener.query(sql!("relay/due_orgs.sql").text(), &[&POLL_ORGS]).await? {
                    orgs.insert(row.try_get::<_, Uuid>(0)?);
                }
            }
        }
        while let Ok(org) = notified.try_recv() {
            orgs.insert(org);
        }
        for org in orgs {
            while process_org(pool, settings, outbound, org).await? {}
        }
        wait = next_wait(&listener, settings).await?;
    }
}

/// Updates the backlog gauges and returns how long to sleep before the next poll: the poll
/// interval, or less when a retry is due sooner.
async fn next_wait(client: &Client, settings: &RelaySettings) -> Result<Duration, RelayError> {
    let row = client
        .query_one(sql!("relay/backlog.sql").text(), &[])
        .await?;
    let pending: i64 = row.try_get("pending")?;
    let oldest: Option<DateTime<Utc>> = row.try_get("oldest_created_at")?;
    let next_due: Option<DateTime<Utc>> = row.try_get("next_due_at")?;
    let now = Utc::now();
    METRICS.webhook_pending.set(pending);
    METRICS
        .webhook_oldest_pending_seconds
        .set(oldest.map_or(0, |t| (now - t).num_seconds().max(0)));
    let until_due = next_due
        .and_then(|t| (t - now).to_std().ok())
        .unwrap_or(Duration::ZERO);
    Ok(match next_due {
        // Due now but not claimed here (another relay holds the endpoint): look again
        // shortly rather than spin.
        Some(_) if until_due.is_zero() => BUSY_WAIT.min(settings.poll),
        Some(_) => until_due.min(settings.poll),
        None => settings.poll,
    })
}

/// The relay's connections: each transaction takes one.
pub type Pool = deadpool_postgres::Pool;

fn pool(settings: &RelaySettings) -> Result<Pool, RelayError> {
    let mut config = settings.database.clone();
    config.application_name("tenantry-relay");
    config.options(format!(
        "-c statement_timeout={}",
        settings.statement_timeout_ms
    ));
    let manager = deadpool_postgres::Manager::from_config(
        config,
        NoTls,
        deadpool_postgres::ManagerConfig {
            recycling_method: deadpool_postgres::RecyclingMethod::Fast,
        },
    );
    deadpool_postgres::Pool::builder(manager)
        .max_size(POOL_SIZE)
        .runtime(deadpool_postgres::Runtime::Tokio1)
        .build()
        .map_err(|err| RelayError::Pool(err.to_string()))
}

/// One transaction as `tenantry_relay` in organization `org`. Dropped without
/// [`RelayTx::commit`] (an error), its connection is closed rather than returned to the pool,
/// which rolls the transaction back.
struct RelayTx {
    client: Option<deadpool_postgres::Object>,
}

impl RelayTx {
    async fn begin(pool: &Pool, org: Uuid) -> Result<Self, RelayError> {
        let client = pool
            .get()
            .await
            .map_err(|err| RelayError::Pool(err.to_string()))?;
        let tx = Self {
            client: Some(client),
        };
        let c = tx.client()?;
        let enter: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&org];
        // Each statement is its own message (Citus forwards a multi-statement string whole),
        // pipelined: polled together, they are sent in order in one round trip.
        futures_util::try_join!(
            c.batch_execute("BEGIN"),
            c.batch_execute("SET LOCAL ROLE tenantry_relay"),
            c.batch_execute("SET LOCAL citus.propagate_set_commands = 'local'"),
            c.query(sql!("relay/enter.sql").text(), &enter),
        )?;
        Ok(tx)
    }

    fn client(&self) -> Result<&deadpool_postgres::Object, RelayError> {
        self.client
            .as_ref()
            .ok_or_else(|| RelayError::Pool("the transaction is finished".into()))
    }

    async fn query(
        &self,
        sql: Sql,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<tokio_postgres::Row>, RelayError> {
        Ok(self.client()?.query(sql.text(), params).await?)
    }

    async fn commit(mut self) -> Result<(), RelayError> {
        self.client()?.batch_execute("COMMIT").await?;
        self.finish();
        Ok(())
    }

    /// Committed: the connection is clean and goes back to the pool.
    fn finish(&mut self) {
        drop(self.client.take());
    }
}

impl Drop for RelayTx {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            // Not committed: detach the connection from the pool and close it.
            drop(deadpool_postgres::Object::take(client));
        }
    }
}

/// A claimed endpoint: where and with which secrets its run is sent.
struct Endpoint {
    id: Uuid,
    url: String,
    secret: Vec<u8>,
    previous_secret: Option<Vec<u8>>,
}

/// One delivery of a run.
struct Claimed {
    id: Uuid,
    event_id: Uuid,
    attempts: i32,
    body: Vec<u8>,
}

/// Fans out, claims endpoints and their runs, and delivers them (endpoints concurrently,
/// each run in order). True when there may be more work now.
async fn process_org(
    pool: &Pool,
    settings: &RelaySettings,
    outbound: &Outbound,
    org: Uuid,
) -> Result<bool, RelayError> {
    let tx = RelayTx::begin(pool, org).await?;
    tx.query(sql!("relay/fan_out.sql"), &[&org, &FAN_OUT_BATCH])
        .await?;
    let claim_id = Uuid::now_v7();
    let lease = settings.lease().as_secs_f64();
    let claimed = tx
        .query(
            sql!("relay/claim.sql"),
            &[&org, &lease, &claim_id, &CLAIM_ENDPOINTS],
        )
        .await?;
    if claimed.is_empty() {
        tx.commit().await?;
        return Ok(false);
    }
    let mut endpoints = Vec::with_capacity(claimed.len());
    let now = Utc::now();
    for row in &claimed {
        // The replaced secret signs too while its overlap lasts.
        let previous: Option<Vec<u8>> = row.try_get("previous_secret")?;
        let until: Option<DateTime<Utc>> = row.try_get("previous_secret_expires_at")?;
        endpoints.push(Endpoint {
            id: row.try_get("id")?,
            url: row.try_get("url")?,
            secret: row.try_get("secret")?,
            previous_secret: previous.filter(|_| until.is_some_and(|t| t > now)),
        });
    }
    let ids: Vec<Uuid> = endpoints.iter().map(|e| e.id).collect();
    let rows = tx
        .query(sql!("relay/run.sql"), &[&org, &ids, &RUN_LENGTH])
        .await?;
    tx.commit().await?;
    let mut runs: Vec<(Endpoint, Vec<Claimed>)> =
        endpoints.into_iter().map(|e| (e, Vec::new())).collect();
    for row in &rows {
        let endpoint_id: Uuid = row.try_get("endpoint_id")?;
        let event_type: String = row.try_get("event_type")?;
        let payload: serde_json::Value = row.try_get("payload")?;
        let created: DateTime<Utc> = row.try_get("event_created_at")?;
        let event_id: Uuid = row.try_get("event_id")?;
        let body = serde_json::json!({
            "id": event_id,
            "type": event_type,
            "timestamp": created.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "data": payload,
        });
        if let Some((_, run)) = runs.iter_mut().find(|(e, _)| e.id == endpoint_id) {
            run.push(Claimed {
                id: row.try_get("id")?,
                event_id,
                attempts: row.try_get("attempts")?,
                body: serde_json::to_vec(&body).unwrap_or_default(),
            });
        }
    }
    let results = join_all(runs.iter().map(|(endpoint, run)| {
        deliver_run(pool, settings, outbound, org, claim_id, endpoint, run)
    }))
    .await;
    for result in results {
        result?;
    }
    Ok(true)
}

/// Sends one endpoint's run in order, recording each attempt; stops at the first failure
/// (the rest wait behind it), then releases the endpoint.
async fn deliver_run(
    pool: &Pool,
    settings: &RelaySettings,
    outbound: &Outbound,
    org: Uuid,
    claim_id: Uuid,
    endpoint: &Endpoint,
    run: &[Claimed],
) -> Result<(), RelayError> {
    for delivery in run {
        let attempt = send(outbound, endpoint, delivery).await;
        let held = record(pool, settings, org, claim_id, endpoint, delivery, &attempt).await?;
        if !held || !attempt.succeeded() {
            break;
        }
    }
    let tx = RelayTx::begin(pool, org).await?;
    tx.query(sql!("relay/release.sql"), &[&org, &endpoint.id, &claim_id])
        .await?;
    tx.commit().await
}

async fn send(outbound: &Outbound, endpoint: &Endpoint, delivery: &Claimed) -> Attempt {
    let id = delivery.event_id.to_string();
    let timestamp = Utc::now().timestamp();
    let mut secrets: Vec<&[u8]> = vec![&endpoint.secret];
    if let Some(previous) = &endpoint.previous_secret {
        secrets.push(previous);
    }
    let signature = signing::signature_header(secrets, &id, timestamp, &delivery.body);
    outbound
        .post(
            &endpoint.url,
            &[
                ("webhook-id", id),
                ("webhook-timestamp", timestamp.to_string()),
                ("webhook-signature", signature),
            ],
            delivery.body.clone(),
        )
        .await
}

/// Records an attempt in its own transaction; false when the claim no longer holds the
/// endpoint (its lease expired and another relay took over).
async fn record(
    pool: &Pool,
    settings: &RelaySettings,
    org: Uuid,
    claim_id: Uuid,
    endpoint: &Endpoint,
    delivery: &Claimed,
    attempt: &Attempt,
) -> Result<bool, RelayError> {
    let attempts = u32::try_from(delivery.attempts).unwrap_or(u32::MAX) + 1;
    let (status, next) = if attempt.succeeded() {
        ("succeeded", None)
    } else if attempts >= settings.max_attempts {
        ("dead", None)
    } else {
        let delay = backoff(settings.retry_base, attempts, random_unit());
        let next = Utc::now() + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX);
        ("pending", Some(next))
    };
    let outcome = attempt.failure.map_or("succeeded", |f| f.as_str());
    METRICS
        .webhook_attempts
        .get_or_create(&crate::metrics::OutcomeLabels { outcome })
        .inc();
    let code = attempt.status.map(i32::from);
    let error = attempt.failure.map(|f| f.as_str());
    let latency = i32::try_from(attempt.latency.as_millis()).unwrap_or(i32::MAX);
    let lease = settings.lease().as_secs_f64();
    let succeeded_at = attempt.succeeded().then(Utc::now);
    let mut tx = RelayTx::begin(pool, org).await?;
    let recorded = tx
        .query(
            sql!("relay/record.sql"),
            &[
                &org,
                &delivery.id,
                &claim_id,
                &status,
                &next,
                &code,
                &error,
                &attempt.snippet,
                &latency,
                &lease,
                &succeeded_at,
            ],
        )
        .await?;
    if recorded.is_empty() {
        tracing::debug!(delivery_id = %delivery.id, endpoint_id = %endpoint.id, org_id = %org,
            "the claim no longer holds the endpoint: the attempt is not recorded");
        tx.commit().await?;
        return Ok(false);
    }
    if status == "dead" {
        METRICS.webhook_dead.inc();
        tracing::warn!(delivery_id = %delivery.id, org_id = %org, "webhook delivery is dead");
    }
    if attempt.succeeded() {
        // The failure count restarts and the transaction commits in the same round trip.
        let c = tx.client()?;
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&org, &endpoint.id];
        futures_util::try_join!(
            c.query(sql!("relay/endpoint_succeeded.sql").text(), &params),
            c.batch_execute("COMMIT"),
        )?;
        tx.finish();
        return Ok(true);
    }
    let failures = tx
        .query(sql!("relay/endpoint_failed.sql"), &[&org, &endpoint.id])
        .await?;
    let failures: i32 = match failures.first() {
        Some(row) => row.try_get(0)?,
        None => 0,
    };
    if u32::try_from(failures).unwrap_or(0) >= settings.disable_after {
        let disabled = tx
            .query(sql!("relay/disable_endpoint.sql"), &[&org, &endpoint.id])
            .await?;
        if let Some(row) = disabled.first() {
            tx.query(sql!("relay/hold_deliveries.sql"), &[&org, &endpoint.id])
                .await?;
            // The event carries the endpoint as the API shows it, and commits with the change.
            let disabled = WebhookEndpoint::try_from(row)
                .map_err(|err| RelayError::Record(err.to_string()))?;
            tx.query(
                sql!("events/emit.sql"),
                &[
                    &org,
                    &Uuid::now_v7(),
                    &EventType::WebhookEndpointDisabled.as_str(),
                    &disabled.subject_id(),
                    &"",
                    &disabled.payload(),
                ],
            )
            .await?;
            tracing::warn!(endpoint_id = %endpoint.id, org_id = %org, failures,
                "webhook endpoint disabled after consecutive failures");
        }
    }
    tx.commit().await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let base = Duration::from_secs(5);
        assert_eq!(backoff(base, 1, 1.0), Duration::from_secs(5));
        assert_eq!(backoff(base, 2, 1.0), Duration::from_secs(10));
        assert_eq!(backoff(base, 3, 0.0), Duration::from_secs(10));
        assert_eq!(backoff(base, 40, 1.0), MAX_BACKOFF);
        // The default schedule (17 attempts from 5 s: 16 waits) spans about a day.
        let total: Duration = (1..17).map(|n| backoff(base, n, 1.0)).sum();
        assert!(
            total > Duration::from_secs(18 * 3600) && total < Duration::from_secs(30 * 3600),
            "{total:?}"
        );
    }
}
