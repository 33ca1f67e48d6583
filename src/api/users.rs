//! `/v1/users`: members of the caller's organization.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::Header;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ApiTags;
use super::body::JsonBody;
use super::conditional::{IfMatch, version_tag};
use super::envelope::ApiError;
use super::security::BearerAuth;
use super::text::{Text, idempotency_key_of};
use crate::domain::{Cursor, DisplayName, Email, Password, Role, User, UserId};
use crate::service::DEFAULT_PAGE_SIZE;
use crate::service::idempotency::Idempotency;
use crate::service::users::{CreateUser, UpdateUser};
use crate::service::{self, AppState};

pub(crate) struct UsersApi;

/// A member's role: owners manage everything, admins manage users except owners, members
/// read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Deserialize, Serialize)]
#[oai(rename = "Role", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub(crate) enum RoleDto {
    Owner,
    Admin,
    Member,
}

impl From<RoleDto> for Role {
    fn from(role: RoleDto) -> Self {
        match role {
            RoleDto::Owner => Role::Owner,
            RoleDto::Admin => Role::Admin,
            RoleDto::Member => Role::Member,
        }
    }
}

impl From<Role> for RoleDto {
    fn from(role: Role) -> Self {
        match role {
            Role::Owner => RoleDto::Owner,
            Role::Admin => RoleDto::Admin,
            Role::Member => RoleDto::Member,
        }
    }
}

/// A member of an organization. Password hashes are never returned.
#[derive(Debug, Object)]
pub(crate) struct UserDto {
    /// The user's id (UUIDv7).
    id: Uuid,
    /// Email address, lower-cased in Unicode NFC (the database's key); unique within the
    /// organization.
    email: String,
    /// Display name.
    display_name: String,
    /// Role in the organization.
    role: RoleDto,
    /// Bumped by every change; also sent as the `ETag` header. Send it back in `If-Match`.
    version: i64,
    /// When the user was created.
    created_at: DateTime<Utc>,
    /// When the user was last changed.
    updated_at: DateTime<Utc>,
    /// When the user was removed; only removed users listed with `include=deleted` have it.
    #[oai(skip_serializing_if_is_none)]
    deleted_at: Option<DateTime<Utc>>,
    /// When the user confirmed their email address (through the link of a verification
    /// email, or by accepting an invitation sent to it); null while unverified.
    email_verified_at: Option<DateTime<Utc>>,
}

impl From<User> for UserDto {
    fn from(user: User) -> Self {
        Self {
            id: *user.id.as_uuid(),
            email: user.email,
            display_name: user.display_name,
            role: user.role.into(),
            version: user.version,
            created_at: user.created_at,
            updated_at: user.updated_at,
            deleted_at: user.deleted_at,
            email_verified_at: user.email_verified_at,
        }
    }
}

/// An event's payload is the user's response body.
impl service::events::Resource for User {
    fn subject_id(&self) -> Uuid {
        *self.id.as_uuid()
    }

    fn payload(&self) -> serde_json::Value {
        poem_openapi::types::ToJSON::to_json(&UserDto::from(self.clone())).unwrap_or_default()
    }
}

/// Which users a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "IncludeUsers", rename_all = "lowercase")]
pub(crate) enum Include {
    /// Live users and removed ones (owners and admins only).
    Deleted,
}

/// One page of users, oldest first.
#[derive(Debug, Object)]
pub(crate) struct UserPageDto {
    /// The users of this page.
    items: Vec<UserDto>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    next_cursor: Option<String>,
}

/// A new member of the caller's organization.
#[derive(Debug, Object, Deserialize, Serialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateUserRequest {
    /// Email address, without white space or invisible characters (as for display names);
    /// stored lower-cased in Unicode NFC and unique within the organization in that form.
    email: Text<Email>,
    /// Display name, 1 to 200 characters of visible text, without control, format or
    /// invisible characters (zero-width spaces and joiners, bidirectional controls, soft
    /// hyphens, tag characters, ...; the pattern names those below U+10000); stored in NFC.
    display_name: Text<DisplayName>,
    /// Initial password, 8 to 128 characters.
    // Never part of an idempotency fingerprint: a password is not stored, even hashed, there.
    #[serde(skip_serializing)]
    password: Text<Password>,
    /// Role; `member` when omitted. Only owners may create owners.
    #[serde(default)]
    role: Option<RoleDto>,
}

