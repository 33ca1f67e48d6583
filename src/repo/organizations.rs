//! `sql/queries/organizations/*.sql`.

use tokio_postgres::Row;

use super::col;
use crate::db::TenantTx;
use crate::domain::{OrgId, Organization};
use crate::error::AppError;
use crate::sql;

impl TryFrom<&Row> for Organization {
    type Error = AppError;

    fn try_from(row: &Row) -> Result<Self, AppError> {
        Ok(Self {
            id: OrgId::from_uuid(col(row, "id")?),
            slug: col(row, "slug")?,
            name: col(row, "name")?,
            created_at: col(row, "created_at")?,
            updated_at: col(row, "updated_at")?,
        })
    }
}

/// Inserts the organization of the transaction's context (sign-up).
pub(crate) async fn insert(
    tx: &mut TenantTx,
    slug: &str,
    name: &str,
) -> Result<Organization, AppError> {
    let id = *tx.org_id().as_uuid();
    let row = tx
        .query_one(&sql!("organizations/insert.sql"), &[&id, &slug, &name])
        .await?;
    Organization::try_from(&row)
}

pub(crate) async fn get(tx: &mut TenantTx) -> Result<Option<Organization>, AppError> {
    let id = *tx.org_id().as_uuid();
    tx.query_opt(&sql!("organizations/get.sql"), &[&id])
        .await?
        .as_ref()
        .map(Organization::try_from)
        .transpose()
}

/// Renames the transaction's organization; None when the caller may not (RLS: owners only).
pub(crate) async fn update(
    tx: &mut TenantTx,
    name: &str,
) -> Result<Option<Organization>, AppError> {
    let id = *tx.org_id().as_uuid();
    tx.query_opt(&sql!("organizations/update.sql"), &[&id, &name])
        .await?
        .as_ref()
        .map(Organization::try_from)
        .transpose()
}
