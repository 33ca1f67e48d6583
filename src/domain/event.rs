//! Events: what changed in an organization, as the outbox (`app.events`, migration V20)
//! records it. [`EventType`] is the one list of event types: the database checks only their
//! shape, the API documents a payload schema for each.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Actor;

/// Declares [`EventType`] with each type's public name.
macro_rules! event_types {
    ($($(#[$meta:meta])* $variant:ident = $name:literal,)*) => {
        /// The type of an event: `<resource>.<what happened>`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum EventType {
            $($(#[$meta])* $variant,)*
        }

        impl EventType {
            /// Every type, in the order the API documents them.
            pub const ALL: &'static [EventType] = &[$(EventType::$variant,)*];

            /// The public name, stored in `app.events.type`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(EventType::$variant => $name,)*
                }
            }

            pub fn parse(value: &str) -> Option<Self> {
                match value {
                    $($name => Some(EventType::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

event_types! {
    /// A user was added to the organization (payload: the user).
    UserCreated = "user.created",
    /// A user's display name, email or password changed (payload: the user).
    UserUpdated = "user.updated",
    /// A user's role changed (payload: the user, with the new role).
    UserRoleChanged = "user.role_changed",
    /// A user was removed (payload: the user, with `deleted_at`).
    UserDeleted = "user.deleted",
    /// A removed user was restored (payload: the user).
    UserRestored = "user.restored",
    /// A session was ended: a log-out, or a session revoked by its user (payload: the session).
    SessionRevoked = "session.revoked",
    /// A project was created (payload: the project).
    ProjectCreated = "project.created",
    /// A project changed (payload: the project).
    ProjectUpdated = "project.updated",
    /// A project was removed (payload: the project, with `deleted_at`).
    ProjectDeleted = "project.deleted",
    /// A removed project was restored (payload: the project).
    ProjectRestored = "project.restored",
    /// The organization changed (payload: the organization).
    OrganizationUpdated = "organization.updated",
    /// An API key was created (payload: the key, never its secret).
    ApiKeyCreated = "api_key.created",
    /// An API key was revoked (payload: the key).
    ApiKeyRevoked = "api_key.revoked",
    /// A webhook endpoint was created (payload: the endpoint, never its secret).
    WebhookEndpointCreated = "webhook_endpoint.created",
    /// A webhook endpoint changed, or was enabled again (payload: the endpoint).
    WebhookEndpointUpdated = "webhook_endpoint.updated",
    /// A webhook endpoint's signing secret was replaced (payload: the endpoint).
    WebhookEndpointSecretRotated = "webhook_endpoint.secret_rotated",
    /// A webhook endpoint was deleted (payload: the endpoint).
    WebhookEndpointDeleted = "webhook_endpoint.deleted",
    /// The relay disabled a webhook endpoint after too many consecutive failed deliveries
    /// (payload: the endpoint; no actor).
    WebhookEndpointDisabled = "webhook_endpoint.disabled",
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event as stored: the payload is the resource's response body, kept as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: Uuid,
    /// The organization's commit order (the cursor of a consumer).
    pub seq: i64,
    pub event_type: EventType,
    pub subject_id: Uuid,
    /// Who acted; `None` when the service acted by itself (the webhook relay).
    pub actor: Option<Actor>,
    pub request_id: Option<String>,
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_parses_back_and_has_the_shape_the_database_checks() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(*t), "{t}");
            let (resource, verb) = t.as_str().split_once('.').expect("resource.verb");
            for part in [resource, verb] {
                assert!(
                    part.starts_with(|c: char| c.is_ascii_lowercase())
                        && part.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                    "{t} matches ck_events_type"
                );
            }
        }
        assert_eq!(EventType::parse("project.exploded"), None);
    }
}
