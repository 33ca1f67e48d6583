//! `sql/queries/webhooks/*.sql`.

use chrono::{DateTime, Utc};
use tokio_postgres::Row;
use uuid::Uuid;

use super::col;
use crate::db::TenantTx;
use crate::domain::Actor;
use crate::domain::webhooks::{DeliveryStatus, WebhookDelivery, WebhookEndpoint};
use crate::error::AppError;
use crate::sql;

impl TryFrom<&Row> for WebhookEndpoint {
    type Error = AppError;

    fn try_from(row: &Row) -> Result<Self, AppError> {
        Ok(Self {
            id: col(row, "id")?,
            url: col(row, "url")?,
            event_types: col(row, "event_types")?,
            description: col(row, "description")?,
            disabled_reason: col(row, "disabled_reason")?,
            disabled_at: col(row, "disabled_at")?,
            previous_secret_expires_at: col(row, "previous_secret_expires_at")?,
            consecutive_failures: col(row, "consecutive_failures")?,
            version: col(row, "version")?,
            created_at: col(row, "created_at")?,
            updated_at: col(row, "updated_at")?,
            created_by: Actor::from_columns(col(row, "created_by_type")?, col(row, "created_by")?)
                .map_err(AppError::internal)?,
            updated_by: Actor::from_columns(col(row, "updated_by_type")?, col(row, "updated_by")?)
                .map_err(AppError::internal)?,
        })
    }
}

impl TryFrom<&Row> for WebhookDelivery {
    type Error = AppError;

    fn try_from(row: &Row) -> Result<Self, AppError> {
        let status: &str = col(row, "status")?;
        Ok(Self {
            id: col(row, "id")?,
            endpoint_id: col(row, "endpoint_id")?,
            event_id: col(row, "event_id")?,
            event_type: col(row, "event_type")?,
            status: DeliveryStatus::parse(status)
                .ok_or_else(|| AppError::internal(format!("unknown delivery status {status:?}")))?,
            attempts: col(row, "attempts")?,
            next_attempt_at: col(row, "next_attempt_at")?,
            last_attempt_at: col(row, "last_attempt_at")?,
            last_status_code: col(row, "last_status_code")?,
            last_error: col(row, "last_error")?,
            last_response_snippet: col(row, "last_response_snippet")?,
            last_latency_ms: col(row, "last_latency_ms")?,
            succeeded_at: col(row, "succeeded_at")?,
            created_at: col(row, "created_at")?,
        })
    }
}

/// The fields of a new endpoint.
pub(crate) struct NewEndpoint<'a> {
    pub id: Uuid,
    pub url: &'a str,
    pub event_types: &'a [String],
    pub description: &'a str,
    pub secret: &'a [u8],
    pub last_event_seq: i64,
}

/// The fields an update changes (None keeps one).
pub(crate) struct EndpointChanges<'a> {
    pub url: Option<&'a str>,
    pub event_types: Option<&'a [String]>,
    pub description: Option<&'a str>,
    pub enabled: Option<bool>,
    pub last_event_seq: i64,
    /// The service's clock (`disabled_at`).
    pub now: DateTime<Utc>,
}

pub(crate) async fn insert(
    tx: &mut TenantTx,
    new: &NewEndpoint<'_>,
) -> Result<WebhookEndpoint, AppError> {
    let org_id = *tx.org_id().as_uuid();
    let row = tx
        .query_one(
            &sql!("webhooks/insert.sql"),
            &[
                &org_id,
                &new.id,
                &new.url,
                &new.event_types,
                &new.description,
                &new.secret,
                &new.last_event_seq,
            ],
        )
        .await?;
    WebhookEndpoint::try_from(&row)
}

pub(crate) async fn get(tx: &mut TenantTx, id: Uuid) -> Result<Option<WebhookEndpoint>, AppError> {
    let org_id = *tx.org_id().as_uuid();
    tx.query_opt(&sql!("webhooks/get.sql"), &[&org_id, &id])
        .await?
        .as_ref()
        .map(WebhookEndpoint::try_from)
        .transpose()
}

