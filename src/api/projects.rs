//! `/v1/projects`: the example business resource.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::ApiTags;
use super::api_keys::ActorDto;
use super::body::JsonBody;
use super::conditional::{IfMatch, version_tag};
use super::envelope::ApiError;
use super::security::BearerAuth;
use super::text::{Text, idempotency_key_of};
use crate::domain::{
    Cursor, Description, NamePrefix, Project, ProjectId, ProjectName, ProjectOrder, ProjectStatus,
    UserId,
};
use crate::service::idempotency::Idempotency;
use crate::service::projects::{CreateProject, ListQuery, UpdateProject};
use crate::service::{self, AppState, DEFAULT_PAGE_SIZE};

pub(crate) struct ProjectsApi;

/// A project's lifecycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize, Deserialize)]
#[oai(rename = "ProjectStatus", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub(crate) enum StatusDto {
    Active,
    Archived,
}

impl From<StatusDto> for ProjectStatus {
    fn from(status: StatusDto) -> Self {
        match status {
            StatusDto::Active => ProjectStatus::Active,
            StatusDto::Archived => ProjectStatus::Archived,
        }
    }
}

impl From<ProjectStatus> for StatusDto {
    fn from(status: ProjectStatus) -> Self {
        match status {
            ProjectStatus::Active => StatusDto::Active,
            ProjectStatus::Archived => StatusDto::Archived,
        }
    }
}

/// A project.
#[derive(Debug, Object)]
#[oai(rename = "Project")]
pub(crate) struct ProjectDto {
    /// The project's id (UUIDv7).
    id: Uuid,
    /// Unique among the organization's live projects, ignoring case.
    name: String,
    /// Free text, at most 2000 characters.
    description: String,
    /// The user responsible for the project. It may name a removed user: removing a user keeps
    /// their projects, which owners and admins can reassign.
    owner_id: Uuid,
    /// `active` or `archived`.
    status: StatusDto,
    /// Bumped by every change; also sent as the `ETag` header. Send it back in `If-Match`.
    version: i64,
    /// When the project was created (set by the database).
    created_at: DateTime<Utc>,
    /// When the project was last changed (set by the database).
    updated_at: DateTime<Utc>,
    /// Who created it: a user or an API key (set by the database).
    created_by: Option<ActorDto>,
    /// Who changed it last: a user or an API key (set by the database).
    updated_by: Option<ActorDto>,
    /// When it was removed; only removed projects listed with `include=deleted` have it.
    #[oai(skip_serializing_if_is_none)]
    deleted_at: Option<DateTime<Utc>>,
}

impl From<Project> for ProjectDto {
    fn from(p: Project) -> Self {
        Self {
            id: *p.id.as_uuid(),
            name: p.name,
            description: p.description,
            owner_id: *p.owner_id.as_uuid(),
            status: p.status.into(),
            version: p.version,
            created_at: p.created_at,
            updated_at: p.updated_at,
            created_by: p.created_by.map(ActorDto::from),
            updated_by: p.updated_by.map(ActorDto::from),
            deleted_at: p.deleted_at,
        }
    }
}

/// An event's payload is the project's response body.
impl service::events::Resource for Project {
    fn subject_id(&self) -> Uuid {
        *self.id.as_uuid()
    }

    fn payload(&self) -> serde_json::Value {
        poem_openapi::types::ToJSON::to_json(&ProjectDto::from(self.clone())).unwrap_or_default()
    }
}

/// A page of projects.
#[derive(Debug, Object)]
#[oai(rename = "ProjectPage")]
pub(crate) struct ProjectPageDto {
    /// The projects of this page, in the requested order.
    items: Vec<ProjectDto>,
    /// Pass as `cursor` (with the same filters and sort) for the next page; `null` on the last.
    next_cursor: Option<String>,
}

/// A new project.
#[derive(Debug, Object, Deserialize, Serialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateProjectRequest {
    /// 1 to 200 characters of visible text, without control, format or invisible characters
    /// (zero-width spaces and joiners, bidirectional controls, soft hyphens, tag characters,
    /// ...; the pattern names those below U+10000), stored in Unicode NFC; unique among the
    /// organization's live projects, ignoring case.
    name: Text<ProjectName>,
    /// At most 2000 characters, stored in Unicode NFC; empty when omitted. Tabs and line breaks
    /// are allowed; other controls, bidirectional embeddings, overrides and isolates and tag
    /// characters are not (the pattern names those below U+10000).
    #[serde(default)]
    description: Option<Text<Description>>,
    /// The responsible user, who must not have been removed (422 otherwise); the caller when
    /// omitted (required with an API key, which owns nothing: 422 otherwise). Only owners and
    /// admins name someone else.
    #[serde(default)]
    owner_id: Option<Uuid>,
    /// `active` when omitted.
    #[serde(default)]
    status: Option<StatusDto>,
}

