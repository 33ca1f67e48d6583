//! `/v1/api-keys`: machine access for the caller's organization.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde::Deserialize;
use uuid::Uuid;

use super::ApiTags;
use super::body::JsonBody;
use super::envelope::ApiError;
use super::security::BearerAuth;
use super::text::Text;
use crate::auth::api_key;
use crate::domain::{Actor, ActorKind, ApiKey, ApiKeyId, ApiKeyName, Cursor, Role};
use crate::service::api_keys::CreateApiKey;
use crate::service::{self, AppState, DEFAULT_PAGE_SIZE};

pub(crate) struct ApiKeysApi;

/// What an API key may do: an `admin` key what an admin may, a `member` key what a member may
/// (but nothing that needs a person: a key owns no projects and has no sessions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Deserialize)]
#[oai(rename = "ApiKeyRole", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub(crate) enum KeyRoleDto {
    Admin,
    Member,
}

impl From<KeyRoleDto> for Role {
    fn from(role: KeyRoleDto) -> Self {
        match role {
            KeyRoleDto::Admin => Role::Admin,
            KeyRoleDto::Member => Role::Member,
        }
    }
}

/// The kind of caller that acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "ActorType", rename_all = "snake_case")]
pub(crate) enum ActorTypeDto {
    /// A person, through their access token: `id` is the user's.
    User,
    /// An API key: `id` is the key's.
    ApiKey,
}

/// Who acted: a user or an API key.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Actor")]
pub(crate) struct ActorDto {
    /// `user` or `api_key`.
    #[oai(rename = "type")]
    kind: ActorTypeDto,
    /// The user's or the key's id.
    id: Uuid,
}

impl From<Actor> for ActorDto {
    fn from(actor: Actor) -> Self {
        Self {
            kind: match actor.kind {
                ActorKind::User => ActorTypeDto::User,
                ActorKind::ApiKey => ActorTypeDto::ApiKey,
            },
            id: actor.id,
        }
    }
}

/// An API key that is not revoked, without its secret (shown once, at creation).
#[derive(Debug, Object)]
#[oai(rename = "ApiKey")]
pub(crate) struct ApiKeyDto {
    /// The key's id.
    id: Uuid,
    /// What the key is for.
    name: String,
    /// The start of the key (`tnt_` and its id, not secret): matches a key found in a log or
    /// by a secret scanner to this entry.
    prefix: String,
    /// What the key may do.
    role: KeyRoleDto,
    /// When the key was created.
    created_at: DateTime<Utc>,
    /// Who created it.
    created_by: Option<ActorDto>,
    /// When the key last authenticated a request (recorded at most once a minute).
    last_used_at: Option<DateTime<Utc>>,
    /// When the key stops working, if ever.
    expires_at: Option<DateTime<Utc>>,
}

/// An event's payload is the key's response body (never its secret).
impl service::events::Resource for ApiKey {
    fn subject_id(&self) -> Uuid {
        *self.id.as_uuid()
    }

    fn payload(&self) -> serde_json::Value {
        poem_openapi::types::ToJSON::to_json(&ApiKeyDto::from(self.clone())).unwrap_or_default()
    }
}

impl From<ApiKey> for ApiKeyDto {
    fn from(key: ApiKey) -> Self {
        Self {
            id: *key.id.as_uuid(),
            name: key.name,
            prefix: api_key::handle(key.id),
            role: match key.role {
                Role::Admin | Role::Owner => KeyRoleDto::Admin,
                Role::Member => KeyRoleDto::Member,
            },
            created_at: key.created_at,
            created_by: key.created_by.map(ActorDto::from),
            last_used_at: key.last_used_at,
            expires_at: key.expires_at,
        }
    }
}

/// A key just created, with its secret.
#[derive(Debug, Object)]
#[oai(rename = "CreatedApiKey")]
pub(crate) struct CreatedApiKeyDto {
    #[oai(flatten)]
    api_key: ApiKeyDto,
    /// The key, for `Authorization: Bearer <key>`. Shown this once: only a hash of it is
    /// stored. Keep it in a secret store; revoke the key if it leaks. It starts with `tnt_`
    /// and ends with a checksum, so secret scanners recognise it.
    key: String,
}

/// A new API key.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateApiKeyRequest {
    /// What the key is for (visible text, 1 to 200 characters, as for names).
    name: Text<ApiKeyName>,
    /// `member`, or `admin` (owners only).
    role: KeyRoleDto,
    /// When the key stops working (in the future); never when omitted.
    #[serde(default)]
    expires_at: Option<DateTime<Utc>>,
}

