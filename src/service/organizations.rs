//! The caller's organization: everyone reads it, owners rename it.

use super::{AppState, authorized, events, retrying};
use crate::auth::Principal;
use crate::domain::{EventType, OrgName, Organization, Role};
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

/// Renames the caller's organization (owners; an API key is at most an admin).
pub(crate) async fn rename(
    state: &AppState,
    principal: &Principal,
    name: &OrgName,
) -> Result<Organization, AppError> {
    let authorize = |role: Role| {
        if role == Role::Owner {
            Ok(())
        } else {
            Err(AppError::forbidden("only owners change the organization"))
        }
    };
    retrying(|| async move {
        let mut tx = state.db.tenant_tx(principal).await?;
        let renamed = organizations::update(&mut tx, name.as_str()).await;
        let org = authorized(&tx, renamed, authorize)?.ok_or(AppError::NotFound)?;
        events::record(&mut tx, EventType::OrganizationUpdated, &org);
        tx.commit().await?;
        Ok(org)
    })
    .await
}
