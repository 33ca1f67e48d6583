//! `sql/queries/idempotency/*.sql`.

use super::col;
use crate::db::TenantTx;
use crate::error::AppError;
use crate::sql;

/// A key already claimed by an earlier request.
pub(crate) struct Claimed {
    pub operation: String,
    pub request_hash: Vec<u8>,
    pub response_status: Option<i32>,
    pub response_body: Option<serde_json::Value>,
    pub expired: bool,
}

/// True when this request claimed `key` (waiting for a concurrent claim to finish first).
pub(crate) async fn claim(
    tx: &mut TenantTx,
    key: &str,
    operation: &str,
    request_hash: &[u8],
) -> Result<bool, AppError> {
    let org_id = *tx.org_id().as_uuid();
    let rows = tx
        .query(
            &sql!("idempotency/claim.sql"),
            &[&org_id, &key, &operation, &request_hash],
        )
        .await?;
    Ok(!rows.is_empty())
}

pub(crate) async fn get(tx: &mut TenantTx, key: &str) -> Result<Option<Claimed>, AppError> {
    let org_id = *tx.org_id().as_uuid();
    tx.query_opt(&sql!("idempotency/get.sql"), &[&org_id, &key])
        .await?
        .map(|row| {
            Ok(Claimed {
                operation: col(&row, "operation")?,
                request_hash: col(&row, "request_hash")?,
                response_status: col(&row, "response_status")?,
                response_body: col(&row, "response_body")?,
                expired: col(&row, "expired")?,
            })
        })
        .transpose()
}

pub(crate) async fn reclaim(
    tx: &mut TenantTx,
    key: &str,
    operation: &str,
    request_hash: &[u8],
) -> Result<(), AppError> {
    let org_id = *tx.org_id().as_uuid();
    tx.execute(
        &sql!("idempotency/reclaim.sql"),
        &[&org_id, &key, &operation, &request_hash],
    )
    .await?;
    Ok(())
}

pub(crate) async fn complete(
    tx: &mut TenantTx,
    key: &str,
    status: i32,
    body: &serde_json::Value,
) -> Result<(), AppError> {
    let org_id = *tx.org_id().as_uuid();
    tx.execute(
        &sql!("idempotency/complete.sql"),
        &[&org_id, &key, &status, body],
    )
    .await?;
    Ok(())
}
