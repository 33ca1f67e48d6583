//! Webhook endpoints of the caller's organization, and the rules for them:
//! - owners and admins (people or admin keys) manage endpoints and read deliveries; members
//!   get 403 (the database's policies say the same);
//! - a URL is http(s), without credentials or fragment, at most 2000 characters; an address
//!   written in it must be public (unless TENANTRY_WEBHOOK_ALLOW_PRIVATE); the relay checks
//!   the addresses a name resolves to at every attempt;
//! - the signing secret is shown once, at creation and at each rotation; a rotation keeps the
//!   replaced secret signing for the overlap asked for (at most [`MAX_OVERLAP`]).

use std::time::Duration;

use chrono::Utc;
use uuid::Uuid;

use super::events;
use super::{AppState, MAX_PAGE_SIZE, Precondition, authorized, decode_cursor, paginate, retrying};
use crate::auth::Principal;
use crate::db::TenantTx;
use crate::domain::webhooks::{
    DeliveryStatus, MAX_EVENT_TYPES, WebhookDelivery, WebhookEndpoint, is_event_type_filter,
};
use crate::domain::{Description, EventType, Position, Role};
use crate::error::{AppError, FieldError};
use crate::repo::webhooks::{self, EndpointChanges, NewEndpoint};
use crate::webhooks::outbound::{self, Failure};
use crate::webhooks::signing;

/// The longest a replaced secret keeps signing after a rotation.
pub const MAX_OVERLAP: Duration = Duration::from_secs(7 * 24 * 3600);
/// The overlap when a rotation names none.
pub const DEFAULT_OVERLAP: Duration = Duration::from_secs(24 * 3600);
/// The longest URL.
pub const MAX_URL_CHARS: usize = 2000;

/// The webhook rules that depend on the settings.
#[derive(Debug, Clone, Copy)]
pub struct WebhookPolicy {
    /// TENANTRY_WEBHOOK_ALLOW_PRIVATE.
    pub allow_private: bool,
}

pub(crate) struct CreateEndpoint {
    pub url: String,
    pub event_types: Vec<String>,
    pub description: Option<Description>,
}

pub(crate) struct UpdateEndpoint {
    pub url: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub description: Option<Description>,
    pub enabled: Option<bool>,
}

/// An endpoint with its secret as shown once (creation, rotation).
pub(crate) struct WithSecret {
    pub endpoint: WebhookEndpoint,
    pub secret: String,
}

fn authorize(role: Role) -> Result<(), AppError> {
    if role.manages_users() {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "only owners and admins manage webhooks",
        ))
    }
}

fn check_url(state: &AppState, url: &str) -> Result<(), AppError> {
    if url.chars().count() > MAX_URL_CHARS {
        return Err(AppError::validation(
            "url",
            format!("must be at most {MAX_URL_CHARS} characters"),
        ));
    }
    match outbound::check_url(url, state.webhooks.allow_private) {
        Ok(_) => Ok(()),
        Err(Failure::RefusedAddress) => Err(AppError::validation(
            "url",
            "must not name a loopback, private, link-local or otherwise non-public address",
        )),
        Err(_) => Err(AppError::validation(
            "url",
            "must be an absolute http or https URL without credentials or fragment",
        )),
    }
}

fn check_event_types(types: &[String]) -> Result<(), AppError> {
    let mut details = Vec::new();
    if types.is_empty() || types.len() > MAX_EVENT_TYPES {
        details.push(FieldError::new(
            "event_types",
            format!("must hold 1 to {MAX_EVENT_TYPES} entries"),
        ));
    }
    for (i, t) in types.iter().enumerate() {
        if !is_event_type_filter(t) {
            details.push(FieldError::new(
                format!("event_types[{i}]"),
                "must be `*`, an event type (`user.created`) or a resource's types (`user.*`)",
            ));
        }
    }
    if details.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation { details })
    }
}

/// The organization's newest event: where a new or re-enabled endpoint's fan-out starts.
async fn newest_event_seq(tx: &mut TenantTx) -> Result<i64, AppError> {
    webhooks::newest_event_seq(tx).await
}

