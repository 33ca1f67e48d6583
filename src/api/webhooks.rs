//! `/v1/webhooks`: endpoints that receive the organization's events, signed per Standard
//! Webhooks, and the deliveries made to them.

use std::time::Duration;

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde::Deserialize;
use uuid::Uuid;

use super::ApiTags;
use super::api_keys::ActorDto;
use super::body::JsonBody;
use super::conditional::{IfMatch, version_tag};
use super::envelope::ApiError;
use super::security::BearerAuth;
use super::text::Text;
use crate::domain::webhooks::{DeliveryStatus, WebhookDelivery, WebhookEndpoint};
use crate::domain::{Cursor, Description};
use crate::service::webhooks::{CreateEndpoint, DEFAULT_OVERLAP, UpdateEndpoint, WithSecret};
use crate::service::{self, AppState, DEFAULT_PAGE_SIZE};

pub(crate) struct WebhooksApi;

/// Why an endpoint is disabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "WebhookDisabledReason", rename_all = "lowercase")]
pub(crate) enum DisabledReasonDto {
    /// Disabled through the API (`enabled: false`).
    Manual,
    /// Disabled by the relay after too many consecutive failed attempts.
    Failing,
}

/// A webhook endpoint, without its signing secret (shown once, at creation and rotation).
#[derive(Debug, Object)]
#[oai(rename = "WebhookEndpoint")]
pub(crate) struct EndpointDto {
    /// The endpoint's id.
    id: Uuid,
    /// Where deliveries are POSTed.
    url: String,
    /// The event types it receives: types (`user.created`), a resource's types (`user.*`)
    /// or `*`.
    event_types: Vec<String>,
    /// What the endpoint is for.
    description: String,
    /// Whether deliveries are made to it.
    enabled: bool,
    /// Why it is disabled, when it is.
    disabled_reason: Option<DisabledReasonDto>,
    /// When it was disabled.
    disabled_at: Option<DateTime<Utc>>,
    /// After a rotation: until when the replaced secret also signs deliveries.
    previous_secret_expires_at: Option<DateTime<Utc>>,
    /// Failed attempts since the last success.
    consecutive_failures: i32,
    /// Bumped by every change; also sent as the `ETag` header. Send it back in `If-Match`.
    version: i64,
    /// When it was created.
    created_at: DateTime<Utc>,
    /// When it was last changed by a person or key (or disabled by the relay).
    updated_at: DateTime<Utc>,
    /// Who created it.
    created_by: Option<ActorDto>,
    /// Who changed it last (none when the relay disabled it).
    updated_by: Option<ActorDto>,
}

/// An event's payload is the endpoint's response body (never its secret).
impl service::events::Resource for WebhookEndpoint {
    fn subject_id(&self) -> Uuid {
        self.id
    }

    fn payload(&self) -> serde_json::Value {
        poem_openapi::types::ToJSON::to_json(&EndpointDto::from(self.clone())).unwrap_or_default()
    }
}

impl From<WebhookEndpoint> for EndpointDto {
    fn from(e: WebhookEndpoint) -> Self {
        Self {
            id: e.id,
            url: e.url,
            event_types: e.event_types,
            description: e.description,
            enabled: e.disabled_reason.is_none(),
            disabled_reason: e.disabled_reason.as_deref().map(|r| match r {
                "failing" => DisabledReasonDto::Failing,
                _ => DisabledReasonDto::Manual,
            }),
            disabled_at: e.disabled_at,
            previous_secret_expires_at: e.previous_secret_expires_at,
            consecutive_failures: e.consecutive_failures,
            version: e.version,
            created_at: e.created_at,
            updated_at: e.updated_at,
            created_by: e.created_by.map(ActorDto::from),
            updated_by: e.updated_by.map(ActorDto::from),
        }
    }
}

