//! The bearer security scheme: the only place a [`Principal`] is made from a request.

use poem::Request;
use poem::http::StatusCode;
use poem_openapi::SecurityScheme;
use poem_openapi::auth::Bearer;
use sha2::{Digest, Sha256};

use crate::auth::Principal;
use crate::auth::api_key::{self, PresentedKey};
use crate::error::AppError;
use crate::service::AppState;

/// `Authorization: Bearer <token>`, where the token is either an access token (a JWT from
/// `POST /v1/auth/signup`, `/login` or `/refresh`: a person) or an API key (`tnt_...` from
/// `POST /v1/api-keys`: a machine, acting with the key's role in the key's organization).
/// Keys are recognised by their `tnt_` prefix. Operations only a person may call (their own
/// sessions, log-out, creating and revoking keys) answer an API key 403 `PERSON_ONLY`.
#[derive(SecurityScheme)]
#[oai(
    ty = "bearer",
    bearer_format = "JWT or tnt_ API key",
    checker = "verify_bearer"
)]
pub struct BearerAuth(pub Principal);

async fn verify_bearer(req: &Request, bearer: Bearer) -> poem::Result<Principal> {
    let state = req.data::<AppState>().ok_or_else(|| {
        poem::Error::new(
            AppError::internal("application state missing from the request"),
            StatusCode::INTERNAL_SERVER_ERROR,
        )
    })?;
    let principal = if api_key::looks_like_a_key(&bearer.token) {
        // Counted per key before any look-up; the key itself is checked by the database in
        // the first round trip of the request's transaction (app.enter_key), malformed or not.
        state
            .limits
            .check_api_key(Sha256::digest(bearer.token.as_bytes()).into())
            .map_err(|err| poem::Error::new(err, StatusCode::TOO_MANY_REQUESTS))?;
        Principal::from_api_key(PresentedKey::read(&bearer.token))
    } else {
        state
            .tokens
            .verify(&bearer.token)
            .map_err(|err| poem::Error::new(err, StatusCode::UNAUTHORIZED))?
    };
    crate::request::record_principal(&principal);
    Ok(principal)
}