pub(crate) async fn create(
    state: &AppState,
    principal: &Principal,
    input: CreateEndpoint,
) -> Result<WithSecret, AppError> {
    check_url(state, &input.url)?;
    check_event_types(&input.event_types)?;
    let secret = signing::new_secret();
    let id = Uuid::now_v7();
    let description = input.description.as_ref().map_or("", Description::as_str);
    let input = &input;
    let secret_ref = &secret;
    let endpoint = retrying(|| async move {
        let mut tx = state.db.tenant_tx(principal).await?;
        let seq = newest_event_seq(&mut tx).await;
        let seq = authorized(&tx, seq, authorize)?;
        let endpoint = webhooks::insert(
            &mut tx,
            &NewEndpoint {
                id,
                url: &input.url,
                event_types: &input.event_types,
                description,
                secret: secret_ref,
                last_event_seq: seq,
            },
        )
        .await?;
        events::record(&mut tx, EventType::WebhookEndpointCreated, &endpoint);
        tx.commit().await?;
        Ok(endpoint)
    })
    .await?;
    tracing::info!(webhook_id = %endpoint.id, "webhook endpoint created");
    Ok(WithSecret {
        endpoint,
        secret: signing::display_secret(&secret),
    })
}

pub(crate) async fn get(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<WebhookEndpoint, AppError> {
    let mut tx = state.db.tenant_tx(principal).await?;
    tx.commit_with_next_statement();
    let endpoint = webhooks::get(&mut tx, id).await;
    let endpoint = authorized(&tx, endpoint, authorize)?;
    tx.commit().await?;
    endpoint.ok_or(AppError::NotFound)
}

pub(crate) async fn list(
    state: &AppState,
    principal: &Principal,
    cursor: Option<&str>,
    limit: u32,
) -> Result<(Vec<WebhookEndpoint>, Option<String>), AppError> {
    let limit = limit.clamp(1, MAX_PAGE_SIZE);
    let after = decode_cursor(state, principal.org_id(), "webhooks", cursor)?;
    let mut tx = state.db.tenant_tx(principal).await?;
    tx.commit_with_next_statement();
    let rows = webhooks::list(&mut tx, after.map(|p| p.id), i64::from(limit) + 1).await;
    let rows = authorized(&tx, rows, authorize)?;
    tx.commit().await?;
    Ok(paginate(
        state,
        principal.org_id(),
        "webhooks",
        rows,
        limit,
        |e| Position {
            id: e.id,
            key: None,
        },
    ))
}

/// Locks the endpoint for a change, after the role and `If-Match` checks.
async fn lock(
    tx: &mut TenantTx,
    id: Uuid,
    precondition: Option<Precondition>,
) -> Result<WebhookEndpoint, AppError> {
    let endpoint = webhooks::get_for_update(tx, id).await;
    let endpoint = authorized(tx, endpoint, authorize)?.ok_or(AppError::NotFound)?;
    Precondition::check(precondition, endpoint.version)?;
    Ok(endpoint)
}

pub(crate) async fn update(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    input: UpdateEndpoint,
    precondition: Option<Precondition>,
) -> Result<WebhookEndpoint, AppError> {
    if let Some(url) = &input.url {
        check_url(state, url)?;
    }
    if let Some(types) = &input.event_types {
        check_event_types(types)?;
    }
    let input = &input;
    retrying(|| async move {
        let mut tx = state.db.tenant_tx(principal).await?;
        let before = lock(&mut tx, id, precondition).await?;
        let seq = newest_event_seq(&mut tx).await?;
        let endpoint = webhooks::update(
            &mut tx,
            id,
            &EndpointChanges {
                url: input.url.as_deref(),
                event_types: input.event_types.as_deref(),
                description: input.description.as_ref().map(Description::as_str),
                enabled: input.enabled,
                last_event_seq: seq,
                now: Utc::now(),
            },
        )
        .await?
        .ok_or(AppError::NotFound)?;
        let was_enabled = before.disabled_reason.is_none();
        let is_enabled = endpoint.disabled_reason.is_none();
        if was_enabled != is_enabled {
            webhooks::park_deliveries(&mut tx, id, is_enabled).await?;
        }
        events::record(&mut tx, EventType::WebhookEndpointUpdated, &endpoint);
        tx.commit().await?;
        Ok(endpoint)
    })
    .await
}

pub(crate) async fn delete(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    precondition: Option<Precondition>,
) -> Result<(), AppError> {
    retrying(|| async move {
        let mut tx = state.db.tenant_tx(principal).await?;
        let endpoint = lock(&mut tx, id, precondition).await?;
        if !webhooks::delete(&mut tx, id).await? {
            return Err(AppError::NotFound);
        }
        events::record(&mut tx, EventType::WebhookEndpointDeleted, &endpoint);
        tx.commit().await
    })
    .await?;
    tracing::info!(webhook_id = %id, "webhook endpoint deleted");
    Ok(())
}

/// Replaces the signing secret; the replaced one keeps signing for `overlap`.
pub(crate) async fn rotate_secret(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
    overlap: Duration,
    precondition: Option<Precondition>,
) -> Result<WithSecret, AppError> {
    if overlap > MAX_OVERLAP {
        return Err(AppError::validation(
            "overlap_seconds",
            format!("must be at most {}", MAX_OVERLAP.as_secs()),
        ));
    }
    let secret = signing::new_secret();
    let secret_ref = &secret;
    let endpoint = retrying(|| async move {
        let mut tx = state.db.tenant_tx(principal).await?;
        lock(&mut tx, id, precondition).await?;
        let until = Utc::now() + chrono::Duration::from_std(overlap).map_err(AppError::internal)?;
        let endpoint = webhooks::rotate_secret(&mut tx, id, secret_ref, until)
            .await?
            .ok_or(AppError::NotFound)?;
        events::record(&mut tx, EventType::WebhookEndpointSecretRotated, &endpoint);
        tx.commit().await?;
        Ok(endpoint)
    })
    .await?;
    tracing::info!(webhook_id = %id, overlap_secs = overlap.as_secs(), "webhook secret rotated");
    Ok(WithSecret {
        endpoint,
        secret: signing::display_secret(&secret),
    })
}

pub(crate) async fn list_deliveries(
    state: &AppState,
    principal: &Principal,
    endpoint_id: Uuid,
    status: Option<DeliveryStatus>,
    cursor: Option<&str>,
    limit: u32,
) -> Result<(Vec<WebhookDelivery>, Option<String>), AppError> {
    let limit = limit.clamp(1, MAX_PAGE_SIZE);
    let list_name = "webhook_deliveries";
    let before = decode_cursor(state, principal.org_id(), list_name, cursor)?;
    let mut tx = state.db.tenant_tx(principal).await?;
    let endpoint = webhooks::get(&mut tx, endpoint_id).await;
    authorized(&tx, endpoint, authorize)?.ok_or(AppError::NotFound)?;
    tx.commit_with_next_statement();
    let rows = webhooks::list_deliveries(
        &mut tx,
        endpoint_id,
        status,
        before.map(|p| p.id),
        i64::from(limit) + 1,
    )
    .await?;
    tx.commit().await?;
    Ok(paginate(
        state,
        principal.org_id(),
        list_name,
        rows,
        limit,
        |d| Position {
            id: d.id,
            key: None,
        },
    ))
}

/// Sends a delivery again: same event, same `webhook-id`, a fresh series of attempts.
pub(crate) async fn retry_delivery(
    state: &AppState,
    principal: &Principal,
    endpoint_id: Uuid,
    id: Uuid,
) -> Result<WebhookDelivery, AppError> {
    retrying(|| async move {
        let mut tx = state.db.tenant_tx(principal).await?;
        let endpoint = webhooks::get(&mut tx, endpoint_id).await;
        let endpoint = authorized(&tx, endpoint, authorize)?.ok_or(AppError::NotFound)?;
        let delivery =
            webhooks::retry_delivery(&mut tx, endpoint_id, id, endpoint.disabled_reason.is_none())
                .await?
                .ok_or(AppError::NotFound)?;
        tx.commit().await?;
        Ok(delivery)
    })
    .await
}
