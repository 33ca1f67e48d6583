//! `/v1/auth`: sign-up, log-in, refresh and log-out.

use chrono::{DateTime, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde::Deserialize;

use super::ApiTags;
use super::body::JsonBody;
use super::envelope::ApiError;
use super::org::OrganizationDto;
use super::security::BearerAuth;
use super::text::Text;
use super::users::UserDto;
use crate::domain::{DisplayName, Email, OrgName, OrgSlug, Password};
use crate::service::sessions::{ClientInfo, Issued};
use crate::service::{self, AppState};

pub(crate) struct AuthApi;

/// A new organization and its first user, who becomes its owner.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub(crate) struct SignupRequest {
    /// The organization's display name: visible text, without control, format or invisible
    /// characters (zero-width spaces and joiners, bidirectional controls, soft hyphens, tag
    /// characters, ...; the pattern names those below U+10000), stored in Unicode NFC.
    org_name: Text<OrgName>,
    /// The organization's unique handle, used at log-in: 1 to 63 lower-case letters, digits
    /// or inner hyphens.
    org_slug: Text<OrgSlug>,
    /// The first user's email address, without white space or invisible characters (as for
    /// names); stored lower-cased in Unicode NFC, the form that makes it unique.
    email: Text<Email>,
    /// The first user's display name: visible text (as for the organization's name), stored in
    /// Unicode NFC.
    display_name: Text<DisplayName>,
    /// 8 to 128 characters.
    password: Text<Password>,
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
    /// A signed JWT (HS256) for the `Authorization: Bearer` header. Treat it as opaque: its
    /// `role` claim is the user's role when it was issued, for display only; every request is
    /// authorized with the role the database has at that moment.
    access_token: String,
    /// Always `Bearer`.
    token_type: String,
    /// Seconds until the access token expires.
    expires_in: u64,
    /// Exchange it at `POST /v1/auth/refresh` for new tokens. It works once: each refresh
    /// returns a new one, and presenting a used one ends the session (but for the grace window
    /// described there). Store it securely.
    refresh_token: String,
    /// When the session ends, whatever the refreshes (an absolute lifetime).
    session_expires_at: DateTime<Utc>,
}

impl From<Issued> for TokenDto {
    fn from(issued: Issued) -> Self {
        Self {
            access_token: issued.access.token,
            token_type: "Bearer".into(),
            expires_in: issued.access.expires_in,
            refresh_token: issued.refresh_token,
            session_expires_at: issued.session_expires_at,
        }
    }
}

/// A refresh token to exchange.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefreshRequest {
    /// The `refresh_token` of the last log-in, sign-up or refresh.
    #[oai(validator(max_length = 128))]
    refresh_token: String,
}

/// The account whose password to reset.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordResetRequest {
    /// The organization's slug.
    #[oai(validator(max_length = 63))]
    org_slug: String,
    /// The account's email address (case-insensitive).
    #[oai(validator(max_length = 254))]
    email: String,
}

/// A password reset token and the new password.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordResetConfirmRequest {
    /// The token of the reset email's link (`...#token=<token>`).
    #[oai(validator(max_length = 90))]
    token: String,
    /// The new password, 8 to 128 characters.
    password: Text<Password>,
}

/// An email verification token.
#[derive(Debug, Object, Deserialize)]
#[oai(deny_unknown_fields)]
#[serde(deny_unknown_fields)]
pub(crate) struct VerifyEmailRequest {
    /// The token of the verification email's link (`...#token=<token>`).
    #[oai(validator(max_length = 90))]
    token: String,
}

/// The answer to every password reset request.
#[derive(Debug, Object)]
pub(crate) struct AcceptedDto {
    /// Always `accepted`.
    status: String,
}

#[derive(Debug, ApiResponse)]
pub(crate) enum PasswordResetResponse {
    /// If the organization has an account with this address, a reset link is on its way.
    /// The same answer either way.
    #[oai(status = 202)]
    Accepted(Json<AcceptedDto>),
}

#[derive(Debug, ApiResponse)]
pub(crate) enum PasswordResetConfirmResponse {
    /// The password is set; every session of the user ended.
    #[oai(status = 204)]
    NoContent,
}

#[derive(Debug, ApiResponse)]
pub(crate) enum VerifyEmailResponse {
    /// The address is verified (and, after an email change, is now the user's address).
    #[oai(status = 200)]
    Ok(Json<UserDto>),
}

#[derive(Debug, ApiResponse)]
pub(crate) enum LogoutResponse {
    /// The session(s) ended; their tokens no longer work.
    #[oai(status = 204)]
    NoContent,
}

/// Where a request comes from, for the session list: its user agent (truncated) and the
/// address of the connection's peer (a proxy's, behind one).
pub(crate) fn client_info(req: &Request) -> ClientInfo {
    let user_agent = req
        .headers()
        .get(poem::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().filter(|c| !c.is_control()).take(512).collect());
    let ip = req.remote_addr().as_socket_addr().map(|addr| addr.ip());
    ClientInfo {
        user_agent,
        client_addr: ip.map(|ip| ip.to_string()),
        ip,
    }
}