pub(crate) async fn get_for_update(
    tx: &mut TenantTx,
    id: Uuid,
) -> Result<Option<WebhookEndpoint>, AppError> {
    let org_id = *tx.org_id().as_uuid();
    tx.query_opt(&sql!("webhooks/get_for_update.sql"), &[&org_id, &id])
        .await?
        .as_ref()
        .map(WebhookEndpoint::try_from)
        .transpose()
}

pub(crate) async fn list(
    tx: &mut TenantTx,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<WebhookEndpoint>, AppError> {
    let org_id = *tx.org_id().as_uuid();
    tx.query(&sql!("webhooks/list.sql"), &[&org_id, &after, &limit])
        .await?
        .iter()
        .map(WebhookEndpoint::try_from)
        .collect()
}

pub(crate) async fn update(
    tx: &mut TenantTx,
    id: Uuid,
    changes: &EndpointChanges<'_>,
) -> Result<Option<WebhookEndpoint>, AppError> {
    let org_id = *tx.org_id().as_uuid();
    tx.query_opt(
        &sql!("webhooks/update.sql"),
        &[
            &org_id,
            &id,
            &changes.url,
            &changes.event_types,
            &changes.description,
            &changes.enabled,
            &changes.last_event_seq,
            &changes.now,
        ],
    )
    .await?
    .as_ref()
    .map(WebhookEndpoint::try_from)
    .transpose()
}

pub(crate) async fn park_deliveries(
    tx: &mut TenantTx,
    endpoint_id: Uuid,
    enabled: bool,
) -> Result<u64, AppError> {
    let org_id = *tx.org_id().as_uuid();
    let now = Utc::now();
    tx.execute(
        &sql!("webhooks/park_deliveries.sql"),
        &[&org_id, &endpoint_id, &enabled, &now],
    )
    .await
}

pub(crate) async fn delete(tx: &mut TenantTx, id: Uuid) -> Result<bool, AppError> {
    let org_id = *tx.org_id().as_uuid();
    Ok(tx
        .execute(&sql!("webhooks/delete.sql"), &[&org_id, &id])
        .await?
        == 1)
}

pub(crate) async fn rotate_secret(
    tx: &mut TenantTx,
    id: Uuid,
    secret: &[u8],
    previous_expires_at: DateTime<Utc>,
) -> Result<Option<WebhookEndpoint>, AppError> {
    let org_id = *tx.org_id().as_uuid();
    tx.query_opt(
        &sql!("webhooks/rotate_secret.sql"),
        &[&org_id, &id, &secret, &previous_expires_at],
    )
    .await?
    .as_ref()
    .map(WebhookEndpoint::try_from)
    .transpose()
}

pub(crate) async fn list_deliveries(
    tx: &mut TenantTx,
    endpoint_id: Uuid,
    status: Option<DeliveryStatus>,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<WebhookDelivery>, AppError> {
    let org_id = *tx.org_id().as_uuid();
    let status = status.map(DeliveryStatus::as_str);
    tx.query(
        &sql!("webhooks/list_deliveries.sql"),
        &[&org_id, &endpoint_id, &status, &before, &limit],
    )
    .await?
    .iter()
    .map(WebhookDelivery::try_from)
    .collect()
}

pub(crate) async fn retry_delivery(
    tx: &mut TenantTx,
    endpoint_id: Uuid,
    id: Uuid,
    endpoint_enabled: bool,
) -> Result<Option<WebhookDelivery>, AppError> {
    let org_id = *tx.org_id().as_uuid();
    let now = Utc::now();
    tx.query_opt(
        &sql!("webhooks/retry_delivery.sql"),
        &[&org_id, &endpoint_id, &id, &endpoint_enabled, &now],
    )
    .await?
    .as_ref()
    .map(WebhookDelivery::try_from)
    .transpose()
}

pub(crate) async fn newest_event_seq(tx: &mut TenantTx) -> Result<i64, AppError> {
    let org_id = *tx.org_id().as_uuid();
    let row = tx
        .query_one(&sql!("webhooks/newest_event_seq.sql"), &[&org_id])
        .await?;
    super::col(&row, "seq")
}