/// Fields to change; omitted (or null) fields keep their value.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateUserRequest {
    /// New email address (same rules as on creation).
    #[serde(default)]
    email: Option<Text<Email>>,
    /// New display name (same rules as on creation).
    #[serde(default)]
    display_name: Option<Text<DisplayName>>,
    /// New role (owners and admins only; never one's own).
    #[serde(default)]
    role: Option<RoleDto>,
    /// New password, 8 to 128 characters.
    #[serde(default)]
    password: Option<Text<Password>>,
    /// Your current password. Required to change your own password or email (403
    /// `REAUTHENTICATION_REQUIRED` without it, `INVALID_CURRENT_PASSWORD` when wrong, 429
    /// after too many wrong ones), so that an access token alone cannot take an account over.
    /// Not needed to edit other users.
    #[oai(validator(max_length = 1024))]
    #[serde(default)]
    current_password: Option<String>,
}

#[derive(Debug, ApiResponse)]
pub(crate) enum ListUsersResponse {
    /// A page of users.
    #[oai(status = 200)]
    Ok(Json<UserPageDto>),
}

#[derive(Debug, ApiResponse)]
pub(crate) enum CreateUserResponse {
    /// The user was created.
    #[oai(status = 201)]
    Created(
        Json<UserDto>,
        /// The new user's URL.
        #[oai(header = "Location")]
        String,
    ),
}

#[derive(Debug, ApiResponse)]
pub(crate) enum UserResponse {
    /// The user.
    #[oai(status = 200)]
    Ok(
        Json<UserDto>,
        /// The user's version, for `If-Match`.
        #[oai(header = "ETag")]
        String,
    ),
}

fn ok(user: User) -> UserResponse {
    let tag = version_tag(user.version);
    UserResponse::Ok(Json(user.into()), tag)
}

#[derive(Debug, ApiResponse)]
pub(crate) enum DeleteUserResponse {
    /// The user was removed.
    #[oai(status = 204)]
    NoContent,
}

