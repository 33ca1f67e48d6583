//! Prometheus metrics (OpenMetrics text at `GET /metrics`), process-wide.
//!
//! One registry for the process: request counters and latencies are recorded by the request
//! middleware, transaction durations by `db::tx`, log-in outcomes and the argon2 queue by the
//! auth code; pool figures are read at scrape time. Every label value comes from a closed set
//! (an unauthenticated client must not be able to create series): methods are the known ones
//! or `other`, routes the spec's path templates, the fixed non-API routes or `unmatched` (never
//! raw paths), statuses the ones the service answers with or `other`.

use std::sync::LazyLock;
use std::sync::atomic::AtomicI64;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The labels of a request's metrics. Only the request middleware builds them, from closed
/// sets.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: &'static str,
    pub route: String,
    pub status: StatusLabel,
}

/// A status code the service is known to answer with, or `other`.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct StatusLabel(pub Option<u16>);

impl EncodeLabelValue for StatusLabel {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        match self.0 {
            Some(code) => code.encode(encoder),
            None => "other".encode(encoder),
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: &'static str,
}

/// The labels of the email metrics: the kind (a closed set, `EmailKind::as_str`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EmailLabels {
    pub kind: &'static str,
}

/// A failed email: its kind and why (`rejected` by the SMTP server, `exhausted` its attempts,
/// `invalid`: it could not be rendered or addressed).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EmailFailureLabels {
    pub kind: &'static str,
    pub reason: &'static str,
}

pub struct Metrics {
    registry: Registry,
    pub emails_queued: Family<EmailLabels, Counter>,
    pub emails_sent: Family<EmailLabels, Counter>,
    pub emails_failed: Family<EmailFailureLabels, Counter>,
    pub email_send_errors: Family<EmailLabels, Counter>,
    pub http_requests: Family<RequestLabels, Counter>,
    pub http_duration: Family<RequestLabels, Histogram>,
    pub transaction_duration: Histogram,
    pub logins: Family<OutcomeLabels, Counter>,
    pub password_hash_waiting: Gauge<i64, AtomicI64>,
    pub password_hash_computations: Family<OutcomeLabels, Counter>,
    pub password_hash_refused: Family<OutcomeLabels, Counter>,
    /// Attempts to deliver a webhook, by outcome: `succeeded` or the failure's kind.
    pub webhook_attempts: Family<OutcomeLabels, Counter>,
    /// Deliveries marked dead by this process.
    pub webhook_dead: Counter,
    /// Pending deliveries of every organization (read by the relay at each poll).
    pub webhook_pending: Gauge<i64, AtomicI64>,
    /// Age of the oldest pending delivery, in seconds (0 when none).
    pub webhook_oldest_pending_seconds: Gauge<i64, AtomicI64>,
    pool_size: Gauge<i64, AtomicI64>,
    pool_available: Gauge<i64, AtomicI64>,
    pool_waiting: Gauge<i64, AtomicI64>,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms .. ~16 s
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("tenantry");
        let http_requests = Family::<RequestLabels, Counter>::default();
        let http_duration = Family::<RequestLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        let transaction_duration = latency_histogram();
        let logins = Family::<OutcomeLabels, Counter>::default();
        let password_hash_waiting = Gauge::<i64, AtomicI64>::default();
        let password_hash_computations = Family::<OutcomeLabels, Counter>::default();
        let password_hash_refused = Family::<OutcomeLabels, Counter>::default();
        let emails_queued = Family::<EmailLabels, Counter>::default();
        let emails_sent = Family::<EmailLabels, Counter>::default();
        let emails_failed = Family::<EmailFailureLabels, Counter>::default();
        let email_send_errors = Family::<EmailLabels, Counter>::default();
        registry.register(
            "emails_queued",
            "Emails queued in the outbox (committed with the change that causes them), by kind",
            emails_queued.clone(),
        );
        registry.register(
            "emails_sent",
            "Emails accepted by the SMTP server (or written to TENANTRY_MAIL_DIR), by kind",
            emails_sent.clone(),
        );
        registry.register(
            "emails_failed",
            "Emails given up, by kind and reason (rejected, exhausted, invalid)",
            emails_failed.clone(),
        );
        registry.register(
            "email_send_errors",
            "Failed attempts to send an email that will be retried, by kind",
            email_send_errors.clone(),
        );
        let webhook_attempts = Family::<OutcomeLabels, Counter>::default();
        let webhook_dead = Counter::default();
        let webhook_pending = Gauge::<i64, AtomicI64>::default();
        let webhook_oldest_pending_seconds = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "webhook_attempts",
            "Webhook delivery attempts by outcome (succeeded, http_status, timeout, connect, \
             refused_address, invalid_url, request)",
            webhook_attempts.clone(),
        );
        registry.register(
            "webhook_dead_deliveries",
            "Webhook deliveries that failed every attempt",
            webhook_dead.clone(),
        );
        registry.register(
            "webhook_pending_deliveries",
            "Webhook deliveries not delivered yet, all organizations",
            webhook_pending.clone(),
        );
        registry.register(
            "webhook_oldest_pending_age_seconds",
            "Age of the oldest pending webhook delivery",
            webhook_oldest_pending_seconds.clone(),
        );
        let pool_size = Gauge::<i64, AtomicI64>::default();
        let pool_available = Gauge::<i64, AtomicI64>::default();
        let pool_waiting = Gauge::<i64, AtomicI64>::default();
        registry.register(
            "http_requests",
            "HTTP requests by method, route template and status",
            http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency",
            http_duration.clone(),
        );
        registry.register(
            "db_transaction_duration_seconds",
            "Time from a transaction's first statement to its commit or rollback",
            transaction_duration.clone(),
        );
        registry.register(
            "login_attempts",
            "Log-in attempts by outcome (success, invalid_credentials, error)",
            logins.clone(),
        );
        registry.register(
            "password_hash_waiting",
            "argon2id computations waiting for a permit",
            password_hash_waiting.clone(),
        );
        registry.register(
            "password_hash_computations",
            "argon2id computations started, by kind (hash, verify)",
            password_hash_computations.clone(),
        );
        registry.register(
            "password_hash_refused",
            "argon2id computations refused because the queue was full (503 OVERLOADED), by kind",
            password_hash_refused.clone(),
        );
        registry.register(
            "db_pool_size",
            "Open pooled database connections",
            pool_size.clone(),
        );
        registry.register(
            "db_pool_available",
            "Idle pooled database connections",
            pool_available.clone(),
        );
        registry.register(
            "db_pool_waiting",
            "Requests waiting for a pooled connection",
            pool_waiting.clone(),
        );
        Self {
            registry,
            emails_queued,
            emails_sent,
            emails_failed,
            email_send_errors,
            http_requests,
            http_duration,
            transaction_duration,
            logins,
            password_hash_waiting,
            password_hash_computations,
            password_hash_refused,
            webhook_attempts,
            webhook_dead,
            webhook_pending,
            webhook_oldest_pending_seconds,
            pool_size,
            pool_available,
            pool_waiting,
        }
    }

    /// The OpenMetrics text of every metric, with the pool figures read now.
    pub fn render(&self, pool: (usize, usize, usize)) -> String {
        let as_i64 = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        self.pool_size.set(as_i64(pool.0));
        self.pool_available.set(as_i64(pool.1));
        self.pool_waiting.set(as_i64(pool.2));
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}

/// The process's metrics.
pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);
