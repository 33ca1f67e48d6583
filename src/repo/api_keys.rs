//! `sql/queries/api_keys/*.sql`.

use chrono::{DateTime, Utc};
use tokio_postgres::Row;
use uuid::Uuid;

use super::col;
use crate::db::TenantTx;
use crate::domain::{Actor, ApiKey, ApiKeyId, Role};
use crate::error::AppError;
use crate::sql;

impl TryFrom<&Row> for ApiKey {
    type Error = AppError;

    fn try_from(row: &Row) -> Result<Self, AppError> {
        let role: &str = col(row, "role")?;
        Ok(Self {
            id: ApiKeyId::from_uuid(col(row, "id")?),
            name: col(row, "name")?,
            role: Role::parse(role)
                .ok_or_else(|| AppError::internal(format!("unknown role {role:?} in api_keys")))?,
            expires_at: col(row, "expires_at")?,
            last_used_at: col(row, "last_used_at")?,
            created_at: col(row, "created_at")?,
            created_by: Actor::from_columns(col(row, "created_by_type")?, col(row, "created_by")?)
                .map_err(AppError::internal)?,
        })
    }
}

/// The fields of a new key.
pub(crate) struct NewApiKey<'a> {
    pub id: ApiKeyId,
    pub name: &'a str,
    pub role: Role,
    pub secret_hash: &'a [u8],
    pub expires_at: Option<DateTime<Utc>>,
}

pub(crate) async fn insert(tx: &mut TenantTx, key: &NewApiKey<'_>) -> Result<ApiKey, AppError> {
    let org_id = *tx.org_id().as_uuid();
    let row = tx
        .query_one(
            &sql!("api_keys/insert.sql"),
            &[
                &org_id,
                key.id.as_uuid(),
                &key.name,
                &key.role.as_str(),
                &key.secret_hash,
                &key.expires_at,
            ],
        )
        .await?;
    ApiKey::try_from(&row)
}

pub(crate) async fn get(tx: &mut TenantTx, id: ApiKeyId) -> Result<Option<ApiKey>, AppError> {
    let org_id = *tx.org_id().as_uuid();
    tx.query_opt(&sql!("api_keys/get.sql"), &[&org_id, id.as_uuid()])
        .await?
        .as_ref()
        .map(ApiKey::try_from)
        .transpose()
}

/// Up to `limit` live keys after `after` (a key id), oldest first.
pub(crate) async fn list(
    tx: &mut TenantTx,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<ApiKey>, AppError> {
    let org_id = *tx.org_id().as_uuid();
    tx.query(&sql!("api_keys/list.sql"), &[&org_id, &after, &limit])
        .await?
        .iter()
        .map(ApiKey::try_from)
        .collect()
}

/// Revokes a live key; false when there was none (missing or already revoked).
pub(crate) async fn revoke(tx: &mut TenantTx, id: ApiKeyId) -> Result<bool, AppError> {
    let org_id = *tx.org_id().as_uuid();
    let revoked = tx
        .execute(&sql!("api_keys/revoke.sql"), &[&org_id, id.as_uuid()])
        .await?;
    Ok(revoked == 1)
}