#[OpenApi(prefix_path = "/v1/users", tag = "ApiTags::Users")]
impl UsersApi {
    /// List users
    ///
    /// Users of the caller's organization, oldest first, in pages of `limit` (1 to 100,
    /// default 20). Follow `next_cursor` until it is `null`. With `include=deleted`, owners and
    /// admins also see removed users (with `deleted_at`).
    #[oai(path = "/", method = "get", operation_id = "listUsers")]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// Page size, 1 to 100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
        /// `next_cursor` of the previous page; omit for the first page.
        cursor: Query<Option<Text<Cursor>>>,
        /// `deleted` to include removed users (owners and admins only).
        include: Query<Option<Include>>,
    ) -> Result<ListUsersResponse, ApiError> {
        let limit = limit.0.unwrap_or(DEFAULT_PAGE_SIZE);
        let include_deleted = include.0 == Some(Include::Deleted);
        let (users, next) =
            service::users::list(&state, &auth.0, cursor.0.as_deref(), limit, include_deleted)
                .await?;
        Ok(ListUsersResponse::Ok(Json(UserPageDto {
            items: users.into_iter().map(UserDto::from).collect(),
            next_cursor: next,
        })))
    }

    /// Add a user
    ///
    /// Adds a member to the caller's organization (owners and admins only). An email that is
    /// already a member's, in any letter case, answers 409 `EMAIL_ALREADY_EXISTS`. With an
    /// `Idempotency-Key`, retrying returns the first response without adding twice; the key's
    /// fingerprint covers every field but the password.
    #[oai(path = "/", method = "post", operation_id = "createUser")]
    async fn create(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// A client-chosen unique string (1 to 255 visible ASCII characters) that makes
        /// retries safe; any other value is 400 `INVALID_HEADER`.
        #[oai(
            name = "Idempotency-Key",
            validator(min_length = 1, max_length = 255, pattern = "^[ -~]+$")
        )]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<CreateUserRequest>,
    ) -> Result<CreateUserResponse, ApiError> {
        let req = body.0;
        let idem = idempotency_key
            .0
            .map(|key| Idempotency::new(idempotency_key_of(&key)?, "createUser", &req))
            .transpose()?;
        let input = CreateUser {
            email: req.email.into_value(),
            display_name: req.display_name.into_value(),
            password: req.password.into_value(),
            role: req.role.map_or(Role::Member, Role::from),
        };
        let user = service::users::create(&state, &auth.0, input, idem).await?;
        let dto = UserDto::from(user);
        let location = format!("/v1/users/{}", dto.id);
        Ok(CreateUserResponse::Created(Json(dto), location))
    }

    /// Get a user
    ///
    /// A user of the caller's organization. Ids of other organizations answer 404, exactly
    /// like ids that do not exist.
    #[oai(path = "/:id", method = "get", operation_id = "getUser")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The user's id.
        id: Path<Uuid>,
    ) -> Result<UserResponse, ApiError> {
        let user = service::users::get(&state, &auth.0, UserId::from_uuid(id.0)).await?;
        Ok(ok(user))
    }

    /// Update a user
    ///
    /// Anyone may change their own email, display name and password; changing one's own
    /// password or email needs `current_password`. Owners and admins may change other users
    /// (a password reset needs nothing of the user's); only owners may touch owners or grant
    /// the owner role. Nobody changes their own role, and the last owner cannot be demoted
    /// (409 `LAST_OWNER`). With `If-Match: "<version>"`, the change applies only to that
    /// version (412 otherwise).
    #[oai(path = "/:id", method = "patch", operation_id = "updateUser")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The user's id.
        id: Path<Uuid>,
        /// The `ETag` last read (`"<version>"`), or `*`; any other value is 400
        /// `INVALID_HEADER`.
        #[oai(name = "If-Match")]
        if_match: Header<Option<IfMatch>>,
        body: JsonBody<UpdateUserRequest>,
    ) -> Result<UserResponse, ApiError> {
        let precondition = if_match.0.map(|tag| tag.0);
        let req = body.0;
        let input = UpdateUser {
            email: req.email.map(Text::into_value),
            display_name: req.display_name.map(Text::into_value),
            role: req.role.map(Role::from),
            password: req.password.map(Text::into_value),
            current_password: req.current_password.map(SecretString::from),
        };
        let user = service::users::update(
            &state,
            &auth.0,
            UserId::from_uuid(id.0),
            input,
            precondition,
        )
        .await?;
        Ok(ok(user))
    }

    /// Remove a user
    ///
    /// Owners and admins only; only owners remove owners, and never the last one. The user is
    /// soft-deleted: it disappears from reads and lists, its email becomes free, its sessions
    /// end at once, and it can be restored until the retention period purges it.
    #[oai(path = "/:id", method = "delete", operation_id = "deleteUser")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The user's id.
        id: Path<Uuid>,
        /// The `ETag` last read (`"<version>"`), or `*`; any other value is 400
        /// `INVALID_HEADER`.
        #[oai(name = "If-Match")]
        if_match: Header<Option<IfMatch>>,
    ) -> Result<DeleteUserResponse, ApiError> {
        let precondition = if_match.0.map(|tag| tag.0);
        service::users::delete(&state, &auth.0, UserId::from_uuid(id.0), precondition).await?;
        Ok(DeleteUserResponse::NoContent)
    }

    /// Restore a removed user
    ///
    /// Owners and admins only (only owners restore owners); restoring a live user returns it
    /// unchanged. 409 `EMAIL_ALREADY_EXISTS` when a live user has taken the email meanwhile.
    #[oai(path = "/:id/restore", method = "post", operation_id = "restoreUser")]
    async fn restore(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The removed user's id.
        id: Path<Uuid>,
    ) -> Result<UserResponse, ApiError> {
        let user = service::users::restore(&state, &auth.0, UserId::from_uuid(id.0)).await?;
        Ok(ok(user))
    }
}