/// An endpoint with its signing secret, shown this once.
#[derive(Debug, Object)]
#[oai(rename = "WebhookEndpointWithSecret")]
pub(crate) struct EndpointWithSecretDto {
    #[oai(flatten)]
    endpoint: EndpointDto,
    /// The signing secret: `whsec_` + base64 of 32 random bytes. Verify each delivery's
    /// `webhook-signature` with it (Standard Webhooks). Shown this once; rotate it if lost.
    secret: String,
}

impl From<WithSecret> for EndpointWithSecretDto {
    fn from(w: WithSecret) -> Self {
        Self {
            endpoint: w.endpoint.into(),
            secret: w.secret,
        }
    }
}

/// A new webhook endpoint.
#[derive(Debug, Object, Deserialize)]
#[oai(rename = "CreateWebhookRequest", deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateEndpointRequest {
    /// An absolute `https` (or `http`) URL without credentials or fragment, at most 2000
    /// characters, whose host is public.
    url: String,
    /// 1 to 50 entries: event types (`user.created`), a resource's types (`user.*`) or `*`.
    event_types: Vec<String>,
    /// What the endpoint is for (free text, at most 2000 characters).
    #[serde(default)]
    description: Option<Text<Description>>,
}

/// Changes to an endpoint; omitted fields stay.
#[derive(Debug, Object, Deserialize)]
#[oai(rename = "UpdateWebhookRequest", deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateEndpointRequest {
    /// A new URL (same rules as at creation).
    #[serde(default)]
    url: Option<String>,
    /// New event types (same rules as at creation).
    #[serde(default)]
    event_types: Option<Vec<String>>,
    /// A new description.
    #[serde(default)]
    description: Option<Text<Description>>,
    /// `false` disables the endpoint (its pending deliveries wait); `true` enables it again
    /// (also after the relay disabled it): the failure count restarts, waiting deliveries go
    /// out, and events from now on are delivered (not those of the disabled time).
    #[serde(default)]
    enabled: Option<bool>,
}

/// A secret rotation.
#[derive(Debug, Object, Deserialize)]
#[oai(rename = "RotateWebhookSecretRequest", deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub(crate) struct RotateSecretRequest {
    /// For how long the replaced secret keeps signing deliveries (each carries both
    /// signatures meanwhile), in seconds: 0 to 604800 (7 days), default 86400 (a day).
    #[oai(validator(minimum(value = "0"), maximum(value = "604800")))]
    #[serde(default)]
    overlap_seconds: Option<u64>,
}

/// One page of endpoints, oldest first.
#[derive(Debug, Object)]
#[oai(rename = "WebhookEndpointPage")]
pub(crate) struct EndpointPageDto {
    /// The endpoints of this page.
    items: Vec<EndpointDto>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    next_cursor: Option<String>,
}

/// Where a delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Deserialize)]
#[oai(rename = "WebhookDeliveryStatus", rename_all = "lowercase")]
pub(crate) enum DeliveryStatusDto {
    /// Not delivered yet (retries wait for `next_attempt_at`).
    Pending,
    /// The endpoint answered 2xx.
    Succeeded,
    /// Every attempt (about a day of them) failed.
    Dead,
}

impl From<DeliveryStatus> for DeliveryStatusDto {
    fn from(s: DeliveryStatus) -> Self {
        match s {
            DeliveryStatus::Pending => DeliveryStatusDto::Pending,
            DeliveryStatus::Succeeded => DeliveryStatusDto::Succeeded,
            DeliveryStatus::Dead => DeliveryStatusDto::Dead,
        }
    }
}

impl From<DeliveryStatusDto> for DeliveryStatus {
    fn from(s: DeliveryStatusDto) -> Self {
        match s {
            DeliveryStatusDto::Pending => DeliveryStatus::Pending,
            DeliveryStatusDto::Succeeded => DeliveryStatus::Succeeded,
            DeliveryStatusDto::Dead => DeliveryStatus::Dead,
        }
    }
}

