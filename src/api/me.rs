//! `/v1/me`: the calling user.

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};

use super::ApiTags;
use super::envelope::ApiError;
use super::security::BearerAuth;
use super::users::UserDto;
use crate::service::{self, AppState};

pub(crate) struct MeApi;

#[derive(Debug, ApiResponse)]
pub(crate) enum MeResponse {
    /// The calling user.
    #[oai(status = 200)]
    Ok(Json<UserDto>),
}

#[OpenApi(prefix_path = "/v1/me", tag = "ApiTags::Me")]
impl MeApi {
    /// Get the calling user
    ///
    /// The user the bearer token was issued to, as stored now.
    #[oai(path = "/", method = "get", operation_id = "getMe")]
    async fn me(&self, state: Data<&AppState>, auth: BearerAuth) -> Result<MeResponse, ApiError> {
        let user = service::users::me(&state, &auth.0).await?;
        Ok(MeResponse::Ok(Json(user.into())))
    }
}
