//! The one error envelope: `{"error": {"code", "message", "request_id", "details"?}}`.
//!
//! [`ApiError`] documents every error status in the spec; [`public`] is the one table that gives
//! each kind of error its status, code and public message, and `From<AppError> for ApiError`
//! the only place errors are logged. [`render`] builds the
//! same body for errors raised outside operations (routing, extractors, panics).

use std::borrow::Cow;

use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};

use crate::error::{AppError, FieldError};

/// The body of every error response.
#[derive(Debug, Object)]
pub struct ErrorEnvelope {
    /// What went wrong.
    pub error: ErrorBody,
}

/// What went wrong.
#[derive(Debug, Object)]
pub struct ErrorBody {
    /// Stable machine-readable code in UPPER_SNAKE case, e.g. `EMAIL_ALREADY_EXISTS`,
    /// `NOT_FOUND`, `VALIDATION_FAILED`. Branch on this, not on the message.
    pub code: String,
    /// Human-readable explanation; its wording may change.
    pub message: String,
    /// The request's id, also sent in the `X-Request-Id` header; quote it when reporting a
    /// problem.
    pub request_id: String,
    /// For invalid input: one entry per offending field.
    #[oai(skip_serializing_if_is_none)]
    pub details: Option<Vec<ErrorDetail>>,
}

/// One invalid field.
#[derive(Debug, Object)]
pub struct ErrorDetail {
    /// The JSON property (dotted path for nested values), query or path parameter, or header
    /// at fault.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl ErrorEnvelope {
    pub fn new(code: &str, message: impl Into<String>, details: Vec<FieldError>) -> Self {
        let details = (!details.is_empty()).then(|| {
            details
                .into_iter()
                .map(|d| ErrorDetail {
                    field: d.field,
                    message: d.message,
                })
                .collect()
        });
        Self {
            error: ErrorBody {
                code: code.to_owned(),
                message: message.into(),
                request_id: crate::request::request_id(),
                details,
            },
        }
    }
}