/// One event's delivery to an endpoint.
#[derive(Debug, Object)]
#[oai(rename = "WebhookDelivery")]
pub(crate) struct DeliveryDto {
    /// The delivery's id.
    id: Uuid,
    /// The endpoint's id.
    endpoint_id: Uuid,
    /// The event delivered; also the `webhook-id` header of every attempt.
    event_id: Uuid,
    /// The event's type.
    event_type: String,
    /// `pending`, `succeeded` or `dead`.
    status: DeliveryStatusDto,
    /// Attempts made (since the last retry request).
    attempts: i32,
    /// When the next attempt is due (pending deliveries; none while the endpoint is
    /// disabled).
    next_attempt_at: Option<DateTime<Utc>>,
    /// When the last attempt was made.
    last_attempt_at: Option<DateTime<Utc>>,
    /// The HTTP status of the last attempt's response, if one came.
    response_status: Option<i32>,
    /// Why the last attempt failed: `http_status`, `timeout`, `connect`, `refused_address`
    /// (the host resolves to no public address), `invalid_url` or `request`.
    error: Option<String>,
    /// The start of the last response's body (at most 256 characters).
    response_snippet: Option<String>,
    /// How long the last attempt took, in milliseconds.
    latency_ms: Option<i32>,
    /// When the endpoint accepted it.
    succeeded_at: Option<DateTime<Utc>>,
    /// When the event was fanned out to this endpoint.
    created_at: DateTime<Utc>,
}

impl From<WebhookDelivery> for DeliveryDto {
    fn from(d: WebhookDelivery) -> Self {
        Self {
            id: d.id,
            endpoint_id: d.endpoint_id,
            event_id: d.event_id,
            event_type: d.event_type,
            status: d.status.into(),
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_attempt_at: d.last_attempt_at,
            response_status: d.last_status_code,
            error: d.last_error,
            response_snippet: d.last_response_snippet,
            latency_ms: d.last_latency_ms,
            succeeded_at: d.succeeded_at,
            created_at: d.created_at,
        }
    }
}

/// One page of deliveries, newest first.
#[derive(Debug, Object)]
#[oai(rename = "WebhookDeliveryPage")]
pub(crate) struct DeliveryPageDto {
    /// The deliveries of this page.
    items: Vec<DeliveryDto>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    next_cursor: Option<String>,
}

#[derive(Debug, ApiResponse)]
pub(crate) enum CreateEndpointResponse {
    /// The endpoint was created; `secret` is shown this once.
    #[oai(status = 201)]
    Created(
        Json<EndpointWithSecretDto>,
        /// The endpoint's URL.
        #[oai(header = "Location")]
        String,
        /// The endpoint's version, for `If-Match`.
        #[oai(header = "ETag")]
        String,
    ),
}

#[derive(Debug, ApiResponse)]
pub(crate) enum EndpointResponse {
    /// The endpoint.
    #[oai(status = 200)]
    Ok(
        Json<EndpointDto>,
        /// The endpoint's version, for `If-Match`.
        #[oai(header = "ETag")]
        String,
    ),
}

#[derive(Debug, ApiResponse)]
pub(crate) enum RotateSecretResponse {
    /// The new secret, shown this once; the replaced one signs too until
    /// `previous_secret_expires_at`.
    #[oai(status = 200)]
    Ok(
        Json<EndpointWithSecretDto>,
        /// The endpoint's version, for `If-Match`.
        #[oai(header = "ETag")]
        String,
    ),
}

#[derive(Debug, ApiResponse)]
pub(crate) enum ListEndpointsResponse {
    /// A page of endpoints.
    #[oai(status = 200)]
    Ok(Json<EndpointPageDto>),
}

#[derive(Debug, ApiResponse)]
pub(crate) enum DeleteEndpointResponse {
    /// The endpoint and its deliveries are gone.
    #[oai(status = 204)]
    NoContent,
}

#[derive(Debug, ApiResponse)]
pub(crate) enum ListDeliveriesResponse {
    /// A page of deliveries.
    #[oai(status = 200)]
    Ok(Json<DeliveryPageDto>),
}

