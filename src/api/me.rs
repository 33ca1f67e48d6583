//! `/v1/me`: the caller (a user, or an API key) and a user's sessions.

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Union};
use uuid::Uuid;

use super::ApiTags;
use super::api_keys::ApiKeyDto;
use super::envelope::ApiError;
use super::security::BearerAuth;
use super::users::UserDto;
use crate::domain::{Session, SessionId};
use crate::service::users::Me;
use crate::service::{self, AppState};

pub(crate) struct MeApi;

/// The caller: a user (`"type": "user"`, with an access token), or an API key
/// (`"type": "api_key"`).
#[derive(Debug, Union)]
#[oai(rename = "Me", discriminator_name = "type", one_of)]
pub(crate) enum MeDto {
    /// A person: their user, as stored now.
    #[oai(mapping = "user")]
    User(UserDto),
    /// An API key: the key, as stored now (without its secret).
    #[oai(mapping = "api_key")]
    ApiKey(ApiKeyDto),
}

#[derive(Debug, ApiResponse)]
pub(crate) enum ResendVerificationResponse {
    /// A verification email is queued.
    #[oai(status = 202)]
    Accepted,
}

#[derive(Debug, ApiResponse)]
pub(crate) enum MeResponse {
    /// The caller.
    #[oai(status = 200)]
    Ok(Json<MeDto>),
}

#[OpenApi(prefix_path = "/v1/me", tag = "ApiTags::Me")]
impl MeApi {
    /// Get the caller
    ///
    /// With an access token, the user it was issued to (`"type": "user"`); with an API key,
    /// the key (`"type": "api_key"`: its id, name, prefix, role, ...). Both as stored now.
    #[oai(path = "/", method = "get", operation_id = "getMe")]
    async fn me(&self, state: Data<&AppState>, auth: BearerAuth) -> Result<MeResponse, ApiError> {
        let me = match service::users::me(&state, &auth.0).await? {
            Me::User(user) => MeDto::User(user.into()),
            Me::ApiKey(key) => MeDto::ApiKey(key.into()),
        };
        Ok(MeResponse::Ok(Json(me)))
    }

    /// Send me a new verification email
    ///
    /// Emails the calling user a new link that verifies their address (see
    /// `POST /v1/auth/verify-email`). 409 `EMAIL_ALREADY_VERIFIED` when it is verified. A
    /// person's operation: an API key gets 403 `PERSON_ONLY`.
    #[oai(
        path = "/verify-email",
        method = "post",
        operation_id = "resendVerificationEmail"
    )]
    async fn resend_verification(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
    ) -> Result<ResendVerificationResponse, ApiError> {
        service::recovery::resend_verification(&state, &auth.0).await?;
        Ok(ResendVerificationResponse::Accepted)
    }

    /// List my sessions
    ///
    /// The calling user's live sessions (one per log-in), newest first, at most 100. A
    /// person's operation: an API key gets 403 `PERSON_ONLY`.
    #[oai(path = "/sessions", method = "get", operation_id = "listMySessions")]
    async fn sessions(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
    ) -> Result<SessionsResponse, ApiError> {
        let sessions = service::sessions::list(&state, &auth.0).await?;
        let current = auth.0.session_id();
        Ok(SessionsResponse::Ok(Json(SessionListDto {
            items: sessions
                .into_iter()
                .map(|s| {
                    let is_current = Some(s.id) == current;
                    SessionDto::new(s, is_current)
                })
                .collect(),
        })))
    }

    /// End one of my sessions
    ///
    /// Its tokens stop working at once. Another user's session id is not found. A person's
    /// operation: an API key gets 403 `PERSON_ONLY`.
    #[oai(
        path = "/sessions/:id",
        method = "delete",
        operation_id = "deleteMySession"
    )]
    async fn end_session(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        /// The session's id.
        id: Path<Uuid>,
    ) -> Result<EndSessionResponse, ApiError> {
        service::sessions::end(&state, &auth.0, SessionId::from_uuid(id.0)).await?;
        Ok(EndSessionResponse::NoContent)
    }
}

/// An event's payload is the session's body in the list of sessions; `current` is false (an
/// ended session is no one's current session).
impl service::events::Resource for Session {
    fn subject_id(&self) -> Uuid {
        *self.id.as_uuid()
    }

    fn payload(&self) -> serde_json::Value {
        poem_openapi::types::ToJSON::to_json(&SessionDto::new(self.clone(), false))
            .unwrap_or_default()
    }
}

impl SessionDto {
    fn new(s: Session, current: bool) -> Self {
        Self {
            id: *s.id.as_uuid(),
            current,
            user_agent: s.user_agent,
            client_addr: s.client_addr,
            created_at: s.created_at,
            last_used_at: s.last_used_at,
            expires_at: s.expires_at,
        }
    }
}

/// A live session of the calling user.
#[derive(Debug, Object)]
pub(crate) struct SessionDto {
    /// The session's id.
    id: Uuid,
    /// Whether this is the session of the token making the request.
    current: bool,
    /// The `User-Agent` of the log-in, truncated to 512 characters.
    user_agent: Option<String>,
    /// The network address the log-in came from (a proxy's address when behind one).
    client_addr: Option<String>,
    /// When the session started (the log-in).
    created_at: DateTime<Utc>,
    /// When its refresh token was last exchanged (or the log-in).
    last_used_at: DateTime<Utc>,
    /// When it ends at the latest.
    expires_at: DateTime<Utc>,
}

/// The calling user's live sessions.
#[derive(Debug, Object)]
pub(crate) struct SessionListDto {
    /// The live sessions, newest first.
    items: Vec<SessionDto>,
}

#[derive(Debug, ApiResponse)]
pub(crate) enum SessionsResponse {
    /// The live sessions.
    #[oai(status = 200)]
    Ok(Json<SessionListDto>),
}

#[derive(Debug, ApiResponse)]
pub(crate) enum EndSessionResponse {
    /// The session ended.
    #[oai(status = 204)]
    NoContent,
}
