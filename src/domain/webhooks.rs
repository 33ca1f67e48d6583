//! Webhook endpoints and their deliveries, as the service and the API exchange them.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Actor;

/// A registered endpoint, never with its secrets.
#[derive(Debug, Clone)]
pub struct WebhookEndpoint {
    pub id: Uuid,
    pub url: String,
    pub event_types: Vec<String>,
    pub description: String,
    /// Why it is disabled (`manual`, `failing`), when it is.
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<DateTime<Utc>>,
    /// Until when the secret replaced by the last rotation still signs, if it does.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub consecutive_failures: i32,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub created_by: Option<Actor>,
    pub updated_by: Option<Actor>,
}

/// Where a delivery is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Not delivered yet: due at `next_attempt_at`.
    Pending,
    /// The endpoint answered 2xx.
    Succeeded,
    /// Every attempt failed; no more will be made (unless retried through the API).
    Dead,
}

impl DeliveryStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::Dead => "dead",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "pending" => Some(DeliveryStatus::Pending),
            "succeeded" => Some(DeliveryStatus::Succeeded),
            "dead" => Some(DeliveryStatus::Dead),
            _ => None,
        }
    }
}

/// One event's delivery to one endpoint, with what its last attempt got.
#[derive(Debug, Clone)]
pub struct WebhookDelivery {
    pub id: Uuid,
    pub endpoint_id: Uuid,
    /// The event's id: the `webhook-id` of every attempt.
    pub event_id: Uuid,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    /// When the next attempt is due: pending deliveries that are not held only.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub last_response_snippet: Option<String>,
    pub last_latency_ms: Option<i32>,
    pub succeeded_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// The most event types an endpoint subscribes to.
pub const MAX_EVENT_TYPES: usize = 50;

/// Whether `value` names event types an endpoint may subscribe to: `*` (every type), a type
/// (`user.created`: lower-case letters and `_`, one dot) or a resource's types (`user.*`).
pub fn is_event_type_filter(value: &str) -> bool {
    let word = |w: &str| {
        !w.is_empty()
            && w.len() <= 31
            && w.starts_with(|c: char| c.is_ascii_lowercase())
            && w.chars().all(|c| c.is_ascii_lowercase() || c == '_')
    };
    if value == "*" {
        return true;
    }
    match value.split_once('.') {
        Some((resource, verb)) => word(resource) && (verb == "*" || word(verb)),
        None => false,
    }
}

/// Whether an endpoint subscribed to `filters` receives events of type `event_type`: the
/// one definition, also written in SQL by the relay's fan-out (`relay/fan_out.sql`).
pub fn matches(filters: &[String], event_type: &str) -> bool {
    filters.iter().any(|f| {
        f == "*"
            || f == event_type
            || f.strip_suffix('*')
                .is_some_and(|prefix| prefix.ends_with('.') && event_type.starts_with(prefix))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_type_filters() {
        for ok in ["*", "user.created", "user.*", "webhook_endpoint.disabled"] {
            assert!(is_event_type_filter(ok), "{ok}");
        }
        for bad in [
            "",
            "user",
            "User.created",
            "user.created.x",
            "*.created",
            "user.",
            ".x",
            "user.cre ated",
        ] {
            assert!(!is_event_type_filter(bad), "{bad}");
        }
        let filters = vec!["user.*".to_owned(), "project.created".to_owned()];
        assert!(matches(&filters, "user.deleted"));
        assert!(matches(&filters, "project.created"));
        assert!(!matches(&filters, "project.deleted"));
        assert!(!matches(&filters, "users.created"));
        assert!(matches(&["*".to_owned()], "anything.at_all"));
    }
}