#[derive(Debug, ApiResponse)]
pub(crate) enum RetryDeliveryResponse {
    /// The delivery is pending again and goes out shortly, with the same `webhook-id`.
    #[oai(status = 202)]
    Accepted(Json<DeliveryDto>),
}

fn ok(endpoint: WebhookEndpoint) -> EndpointResponse {
    let tag = version_tag(endpoint.version);
    EndpointResponse::Ok(Json(endpoint.into()), tag)
}

#[OpenApi(prefix_path = "/v1/webhooks", tag = "ApiTags::Webhooks")]
impl WebhooksApi {
    /// Create a webhook endpoint
    ///
    /// Owners and admins. Events of the listed types that happen from now on are POSTed to
    /// `url`, signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`,
    /// `webhook-signature`). The response holds the signing secret, shown this once.
    #[oai(path = "/", method = "post", operation_id = "createWebhook")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<CreateEndpointRequest>,
    ) -> Result<CreateEndpointResponse, ApiError> {
        let req = body.0;
        let created = service::webhooks::create(
            &state,
            &auth.0,
            CreateEndpoint {
                url: req.url,
                event_types: req.event_types,
                description: req.description.map(Text::into_value),
            },
        )
        .await?;
        let dto = EndpointWithSecretDto::from(created);
        let location = format!("/v1/webhooks/{}", dto.endpoint.id);
        let tag = version_tag(dto.endpoint.version);
        Ok(CreateEndpointResponse::Created(Json(dto), location, tag))
    }

    /// List webhook endpoints
    ///
    /// Oldest first, in pages of `limit` (1 to 100, default 20). Owners and admins.
    #[oai(path = "/", method = "get", operation_id = "listWebhooks")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// Page size, 1 to 100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
        /// `next_cursor` of the previous page; omit for the first page.
        cursor: Query<Option<Text<Cursor>>>,
    ) -> Result<ListEndpointsResponse, ApiError> {
        let limit = limit.0.unwrap_or(DEFAULT_PAGE_SIZE);
        let (items, next) =
            service::webhooks::list(&state, &auth.0, cursor.0.as_deref(), limit).await?;
        Ok(ListEndpointsResponse::Ok(Json(EndpointPageDto {
            items: items.into_iter().map(EndpointDto::from).collect(),
            next_cursor: next,
        })))
    }

    /// Get a webhook endpoint
    ///
    /// Without its secret. Owners and admins; another organization's ids answer 404.
    #[oai(path = "/:id", method = "get", operation_id = "getWebhook")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The endpoint's id.
        id: Path<Uuid>,
    ) -> Result<EndpointResponse, ApiError> {
        Ok(ok(service::webhooks::get(&state, &auth.0, id.0).await?))
    }

    /// Update a webhook endpoint
    ///
    /// Change its URL, event types or description, or disable and enable it. With
    /// `If-Match: "<version>"`, only if nobody changed it since (412 otherwise).
    #[oai(path = "/:id", method = "patch", operation_id = "updateWebhook")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The endpoint's id.
        id: Path<Uuid>,
        /// The `ETag` last read (`"<version>"`), or `*`; any other value is 400
        /// `INVALID_HEADER`.
        #[oai(name = "If-Match")]
        if_match: Header<Option<IfMatch>>,
        body: JsonBody<UpdateEndpointRequest>,
    ) -> Result<EndpointResponse, ApiError> {
        let req = body.0;
        let endpoint = service::webhooks::update(
            &state,
            &auth.0,
            id.0,
            UpdateEndpoint {
                url: req.url,
                event_types: req.event_types,
                description: req.description.map(Text::into_value),
                enabled: req.enabled,
            },
            if_match.0.map(|tag| tag.0),
        )
        .await?;
        Ok(ok(endpoint))
    }

    /// Delete a webhook endpoint
    ///
    /// The endpoint and its deliveries go; nothing more is sent to it. Honours `If-Match`.
    #[oai(path = "/:id", method = "delete", operation_id = "deleteWebhook")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The endpoint's id.
        id: Path<Uuid>,
        /// The `ETag` last read (`"<version>"`), or `*`; any other value is 400
        /// `INVALID_HEADER`.
        #[oai(name = "If-Match")]
        if_match: Header<Option<IfMatch>>,
    ) -> Result<DeleteEndpointResponse, ApiError> {
        service::webhooks::delete(&state, &auth.0, id.0, if_match.0.map(|tag| tag.0)).await?;
        Ok(DeleteEndpointResponse::NoContent)
    }

    /// Rotate a webhook endpoint's signing secret
    ///
    /// A new secret signs every delivery from now on; the replaced one keeps signing too
    /// (two signatures in `webhook-signature`) for `overlap_seconds`, so receivers can switch
    /// without missing a delivery. The new secret is shown this once. Honours `If-Match`.
    #[oai(
        path = "/:id/rotate-secret",
        method = "post",
        operation_id = "rotateWebhookSecret"
    )]
    async fn rotate_secret(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The endpoint's id.
        id: Path<Uuid>,
        /// The `ETag` last read (`"<version>"`), or `*`; any other value is 400
        /// `INVALID_HEADER`.
        #[oai(name = "If-Match")]
        if_match: Header<Option<IfMatch>>,
        body: JsonBody<RotateSecretRequest>,
    ) -> Result<RotateSecretResponse, ApiError> {
        let overlap = body
            .0
            .overlap_seconds
            .map_or(DEFAULT_OVERLAP, Duration::from_secs);
        let rotated = service::webhooks::rotate_secret(
            &state,
            &auth.0,
            id.0,
            overlap,
            if_match.0.map(|tag| tag.0),
        )
        .await?;
        let dto = EndpointWithSecretDto::from(rotated);
        let tag = version_tag(dto.endpoint.version);
        Ok(RotateSecretResponse::Ok(Json(dto), tag))
    }

    /// List an endpoint's deliveries
    ///
    /// Newest first, optionally of one `status`, with what the last attempt got (response
    /// status, latency, error, the start of the response body). Owners and admins.
    #[oai(
        path = "/:id/deliveries",
        method = "get",
        operation_id = "listWebhookDeliveries"
    )]
    async fn list_deliveries(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The endpoint's id.
        id: Path<Uuid>,
        /// Only deliveries in this state.
        status: Query<Option<DeliveryStatusDto>>,
        /// Page size, 1 to 100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
        /// `next_cursor` of the previous page; omit for the first page.
        cursor: Query<Option<Text<Cursor>>>,
    ) -> Result<ListDeliveriesResponse, ApiError> {
        let limit = limit.0.unwrap_or(DEFAULT_PAGE_SIZE);
        let (items, next) = service::webhooks::list_deliveries(
            &state,
            &auth.0,
            id.0,
            status.0.map(Into::into),
            cursor.0.as_deref(),
            limit,
        )
        .await?;
        Ok(ListDeliveriesResponse::Ok(Json(DeliveryPageDto {
            items: items.into_iter().map(DeliveryDto::from).collect(),
            next_cursor: next,
        })))
    }

    /// Redeliver
    ///
    /// Sends a delivery again (succeeded, dead or pending): the same event with the same
    /// `webhook-id`, a fresh series of attempts. Owners and admins.
    #[oai(
        path = "/:id/deliveries/:delivery_id/retry",
        method = "post",
        operation_id = "retryWebhookDelivery"
    )]
    async fn retry_delivery(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The endpoint's id.
        id: Path<Uuid>,
        /// The delivery's id.
        delivery_id: Path<Uuid>,
    ) -> Result<RetryDeliveryResponse, ApiError> {
        let delivery =
            service::webhooks::retry_delivery(&state, &auth.0, id.0, delivery_id.0).await?;
        Ok(RetryDeliveryResponse::Accepted(Json(delivery.into())))
    }
}
