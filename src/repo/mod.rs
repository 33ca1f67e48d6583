//! Repositories: one async function per SQL file under `sql/queries/<resource>/`, named like
//! it. Each takes the transaction it runs in (tenant tables need a `TenantTx`) and maps rows
//! to typed records by column name. No business rules here.

pub(crate) mod api_keys;
pub(crate) mod auth;
pub(crate) mod emails;
pub(crate) mod events;
pub(crate) mod idempotency;
pub(crate) mod invitations;
pub(crate) mod mail;
pub(crate) mod organizations;
pub(crate) mod projects;
pub(crate) mod sessions;
pub(crate) mod user_tokens;
pub(crate) mod users;
pub(crate) mod webhooks;

use crate::error::AppError;

/// Reads a column, turning a type mismatch (a bug) into an internal error instead of a panic.
fn col<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a tokio_postgres::Row,
    name: &str,
) -> Result<T, AppError> {
    row.try_get(name).map_err(AppError::internal)
}