/// One page of API keys, oldest first.
#[derive(Debug, Object)]
#[oai(rename = "ApiKeyPage")]
pub(crate) struct ApiKeyPageDto {
    /// The keys of this page.
    items: Vec<ApiKeyDto>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    next_cursor: Option<String>,
}

#[derive(Debug, ApiResponse)]
pub(crate) enum CreateApiKeyResponse {
    /// The key was created; `key` is its secret, shown this once.
    #[oai(status = 201)]
    Created(
        Json<CreatedApiKeyDto>,
        /// The key's URL.
        #[oai(header = "Location")]
        String,
    ),
}

#[derive(Debug, ApiResponse)]
pub(crate) enum ListApiKeysResponse {
    /// A page of keys.
    #[oai(status = 200)]
    Ok(Json<ApiKeyPageDto>),
}

#[derive(Debug, ApiResponse)]
pub(crate) enum ApiKeyResponse {
    /// The key (without its secret).
    #[oai(status = 200)]
    Ok(Json<ApiKeyDto>),
}

#[derive(Debug, ApiResponse)]
pub(crate) enum RevokeApiKeyResponse {
    /// The key is revoked: its next request fails.
    #[oai(status = 204)]
    NoContent,
}

#[OpenApi(prefix_path = "/v1/api-keys", tag = "ApiTags::ApiKeys")]
impl ApiKeysApi {
    /// Create an API key
    ///
    /// Owners and admins, with their own access token (an API key cannot create keys: 403
    /// `PERSON_ONLY`). A key's role is at most `admin`, and only owners create admin keys.
    /// The response holds the key itself, shown this once.
    #[oai(path = "/", method = "post", operation_id = "createApiKey")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<CreateApiKeyRequest>,
    ) -> Result<CreateApiKeyResponse, ApiError> {
        let req = body.0;
        let input = CreateApiKey {
            name: req.name.into_value(),
            role: req.role.into(),
            expires_at: req.expires_at,
        };
        let created = service::api_keys::create(&state, &auth.0, input).await?;
        let api_key = ApiKeyDto::from(created.key);
        let location = format!("/v1/api-keys/{}", api_key.id);
        Ok(CreateApiKeyResponse::Created(
            Json(CreatedApiKeyDto {
                api_key,
                key: created.text,
            }),
            location,
        ))
    }

    /// List API keys
    ///
    /// The organization's keys that are not revoked (expired ones included), oldest first, in
    /// pages of `limit` (1 to 100, default 20); never their secrets. Owners and admins.
    #[oai(path = "/", method = "get", operation_id = "listApiKeys")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// Page size, 1 to 100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
        /// `next_cursor` of the previous page; omit for the first page.
        cursor: Query<Option<Text<Cursor>>>,
    ) -> Result<ListApiKeysResponse, ApiError> {
        let limit = limit.0.unwrap_or(DEFAULT_PAGE_SIZE);
        let (keys, next) =
            service::api_keys::list(&state, &auth.0, cursor.0.as_deref(), limit).await?;
        Ok(ListApiKeysResponse::Ok(Json(ApiKeyPageDto {
            items: keys.into_iter().map(ApiKeyDto::from).collect(),
            next_cursor: next,
        })))
    }

    /// Get an API key
    ///
    /// One key of the organization, without its secret; a revoked key is not found (404).
    /// Owners and admins.
    #[oai(path = "/:id", method = "get", operation_id = "getApiKey")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The key's id.
        id: Path<Uuid>,
    ) -> Result<ApiKeyResponse, ApiError> {
        let key = service::api_keys::get(&state, &auth.0, ApiKeyId::from_uuid(id.0)).await?;
        Ok(ApiKeyResponse::Ok(Json(key.into())))
    }

    /// Revoke an API key
    ///
    /// The key fails from its next request on, and is gone from the list and reads (404
    /// afterwards, also for a second revocation). Owners and admins, with their own access
    /// token (403 `PERSON_ONLY` for an API key).
    #[oai(path = "/:id", method = "delete", operation_id = "revokeApiKey")]
    async fn revoke(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The key's id.
        id: Path<Uuid>,
    ) -> Result<RevokeApiKeyResponse, ApiError> {
        service::api_keys::revoke(&state, &auth.0, ApiKeyId::from_uuid(id.0)).await?;
        Ok(RevokeApiKeyResponse::NoContent)
    }
}