/// Fields to change; omitted (or null) fields keep their value.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateProjectRequest {
    /// New name (same rules as on creation).
    #[serde(default)]
    name: Option<Text<ProjectName>>,
    /// New description (same rules as on creation).
    #[serde(default)]
    description: Option<Text<Description>>,
    /// The new responsible user, who must not have been removed (422 otherwise). Only owners
    /// and admins reassign a project.
    #[serde(default)]
    owner_id: Option<Uuid>,
    /// New state: `active` or `archived`.
    #[serde(default)]
    status: Option<StatusDto>,
}

/// List order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "ProjectSort")]
pub(crate) enum SortDto {
    /// Oldest first (the default).
    #[oai(rename = "created")]
    Created,
    /// Newest first.
    #[oai(rename = "-created")]
    CreatedDesc,
    /// By name, A to Z (ignoring case).
    #[oai(rename = "name")]
    Name,
    /// By name, Z to A.
    #[oai(rename = "-name")]
    NameDesc,
}

/// Which projects a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename = "IncludeProjects", rename_all = "lowercase")]
pub(crate) enum IncludeDto {
    /// Live projects and the removed ones the caller may restore: their own for members,
    /// all for owners and admins.
    Deleted,
}

#[derive(Debug, ApiResponse)]
pub(crate) enum ListProjectsResponse {
    /// A page of projects.
    #[oai(status = 200)]
    Ok(Json<ProjectPageDto>),
}

#[derive(Debug, ApiResponse)]
pub(crate) enum CreateProjectResponse {
    /// The project was created (or, for a repeated `Idempotency-Key`, had been).
    #[oai(status = 201)]
    Created(
        Json<ProjectDto>,
        /// The new project's URL.
        #[oai(header = "Location")]
        String,
        /// The project's version, for `If-Match`.
        #[oai(header = "ETag")]
        String,
    ),
}

#[derive(Debug, ApiResponse)]
pub(crate) enum ProjectResponse {
    /// The project.
    #[oai(status = 200)]
    Ok(
        Json<ProjectDto>,
        /// The project's version, for `If-Match`.
        #[oai(header = "ETag")]
        String,
    ),
}

#[derive(Debug, ApiResponse)]
pub(crate) enum DeleteProjectResponse {
    /// The project was removed.
    #[oai(status = 204)]
    NoContent,
}

fn ok(project: Project) -> ProjectResponse {
    let dto = ProjectDto::from(project);
    let tag = version_tag(dto.version);
    ProjectResponse::Ok(Json(dto), tag)
}

