//! `sql/queries/emails/*.sql`: the outbox, written by requests.

use uuid::Uuid;

use crate::db::TenantTx;
use crate::error::AppError;
use crate::sql;

/// Queues an email of `kind` to `recipient` in the transaction's organization, with the
/// template's variables.
pub(crate) async fn insert(
    tx: &mut TenantTx,
    kind: &str,
    recipient: &str,
    data: &serde_json::Value,
) -> Result<(), AppError> {
    let org_id = *tx.org_id().as_uuid();
    let id = Uuid::now_v7();
    tx.execute(
        &sql!("emails/insert.sql"),
        &[&org_id, &id, &kind, &recipient, data],
    )
    .await?;
    Ok(())
}
