//! `/v1/events`: the organization's audit log and outbox, in commit order.
//!
//! Each event type is its own schema in the spec (`ProjectCreatedEvent`, ...), joined in a
//! union discriminated by `type`, and each one's `data` is the schema of the resource it
//! carries: generated clients get typed payloads. The stored payload is sent as it was
//! written (it is the resource's response body at the time of the change).

use std::borrow::Cow;
use std::marker::PhantomData;

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::{ParseFromJSON, ParseResult, ToJSON, Type};
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, Union};
use uuid::Uuid;

use super::ApiTags;
use super::api_keys::{ActorDto, ApiKeyDto};
use super::envelope::ApiError;
use super::me::SessionDto;
use super::org::OrganizationDto;
use super::projects::ProjectDto;
use super::security::BearerAuth;
use super::text::Text;
use super::users::UserDto;
use super::webhooks::EndpointDto;
use crate::domain::{Cursor, Event, EventType};
use crate::service::events::{Filter, ListQuery};
use crate::service::{self, AppState, DEFAULT_PAGE_SIZE};

pub(crate) struct EventsApi;

/// A stored payload, sent as it is, documented with the schema of `T` (the resource's
/// response body).
pub(crate) struct Payload<T>(serde_json::Value, PhantomData<fn() -> T>);

impl<T> std::fmt::Debug for Payload<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.0, f)
    }
}

impl<T: Type> Type for Payload<T> {
    const IS_REQUIRED: bool = true;
    type RawValueType = serde_json::Value;
    type RawElementValueType = serde_json::Value;