#[OpenApi(prefix_path = "/v1/projects", tag = "ApiTags::Projects")]
impl ProjectsApi {
    /// List projects
    ///
    /// The organization's projects, filtered by `status`, `owner_id` and `name_prefix`,
    /// ordered by `sort`, in pages of `limit` (1 to 100, default 20). Follow `next_cursor`
    /// with the same filters and sort. With `include=deleted`, removed projects are listed
    /// too: a member's own, or all of them for owners and admins. Names compare ignoring case
    /// and Unicode form, by the key the database computes.
    #[oai(path = "/", method = "get", operation_id = "listProjects")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// Only projects in this state.
        status: Query<Option<StatusDto>>,
        /// Only projects of this user.
        owner_id: Query<Option<Uuid>>,
        /// Only projects whose name starts with this, ignoring case and Unicode form.
        name_prefix: Query<Option<Text<NamePrefix>>>,
        /// Order; `created` when omitted.
        sort: Query<Option<SortDto>>,
        /// `deleted` to include removed projects: a member's own, all for owners and admins.
        include: Query<Option<IncludeDto>>,
        /// Page size, 1 to 100.
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<Text<Cursor>>>,
    ) -> Result<ListProjectsResponse, ApiError> {
        let order = match sort.0.unwrap_or(SortDto::Created) {
            SortDto::Created => ProjectOrder::Created,
            SortDto::CreatedDesc => ProjectOrder::CreatedDesc,
            SortDto::Name => ProjectOrder::Name,
            SortDto::NameDesc => ProjectOrder::NameDesc,
        };
        let (projects, next) = service::projects::list(
            &state,
            &auth.0,
            ListQuery {
                order,
                status: status.0.map(Into::into),
                owner_id: owner_id.0.map(UserId::from_uuid),
                name_prefix: name_prefix.0.as_deref(),
                include_deleted: include.0 == Some(IncludeDto::Deleted),
                cursor: cursor.0.as_deref(),
                limit: limit.0.unwrap_or(DEFAULT_PAGE_SIZE),
            },
        )
        .await?;
        Ok(ListProjectsResponse::Ok(Json(ProjectPageDto {
            items: projects.into_iter().map(ProjectDto::from).collect(),
            next_cursor: next,
        })))
    }

    /// Create a project
    ///
    /// Members create their own projects; owners and admins (and admin API keys) may name
    /// another owner, who must not have been removed (422 on `owner_id`). With an
    /// `Idempotency-Key`, retrying the same request returns the first response without creating
    /// twice (even when the retries are concurrent); the same key with a different body is 422
    /// `IDEMPOTENCY_KEY_REUSED`. Keys are scoped to the organization and kept 24 hours.
    #[oai(path = "/", method = "post", operation_id = "createProject")]
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
        body: JsonBody<CreateProjectRequest>,
    ) -> Result<CreateProjectResponse, ApiError> {
        let req = body.0;
        let idem = idempotency_key
            .0
            .map(|key| Idempotency::new(idempotency_key_of(&key)?, "createProject", &req))
            .transpose()?;
        let input = CreateProject {
            name: req.name.into_value(),
            description: req.description.map(Text::into_value).unwrap_or_default(),
            owner_id: req.owner_id.map(UserId::from_uuid),
            status: req.status.map_or(ProjectStatus::Active, Into::into),
        };
        let project = service::projects::create(&state, &auth.0, input, idem).await?;
        let dto = ProjectDto::from(project);
        let location = format!("/v1/projects/{}", dto.id);
        let tag = version_tag(dto.version);
        Ok(CreateProjectResponse::Created(Json(dto), location, tag))
    }

    /// Get a project
    ///
    /// Its `ETag` header is the version to send back in `If-Match`. Another organization's
    /// ids answer 404, exactly like ids that do not exist.
    #[oai(path = "/:id", method = "get", operation_id = "getProject")]
    async fn get(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The project's id.
        id: Path<Uuid>,
    ) -> Result<ProjectResponse, ApiError> {
        let project = service::projects::get(&state, &auth.0, ProjectId::from_uuid(id.0)).await?;
        Ok(ok(project))
    }

    /// Update a project
    ///
    /// Members change their own projects (and cannot give them away); owners and admins any,
    /// and may reassign them to a user who has not been removed (422 on `owner_id`).
    /// With `If-Match: "<version>"`, the change applies only if nobody changed the project
    /// since (412 `PRECONDITION_FAILED` otherwise): no lost updates.
    #[oai(path = "/:id", method = "patch", operation_id = "updateProject")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The project's id.
        id: Path<Uuid>,
        /// The `ETag` last read (`"<version>"`), or `*`; any other value is 400
        /// `INVALID_HEADER`.
        #[oai(name = "If-Match")]
        if_match: Header<Option<IfMatch>>,
        body: JsonBody<UpdateProjectRequest>,
    ) -> Result<ProjectResponse, ApiError> {
        let precondition = if_match.0.map(|tag| tag.0);
        let req = body.0;
        let input = UpdateProject {
            name: req.name.map(Text::into_value),
            description: req.description.map(Text::into_value),
            owner_id: req.owner_id.map(UserId::from_uuid),
            status: req.status.map(Into::into),
        };
        let project = service::projects::update(
            &state,
            &auth.0,
            ProjectId::from_uuid(id.0),
            input,
            precondition,
        )
        .await?;
        Ok(ok(project))
    }

    /// Remove a project
    ///
    /// Members remove their own projects, owners and admins any. Soft delete: the project
    /// leaves reads and lists and its name becomes free; whoever may remove it can list it
    /// (`include=deleted`) and restore it until the retention period purges it. Honours
    /// `If-Match`.
    #[oai(path = "/:id", method = "delete", operation_id = "deleteProject")]
    async fn delete(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The project's id.
        id: Path<Uuid>,
        /// The `ETag` last read (`"<version>"`), or `*`; any other value is 400
        /// `INVALID_HEADER`.
        #[oai(name = "If-Match")]
        if_match: Header<Option<IfMatch>>,
    ) -> Result<DeleteProjectResponse, ApiError> {
        let precondition = if_match.0.map(|tag| tag.0);
        service::projects::delete(&state, &auth.0, ProjectId::from_uuid(id.0), precondition)
            .await?;
        Ok(DeleteProjectResponse::NoContent)
    }

    /// Restore a removed project
    ///
    /// Whoever may remove the project: members their own, owners and admins any. Restoring a
    /// live project returns it unchanged. 409 `PROJECT_NAME_TAKEN` when a live project has
    /// taken the name meanwhile.
    #[oai(
        path = "/:id/restore",
        method = "post",
        operation_id = "restoreProject"
    )]
    async fn restore(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The removed project's id.
        id: Path<Uuid>,
    ) -> Result<ProjectResponse, ApiError> {
        let project =
            service::projects::restore(&state, &auth.0, ProjectId::from_uuid(id.0)).await?;
        Ok(ok(project))
    }
}
