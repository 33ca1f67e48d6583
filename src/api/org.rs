//! `/v1/org`: the calling user's organization.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use uuid::Uuid;

use super::ApiTags;
use super::envelope::ApiError;
use super::security::BearerAuth;
use crate::domain::Organization;
use crate::service::{self, AppState};

pub(crate) struct OrgApi;

/// An organization (tenant).
#[derive(Debug, Object)]
pub(crate) struct OrganizationDto {
    /// The organization's id.
    id: Uuid,
    /// The unique handle used at log-in.
    slug: String,
    /// The display name.
    name: String,
    /// When the organization was created.
    created_at: DateTime<Utc>,
    /// When the organization was last changed.
    updated_at: DateTime<Utc>,
}

impl From<Organization> for OrganizationDto {
    fn from(org: Organization) -> Self {
        Self {
            id: *org.id.as_uuid(),
            slug: org.slug,
            name: org.name,
            created_at: org.created_at,
            updated_at: org.updated_at,
        }
    }
}

#[derive(Debug, ApiResponse)]
pub(crate) enum OrgResponse {
    /// The calling user's organization.
    #[oai(status = 200)]
    Ok(Json<OrganizationDto>),
}

#[OpenApi(prefix_path = "/v1/org", tag = "ApiTags::Org")]
impl OrgApi {
    /// Get the calling user's organization
    ///
    /// The organization of the bearer token: its id, slug (used at log-in) and name.
    #[oai(path = "/", method = "get", operation_id = "getOrganization")]
    async fn get(&self, state: Data<&AppState>, auth: BearerAuth) -> Result<OrgResponse, ApiError> {
        let org = service::organizations::current(&state, &auth.0).await?;
        Ok(OrgResponse::Ok(Json(org.into())))
    }
}