/// Every error an operation can answer with; all carry [`ErrorEnvelope`].
#[derive(Debug, ApiResponse)]
pub enum ApiError {
    /// The request cannot be read: malformed JSON (`MALFORMED_JSON`), a header that is present
    /// but unreadable (`INVALID_HEADER`, with `details` naming it: bytes other than visible
    /// ASCII, the wrong syntax, or sent twice), or a cursor this service did not issue
    /// (`INVALID_CURSOR`).
    #[oai(status = 400)]
    BadRequest(Json<ErrorEnvelope>),
    /// Missing or unusable credentials: `UNAUTHENTICATED` (no bearer token),
    /// `TOKEN_INVALID`, `TOKEN_EXPIRED`, `TOKEN_NOT_YET_VALID`, `SESSION_REVOKED` (logged out,
    /// ended or expired session), `API_KEY_INVALID` (an API key that is malformed, unknown,
    /// revoked or expired), `INVALID_CREDENTIALS` at log-in, `REFRESH_TOKEN_INVALID` or
    /// `REFRESH_TOKEN_REUSED` at refresh.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorEnvelope>),
    /// The caller's role does not allow this (`FORBIDDEN`), an API key called an operation
    /// only a person may call (`PERSON_ONLY`), or a change of one's own password or email
    /// lacks the current password (`REAUTHENTICATION_REQUIRED`) or names a wrong one
    /// (`INVALID_CURRENT_PASSWORD`).
    #[oai(status = 403)]
    Forbidden(Json<ErrorEnvelope>),
    /// No such resource in the caller's organization (`NOT_FOUND`). Another organization's
    /// resources answer exactly like missing ones.
    #[oai(status = 404)]
    NotFound(Json<ErrorEnvelope>),
    /// Conflicts with the current state: `EMAIL_ALREADY_EXISTS`, `ORG_SLUG_TAKEN`,
    /// `LAST_OWNER`.
    #[oai(status = 409)]
    Conflict(Json<ErrorEnvelope>),
    /// Too many sign-up, log-in or refresh attempts for this account or from this address, or
    /// too many requests with one API key (`RATE_LIMITED`); retry after `Retry-After` seconds.
    #[oai(status = 429)]
    TooManyRequests(
        Json<ErrorEnvelope>,
        /// Seconds to wait before retrying.
        #[oai(header = "Retry-After")]
        u64,
    ),
    /// `If-Match` names a version that is no longer current (`PRECONDITION_FAILED`): fetch the
    /// resource again and reapply the change.
    #[oai(status = 412)]
    PreconditionFailed(Json<ErrorEnvelope>),
    /// The body is larger than the configured limit (`PAYLOAD_TOO_LARGE`).
    #[oai(status = 413)]
    PayloadTooLarge(Json<ErrorEnvelope>),
    /// The body is not `application/json` (`UNSUPPORTED_MEDIA_TYPE`).
    #[oai(status = 415)]
    UnsupportedMediaType(Json<ErrorEnvelope>),
    /// Well-formed but invalid values (`VALIDATION_FAILED`, with `details` naming each field),
    /// or an `Idempotency-Key` already used for a different request
    /// (`IDEMPOTENCY_KEY_REUSED`).
    #[oai(status = 422)]
    UnprocessableEntity(Json<ErrorEnvelope>),
    /// An unexpected failure (`INTERNAL_ERROR`). Nothing about it is revealed; quote the
    /// request id when reporting it.
    #[oai(status = 500)]
    Internal(Json<ErrorEnvelope>),
    /// The database is unavailable or timed out (`DATABASE_UNAVAILABLE`, `DATABASE_BUSY`,
    /// `TIMEOUT`), or too many password hashes are queued (`OVERLOADED`, with
    /// `Retry-After`). Retrying later may succeed.
    #[oai(status = 503)]
    Unavailable(
        Json<ErrorEnvelope>,
        /// Seconds to wait before retrying, when the service can tell.
        #[oai(header = "Retry-After")]
        Option<u64>,
    ),
}

/// What a client is told about each kind of [`AppError`]: its status, code and public message.
/// The one table; everything else about an error response (envelope, logging, headers) is
/// derived from it.
fn public(err: &AppError) -> (StatusCode, &'static str, Cow<'static, str>) {
    use AppError as E;
    let own = || Cow::Owned(err.to_string());
    match err {
        E::BadRequest { code, message, .. } => {
            (StatusCode::BAD_REQUEST, code, message.clone().into())
        }
        E::Unauthenticated { code, message } => (StatusCode::UNAUTHORIZED, code, (*message).into()),
        E::Forbidden { code, message } => (StatusCode::FORBIDDEN, code, (*message).into()),
        E::NotFound => (StatusCode::NOT_FOUND, "NOT_FOUND", own()),
        E::Conflict { code, message } => (StatusCode::CONFLICT, code, (*message).into()),
        E::PreconditionFailed => (
            StatusCode::PRECONDITION_FAILED,
            "PRECONDITION_FAILED",
            own(),
        ),
        E::PayloadTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE", own()),
        E::UnsupportedMediaType => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            own(),
        ),
        E::Validation { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_FAILED", own()),
        E::Rejected { code, message } => {
            (StatusCode::UNPROCESSABLE_ENTITY, code, (*message).into())
        }
        E::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED", own()),
        E::Overloaded { .. } => (StatusCode::SERVICE_UNAVAILABLE, "OVERLOADED", own()),
        // Server-side failures say nothing about their cause.
        E::Unavailable { code, .. } => (
            StatusCode::SERVICE_UNAVAILABLE,
            code,
            "the service is temporarily unavailable; retry later".into(),
        ),
        E::Internal(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "an unexpected error occurred".into(),
        ),
    }
}

impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        let (status, code, message) = public(&err);
        // Logged once, here: server-side failures with their cause, the rest at debug.
        match &err {
            AppError::Internal(source) => {
                tracing::error!(error = %source, debug = ?source, "internal error");
            }
            AppError::Unavailable { source, .. } => tracing::warn!(
                code,
                error = source.as_deref().map(tracing::field::display),
                "service unavailable"
            ),
            AppError::Overloaded { retry_after_secs } => {
                tracing::warn!(retry_after_secs, "password hashing queue full");
            }
            other => {
                tracing::debug!(code, status = status.as_u16(), error = %other, "request refused")
            }
        }
        let retry_after = match &err {
            AppError::RateLimited { retry_after_secs }
            | AppError::Overloaded { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        };
        let details = match err {
            AppError::Validation { details } | AppError::BadRequest { details, .. } => details,
            _ => Vec::new(),
        };
        let body = Json(ErrorEnvelope::new(code, message, details));
        match status {
            StatusCode::BAD_REQUEST => ApiError::BadRequest(body),
            StatusCode::UNAUTHORIZED => ApiError::Unauthorized(body),
            StatusCode::FORBIDDEN => ApiError::Forbidden(body),
            StatusCode::NOT_FOUND => ApiError::NotFound(body),
            StatusCode::CONFLICT => ApiError::Conflict(body),
            StatusCode::PRECONDITION_FAILED => ApiError::PreconditionFailed(body),
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(body),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType(body),
            StatusCode::UNPROCESSABLE_ENTITY => ApiError::UnprocessableEntity(body),
            StatusCode::TOO_MANY_REQUESTS => {
                ApiError::TooManyRequests(body, retry_after.unwrap_or(1))
            }
            StatusCode::SERVICE_UNAVAILABLE => ApiError::Unavailable(body, retry_after),
            _ => ApiError::Internal(body),
        }
    }
}

/// An envelope response for errors that never reach an operation.
pub(crate) fn render(status: StatusCode, code: &str, message: &str) -> Response {
    Json(ErrorEnvelope::new(code, message, Vec::new()))
        .with_status(status)
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind of error answers with the status its documented variant declares.
    #[test]
    fn each_kind_of_error_gets_its_documented_status_and_code() {
        let cases: Vec<(AppError, u16, &str)> = vec![
            (AppError::NotFound, 404, "NOT_FOUND"),
            (AppError::forbidden("no"), 403, "FORBIDDEN"),
            (AppError::PERSON_ONLY, 403, "PERSON_ONLY"),
            (AppError::API_KEY_INVALID, 401, "API_KEY_INVALID"),
            (AppError::INVALID_CREDENTIALS, 401, "INVALID_CREDENTIALS"),
            (AppError::PreconditionFailed, 412, "PRECONDITION_FAILED"),
            (
                AppError::PayloadTooLarge { limit: 1 },
                413,
                "PAYLOAD_TOO_LARGE",
            ),
            (
                AppError::UnsupportedMediaType,
                415,
                "UNSUPPORTED_MEDIA_TYPE",
            ),
            (
                AppError::validation("name", "bad"),
                422,
                "VALIDATION_FAILED",
            ),
            (
                AppError::RateLimited {
                    retry_after_secs: 7,
                },
                429,
                "RATE_LIMITED",
            ),
            (
                AppError::database_unavailable("down"),
                503,
                "DATABASE_UNAVAILABLE",
            ),
            (AppError::internal("secret detail"), 500, "INTERNAL_ERROR"),
        ];
        for (err, status, code) in cases {
            let (public_status, public_code, message) = public(&err);
            assert_eq!(
                (public_status.as_u16(), public_code),
                (status, code),
                "{err:?}"
            );
            assert!(!message.contains("secret"), "{message}");
            let response = ApiError::from(err).into_response();
            assert_eq!(response.status().as_u16(), status, "{code}");
            if code == "RATE_LIMITED" || code == "OVERLOADED" {
                assert_eq!(response.headers()["retry-after"], "7", "{code}");
            }
        }
    }
}
