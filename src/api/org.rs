//! `/v1/org`: the calling user's organization.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde::Deserialize;
use uuid::Uuid;

use super::ApiTags;
use super::body::JsonBody;
use super::envelope::ApiError;
use super::security::BearerAuth;
use super::text::Text;
use crate::domain::{OrgName, Organization};
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

/// An event's payload is the organization's response body.
impl service::events::Resource for Organization {
    fn subject_id(&self) -> Uuid {
        *self.id.as_uuid()
    }

    fn payload(&self) -> serde_json::Value {
        poem_openapi::types::ToJSON::to_json(&OrganizationDto::from(self.clone()))
            .unwrap_or_default()
    }
}

/// Fields to change.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateOrganizationRequest {
    /// The new display name: 1 to 200 characters of visible text (same rules as at sign-up).
    name: Text<OrgName>,
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

    /// Rename the organization
    ///
    /// Changes the organization's display name (its slug, used at log-in, never changes).
    /// Owners only (API keys are at most admins): 403 otherwise. Records an
    /// `organization.updated` event.
    #[oai(path = "/", method = "patch", operation_id = "updateOrganization")]
    async fn update(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        body: JsonBody<UpdateOrganizationRequest>,
    ) -> Result<OrgResponse, ApiError> {
        let name = body.0.name.into_value();
        let org = service::organizations::rename(&state, &auth.0, &name).await?;
        Ok(OrgResponse::Ok(Json(org.into())))
    }
}
