//! The caller's organization.

use super::AppState;
use crate::auth::Principal;
use crate::domain::Organization;
use crate::error::AppError;
use crate::repo::organizations;

pub(crate) async fn current(
    state: &AppState,
    principal: &Principal,
) -> Result<Organization, AppError> {
    let mut tx = state.db.tenant_tx(principal).await?;
    tx.commit_with_next_statement();
    let org = organizations::get(&mut tx)
        .await?
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(org)
}
