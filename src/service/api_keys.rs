//! API keys of the caller's organization, and the rules for them:
//! - owners and admins list and read the organization's keys; members do not;
//! - creating and revoking keys are a person's acts (an API key cannot mint or revoke keys:
//!   403 `PERSON_ONLY`), by owners and admins;
//! - a key's role is at most `admin`, and only owners create admin keys (admins create member
//!   keys); owners and admins revoke any key;
//! - the key's text is shown once, by [`create`]; only the SHA-256 of its secret is stored.
//!
//! The same rules hold in the database (RLS policies and the trigger of migration V19).

use chrono::{DateTime, Utc};

use super::{AppState, MAX_PAGE_SIZE, authorized, decode_cursor, events, paginate, require_person};
use crate::auth::Principal;
use crate::auth::api_key::NewKey;
use crate::domain::{ApiKey, ApiKeyId, ApiKeyName, EventType, Position, Role};
use crate::error::AppError;
use crate::repo::api_keys::{self, NewApiKey};

pub(crate) struct CreateApiKey {
    pub name: ApiKeyName,
    pub role: Role,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A key just created, with its text: the only time anyone sees it.
pub(crate) struct CreatedKey {
    pub key: ApiKey,
    pub text: String,
}

fn authorize_read(role: Role) -> Result<(), AppError> {
    if role.manages_users() {
        Ok(())
    } else {
        Err(AppError::forbidden(
            "only owners and admins manage API keys",
        ))
    }
}

fn authorize_create(role: Role, key_role: Role) -> Result<(), AppError> {
    authorize_read(role)?;
    match key_role {
        Role::Owner => Err(AppError::forbidden(
            "an API key's role is at most admin: owners are people",
        )),
        Role::Admin if role != Role::Owner => {
            Err(AppError::forbidden("only owners create admin API keys"))
        }
        _ => Ok(()),
    }
}

/// Creates a key in the caller's organization and returns it with its text.
pub(crate) async fn create(
    state: &AppState,
    principal: &Principal,
    input: CreateApiKey,
) -> Result<CreatedKey, AppError> {
    require_person(state, principal).await?;
    let new = NewKey::generate(principal.org_id());
    let mut tx = state.db.tenant_tx(principal).await?;
    let inserted = api_keys::insert(
        &mut tx,
        &NewApiKey {
            id: new.id,
            name: input.name.as_str(),
            role: input.role,
            secret_hash: &new.secret_hash,
            expires_at: input.expires_at,
        },
    )
    .await;
    let key = authorized(&tx, inserted, |role| authorize_create(role, input.role))?;
    events::record(&mut tx, EventType::ApiKeyCreated, &key);
    tx.commit().await?;
    tracing::info!(api_key_id = %key.id, role = %key.role, "API key created");
    Ok(CreatedKey {
        key,
        text: new.text,
    })
}

/// One live key of the caller's organization (owners and admins); a revoked one is not found.
pub(crate) async fn get(
    state: &AppState,
    principal: &Principal,
    id: ApiKeyId,
) -> Result<ApiKey, AppError> {
    let mut tx = state.db.tenant_tx(principal).await?;
    tx.commit_with_next_statement();
    let key = api_keys::get(&mut tx, id).await;
    let key = authorized(&tx, key, authorize_read)?;
    tx.commit().await?;
    key.ok_or(AppError::NotFound)
}

/// One page of the organization's keys that are not revoked, and the next page's cursor.
pub(crate) async fn list(
    state: &AppState,
    principal: &Principal,
    cursor: Option<&str>,
    limit: u32,
) -> Result<(Vec<ApiKey>, Option<String>), AppError> {
    let limit = limit.clamp(1, MAX_PAGE_SIZE);
    let after = decode_cursor(state, principal.org_id(), "api_keys", cursor)?;
    let mut tx = state.db.tenant_tx(principal).await?;
    tx.commit_with_next_statement();
    let rows = api_keys::list(&mut tx, after.map(|p| p.id), i64::from(limit) + 1).await;
    let rows = authorized(&tx, rows, authorize_read)?;
    tx.commit().await?;
    Ok(paginate(
        state,
        principal.org_id(),
        "api_keys",
        rows,
        limit,
        |key| Position {
            id: *key.id.as_uuid(),
            key: None,
        },
    ))
}

/// Revokes a key: its next request fails. A revoked key is gone: revoking it again is 404.
pub(crate) async fn revoke(
    state: &AppState,
    principal: &Principal,
    id: ApiKeyId,
) -> Result<(), AppError> {
    require_person(state, principal).await?;
    let mut tx = state.db.tenant_tx(principal).await?;
    let key = api_keys::get(&mut tx, id).await;
    let key = authorized(&tx, key, authorize_read)?.ok_or(AppError::NotFound)?;
    // Settles a concurrent revocation: only one of them revokes.
    if !api_keys::revoke(&mut tx, id).await? {
        return Err(AppError::NotFound);
    }
    events::record(&mut tx, EventType::ApiKeyRevoked, &key);
    tx.commit().await?;
    tracing::info!(api_key_id = %id, "API key revoked");
    Ok(())
}
