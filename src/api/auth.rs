//! `/v1/auth`: sign-up and log-in.

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde::Deserialize;

use super::ApiTags;
use super::body::{JsonBody, field, finish};
use super::envelope::ApiError;
use super::org::OrganizationDto;
use super::users::UserDto;
use crate::auth::jwt::AccessToken;
use crate::domain::{DisplayName, Email, OrgName, OrgSlug, Password};
use crate::service::{self, AppState};

pub(crate) struct AuthApi;

/// A new organization and its first user, who becomes its owner.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignupRequest {
    /// The organization's display name.
    #[oai(validator(min_length = 1, max_length = 200))]
    org_name: String,
    /// The organization's unique handle, used at log-in: 1 to 63 lower-case letters, digits
    /// or inner hyphens.
    #[oai(validator(
        min_length = 1,
        max_length = 63,
        pattern = "^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
    ))]
    org_slug: String,
    /// The first user's email address (stored lower-cased).
    #[oai(validator(min_length = 3, max_length = 254))]
    email: String,
    /// The first user's display name.
    #[oai(validator(min_length = 1, max_length = 200))]
    display_name: String,
    /// 8 to 128 characters.
    #[oai(validator(min_length = 8, max_length = 128))]
    password: String,
}

/// Credentials of one user of one organization. The same email may exist in several
/// organizations, so the organization's slug is part of the credentials.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginRequest {
    /// The organization's slug.
    #[oai(validator(max_length = 63))]
    org_slug: String,
    /// The user's email address (case-insensitive).
    #[oai(validator(max_length = 254))]
    email: String,
    /// The user's password.
    #[oai(validator(max_length = 1024))]
    password: String,
}

/// An access token for the `Authorization: Bearer` header.
#[derive(Debug, Object)]
pub(crate) struct TokenDto {
    /// A signed JWT (HS256). Treat it as opaque.
    access_token: String,
    /// Always `Bearer`.
    token_type: String,
    /// Seconds until the token expires.
    expires_in: u64,
}

impl From<AccessToken> for TokenDto {
    fn from(token: AccessToken) -> Self {
        Self {
            access_token: token.token,
            token_type: "Bearer".into(),
            expires_in: token.expires_in,
        }
    }
}

/// The created organization, its owner, and an access token for the owner.
#[derive(Debug, Object)]
pub(crate) struct SignupResultDto {
    organization: OrganizationDto,
    user: UserDto,
    #[oai(flatten)]
    token: TokenDto,
}

#[derive(Debug, ApiResponse)]
pub(crate) enum SignupResponse {
    /// The organization and its owner were created.
    #[oai(status = 201)]
    Created(Json<SignupResultDto>),
}

#[derive(Debug, ApiResponse)]
pub(crate) enum LoginResponse {
    /// The credentials are valid.
    #[oai(status = 200)]
    Ok(Json<TokenDto>),
}

#[OpenApi(prefix_path = "/v1/auth", tag = "ApiTags::Auth")]
impl AuthApi {
    /// Sign up: create an organization and its owner
    ///
    /// Creates the organization and its first user (role `owner`) in one transaction and
    /// returns an access token for that user. The slug must be unique across the service
    /// (409 `ORG_SLUG_TAKEN` otherwise).
    #[oai(path = "/signup", method = "post", operation_id = "signup")]
    async fn signup(
        &self,
        state: Data<&AppState>,
        body: JsonBody<SignupRequest>,
    ) -> Result<SignupResponse, ApiError> {
        let req = body.0;
        let mut errors = Vec::new();
        let org_name = field(&mut errors, "org_name", OrgName::parse(&req.org_name));
        let org_slug = field(&mut errors, "org_slug", OrgSlug::parse(&req.org_slug));
        let email = field(&mut errors, "email", Email::parse(&req.email));
        let display_name = field(
            &mut errors,
            "display_name",
            DisplayName::parse(&req.display_name),
        );
        let password = field(&mut errors, "password", Password::parse(req.password));
        let signup = finish(
            errors,
            (|| {
                Some(service::auth::Signup {
                    org_name: org_name?,
                    org_slug: org_slug?,
                    email: email?,
                    display_name: display_name?,
                    password: password?,
                })
            })(),
        )?;
        let (org, user, token) = service::auth::signup(&state, signup).await?;
        Ok(SignupResponse::Created(Json(SignupResultDto {
            organization: org.into(),
            user: user.into(),
            token: token.into(),
        })))
    }

    /// Log in
    ///
    /// Exchanges an organization slug, email and password for an access token. A wrong
    /// organization, email or password all answer the same 401 `INVALID_CREDENTIALS`, after
    /// the same amount of work.
    #[oai(path = "/login", method = "post", operation_id = "login")]
    async fn login(
        &self,
        state: Data<&AppState>,
        body: JsonBody<LoginRequest>,
    ) -> Result<LoginResponse, ApiError> {
        let req = body.0;
        let token = service::auth::login(&state, &req.org_slug, &req.email, &req.password).await?;
        Ok(LoginResponse::Ok(Json(token.into())))
    }
}
