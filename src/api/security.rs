//! The bearer security scheme: the only place a [`Principal`] is made from a request.

use poem::Request;
use poem::http::StatusCode;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;

use crate::auth::Principal;
use crate::error::AppError;
use crate::service::AppState;

/// An access token from `POST /v1/auth/signup` or `POST /v1/auth/login`, sent as
/// `Authorization: Bearer <token>`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", checker = "verify_bearer")]
pub struct BearerAuth(pub Principal);

async fn verify_bearer(req: &Request, bearer: Bearer) -> poem::Result<Principal> {
    let state = req.data::<AppState>().ok_or_else(|| {
        poem::Error::new(
            AppError::internal("application state missing from the request"),
            StatusCode::INTERNAL_SERVER_ERROR,
        )
    })?;
    let principal = state
        .tokens
        .verify(&bearer.token)
        .map_err(|err| poem::Error::new(err, StatusCode::UNAUTHORIZED))?;
    super::context::record_principal(&principal);
    Ok(principal)
}