    fn name() -> Cow<'static, str> {
        T::name()
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }

    fn as_raw_value(&self) -> Option<&serde_json::Value> {
        Some(&self.0)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl<T: Type> ToJSON for Payload<T> {
    fn to_json(&self) -> Option<serde_json::Value> {
        Some(self.0.clone())
    }
}

impl<T: Type> ParseFromJSON for Payload<T> {
    fn parse_from_json(value: Option<serde_json::Value>) -> ParseResult<Self> {
        Ok(Self(value.unwrap_or_default(), PhantomData))
    }
}

/// Declares, for each event type: its name in the `type` filter, its schema (an object with
/// the common fields and `data` of the resource's schema), and its place in the union.
macro_rules! event_schemas {
    ($($variant:ident = $name:literal, $schema:literal, $data:ty;)*) => {
        /// An event type.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
        #[oai(rename = "EventType")]
        pub(crate) enum EventTypeDto {
            $(#[oai(rename = $name)] $variant,)*
        }

        impl From<EventTypeDto> for EventType {
            fn from(t: EventTypeDto) -> Self {
                match t {
                    $(EventTypeDto::$variant => EventType::$variant,)*
                }
            }
        }

        $(
            #[doc = concat!("A `", $name, "` event.")]
            #[derive(Debug, Object)]
            #[oai(rename = $schema)]
            pub(crate) struct $variant {
                /// The event's id (UUIDv7); stable, use it to deduplicate.
                id: Uuid,
                /// The organization's commit order: events are listed by it.
                seq: i64,
                /// The id of the resource the event is about (`data.id`).
                subject_id: Uuid,
                /// Who made the change: a user or an API key; absent when the service acted by
                /// itself (the webhook relay disabling a failing endpoint).
                #[oai(skip_serializing_if_is_none)]
                actor: Option<ActorDto>,
                /// The id of the request that made the change (`X-Request-Id`).
                request_id: Option<String>,
                /// When the change was made (its transaction's time).
                created_at: DateTime<Utc>,
                /// The resource as the API returned it after the change.
                data: Payload<$data>,
            }
        )*

        /// An event: what changed, who changed it, and the resource after the change. The
        /// `type` says which; `data` has the schema of that type's resource.
        #[derive(Debug, Union)]
        #[oai(rename = "Event", discriminator_name = "type", one_of)]
        pub(crate) enum EventDto {
            $(#[oai(mapping = $name)] $variant($variant),)*
        }

        impl From<Event> for EventDto {
            fn from(e: Event) -> Self {
                match e.event_type {
                    $(EventType::$variant => EventDto::$variant($variant {
                        id: e.id,
                        seq: e.seq,
                        subject_id: e.subject_id,
                        actor: e.actor.map(Into::into),
                        request_id: e.request_id,
                        created_at: e.created_at,
                        data: Payload(e.payload, PhantomData),
                    }),)*
                }
            }
        }
    };
}

event_schemas! {
    UserCreated = "user.created", "UserCreatedEvent", UserDto;
    UserUpdated = "user.updated", "UserUpdatedEvent", UserDto;
    UserRoleChanged = "user.role_changed", "UserRoleChangedEvent", UserDto;
    UserDeleted = "user.deleted", "UserDeletedEvent", UserDto;
    UserRestored = "user.restored", "UserRestoredEvent", UserDto;
    SessionRevoked = "session.revoked", "SessionRevokedEvent", SessionDto;
    ProjectCreated = "project.created", "ProjectCreatedEvent", ProjectDto;
    ProjectUpdated = "project.updated", "ProjectUpdatedEvent", ProjectDto;
    ProjectDeleted = "project.deleted", "ProjectDeletedEvent", ProjectDto;
    ProjectRestored = "project.restored", "ProjectRestoredEvent", ProjectDto;
    OrganizationUpdated = "organization.updated", "OrganizationUpdatedEvent", OrganizationDto;
    ApiKeyCreated = "api_key.created", "ApiKeyCreatedEvent", ApiKeyDto;
    ApiKeyRevoked = "api_key.revoked", "ApiKeyRevokedEvent", ApiKeyDto;
    WebhookEndpointCreated = "webhook_endpoint.created", "WebhookEndpointCreatedEvent", EndpointDto;
    WebhookEndpointUpdated = "webhook_endpoint.updated", "WebhookEndpointUpdatedEvent", EndpointDto;
    WebhookEndpointSecretRotated = "webhook_endpoint.secret_rotated", "WebhookEndpointSecretRotatedEvent", EndpointDto;
    WebhookEndpointDeleted = "webhook_endpoint.deleted", "WebhookEndpointDeletedEvent", EndpointDto;
    WebhookEndpointDisabled = "webhook_endpoint.disabled", "WebhookEndpointDisabledEvent", EndpointDto;
}

/// A page of events.
#[derive(Debug, Object)]
#[oai(rename = "EventPage")]
pub(crate) struct EventPageDto {
    /// The events of this page, in commit order (`seq`).
    items: Vec<EventDto>,
    /// Pass as `cursor` (with the same filters) for the events after this page. Present
    /// whenever the list had events or a cursor was given, also on the last page: keep it and
    /// poll with it later to get the events committed since. `null` only when nothing matched
    /// yet and no cursor was given.
    next_cursor: Option<String>,
    /// More events match now: fetch the next page at once instead of waiting.
    has_more: bool,
}

#[derive(Debug, ApiResponse)]
pub(crate) enum ListEventsResponse {
    /// A page of events.
    #[oai(status = 200)]
    Ok(Json<EventPageDto>),
}

#[OpenApi(prefix_path = "/v1/events", tag = "ApiTags::Events")]
impl EventsApi {
    /// List events
    ///
    /// The organization's events (every change made by its users and API keys), in commit
    /// order, in pages of `limit` (1 to 100, default 20). Owners and admins, and admin API
    /// keys; others get 403. Filters: `type` (repeat it for several), `subject_id`,
    /// `actor_id`, and `created_after`/`created_before` (inclusive/exclusive). Polling with
    /// the last `next_cursor` returns the events committed since, in order: an event that
    /// commits later is never skipped, even if its transaction started earlier.
    #[oai(path = "/", method = "get", operation_id = "listEvents")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// Only events of these types (any of them); repeat the parameter for several.
        #[oai(name = "type")]
        types: Query<Option<Vec<EventTypeDto>>>,
        /// Only events about this resource.
        subject_id: Query<Option<Uuid>>,
        /// Only events caused by this user or API key.
        actor_id: Query<Option<Uuid>>,
        /// Only events created at or after this time (RFC 3339).
        created_after: Query<Option<DateTime<Utc>>>,
        /// Only events created before this time (RFC 3339).
        created_before: Query<Option<DateTime<Utc>>>,
        /// Page size, 1 to 100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
        /// `next_cursor` of an earlier page.
        cursor: Query<Option<Text<Cursor>>>,
    ) -> Result<ListEventsResponse, ApiError> {
        let page = service::events::list(
            &state,
            &auth.0,
            ListQuery {
                filter: Filter {
                    types: types
                        .0
                        .unwrap_or_default()
                        .into_iter()
                        .map(EventType::from)
                        .collect(),
                    subject_id: subject_id.0,
                    actor_id: actor_id.0,
                    since: created_after.0,
                    until: created_before.0,
                },
                cursor: cursor.0.as_deref(),
                limit: limit.0.unwrap_or(DEFAULT_PAGE_SIZE),
            },
        )
        .await?;
        Ok(ListEventsResponse::Ok(Json(EventPageDto {
            items: page.events.into_iter().map(EventDto::from).collect(),
            next_cursor: page.next_cursor,
            has_more: page.has_more,
        })))
    }
}

#[cfg(test)]
mod tests {
    use poem_openapi::registry::Registry;

    use super::*;

    /// The spec's names of the types are the domain's, in the same order: one list. (The
    /// conversions are exhaustive matches, so neither side can lack a type.)
    #[test]
    fn the_specs_event_types_are_the_domains() {
        let mut registry = Registry::new();
        EventTypeDto::register(&mut registry);
        let names: Vec<serde_json::Value> = registry.schemas["EventType"].enum_items.clone();
        let domain: Vec<serde_json::Value> = EventType::ALL
            .iter()
            .map(|t| serde_json::Value::from(t.as_str()))
            .collect();
        assert_eq!(names, domain);
        for name in names {
            let dto = EventTypeDto::parse_from_json(Some(name.clone())).expect("a type");
            assert_eq!(serde_json::Value::from(EventType::from(dto).as_str()), name);
        }
    }
}