/// The created organization, its owner, and the owner's tokens.
#[derive(Debug, Object)]
pub(crate) struct SignupResultDto {
    /// The new organization.
    organization: OrganizationDto,
    /// Its first user, an owner.
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
    /// New tokens.
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
        http: &Request,
        body: JsonBody<SignupRequest>,
    ) -> Result<SignupResponse, ApiError> {
        let req = body.0;
        let signup = service::auth::Signup {
            org_name: req.org_name.into_value(),
            org_slug: req.org_slug.into_value(),
            email: req.email.into_value(),
            display_name: req.display_name.into_value(),
            password: req.password.into_value(),
        };
        let (org, user, token) = service::auth::signup(&state, signup, &client_info(http)).await?;
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
        req: &Request,
        body: JsonBody<LoginRequest>,
    ) -> Result<LoginResponse, ApiError> {
        let body = body.0;
        let issued = service::auth::login(
            &state,
            &body.org_slug,
            &body.email,
            &body.password,
            &client_info(req),
        )
        .await?;
        Ok(LoginResponse::Ok(Json(issued.into())))
    }

    /// Refresh the tokens
    ///
    /// Exchanges a refresh token for a new access token and a new refresh token; the one
    /// presented stops working. Presenting a refresh token that was already exchanged ends the
    /// whole session (401 `REFRESH_TOKEN_REUSED`): it was probably stolen. One exception, for
    /// clients that refresh from several tabs at once: within `TENANTRY_REFRESH_GRACE_SECS` of
    /// an exchange (10 s by default), presenting the token it replaced returns the same new
    /// refresh token again, as often as it is presented, until that new token is exchanged.
    /// Refreshes are limited per session (counted once the token verifies) and failed ones per
    /// client address (429 `RATE_LIMITED`).
    #[oai(path = "/refresh", method = "post", operation_id = "refresh")]
    async fn refresh(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: JsonBody<RefreshRequest>,
    ) -> Result<LoginResponse, ApiError> {
        let issued =
            service::sessions::refresh(&state, &body.0.refresh_token, &client_info(req)).await?;
        Ok(LoginResponse::Ok(Json(issued.into())))
    }

    /// Ask for a password reset email
    ///
    /// Always 202 with the same body, whether or not the organization has an account with
    /// this address, after the same work; if it has, a link valid for 30 minutes (by default)
    /// is emailed to it. Limited per account and per client address (429 `RATE_LIMITED`, the
    /// same for unknown accounts).
    #[oai(
        path = "/password-reset",
        method = "post",
        operation_id = "requestPasswordReset"
    )]
    async fn password_reset(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: JsonBody<PasswordResetRequest>,
    ) -> Result<PasswordResetResponse, ApiError> {
        let body = body.0;
        service::recovery::request_reset(&state, &body.org_slug, &body.email, &client_info(req))
            .await?;
        Ok(PasswordResetResponse::Accepted(Json(AcceptedDto {
            status: "accepted".into(),
        })))
    }

    /// Set a new password with a reset token
    ///
    /// The token of the reset email works once. Sets the password, ends every session of the
    /// user and emails them a notice. Refusals: 400 `TOKEN_INVALID`, `TOKEN_EXPIRED`,
    /// `TOKEN_USED`.
    #[oai(
        path = "/password-reset/confirm",
        method = "post",
        operation_id = "confirmPasswordReset"
    )]
    async fn password_reset_confirm(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: JsonBody<PasswordResetConfirmRequest>,
    ) -> Result<PasswordResetConfirmResponse, ApiError> {
        let body = body.0;
        let password = body.password.into_value();
        service::recovery::confirm_reset(&state, &body.token, &password, &client_info(req)).await?;
        Ok(PasswordResetConfirmResponse::NoContent)
    }

    /// Verify an email address
    ///
    /// The token of a verification email (sent at sign-up, or by
    /// `POST /v1/me/verify-email`) works once; the user's address is then verified. Refusals:
    /// 400 `TOKEN_INVALID`, `TOKEN_EXPIRED`, `TOKEN_USED`.
    #[oai(path = "/verify-email", method = "post", operation_id = "verifyEmail")]
    async fn verify_email(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: JsonBody<VerifyEmailRequest>,
    ) -> Result<VerifyEmailResponse, ApiError> {
        let user =
            service::recovery::verify_email(&state, &body.0.token, &client_info(req)).await?;
        Ok(VerifyEmailResponse::Ok(Json(user.into())))
    }

    /// Log out
    ///
    /// Ends the current session: its access and refresh tokens stop working at once. A
    /// person's operation: an API key gets 403 `PERSON_ONLY`.
    #[oai(path = "/logout", method = "post", operation_id = "logout")]
    async fn logout(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
    ) -> Result<LogoutResponse, ApiError> {
        service::sessions::logout(&state, &auth.0).await?;
        Ok(LogoutResponse::NoContent)
    }

    /// Log out everywhere
    ///
    /// Ends every session of the calling user, the current one included. A person's
    /// operation: an API key gets 403 `PERSON_ONLY`.
    #[oai(path = "/logout-all", method = "post", operation_id = "logoutAll")]
    async fn logout_all(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
    ) -> Result<LogoutResponse, ApiError> {
        service::sessions::logout_all(&state, &auth.0).await?;
        Ok(LogoutResponse::NoContent)
    }
}
