//! The one error envelope: `{"error": {"code", "message", "request_id", "details"?}}`.
//!
//! [`ApiError`] documents every error status in the spec; `From<AppError> for ApiError` is the
//! only place an outcome gets its status, and where errors are logged. [`render`] builds the
//! same body for errors raised outside operations (routing, extractors, panics).

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
                request_id: super::context::request_id(),
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
    /// ended or expired session), `INVALID_CREDENTIALS` at log-in, `REFRESH_TOKEN_INVALID` or
    /// `REFRESH_TOKEN_REUSED` at refresh.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorEnvelope>),
    /// The caller's role does not allow this (`FORBIDDEN`), or a change of one's own password
    /// or email lacks the current password (`REAUTHENTICATION_REQUIRED`) or names a wrong one
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
    /// Too many sign-up, log-in or refresh attempts for this account or from this address
    /// (`RATE_LIMITED`); retry after `Retry-After` seconds.
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

impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        let json = |code: &str, message: String, details: Vec<FieldError>| {
            Json(ErrorEnvelope::new(code, message, details))
        };
        match err {
            AppError::BadRequest {
                code,
                message,
                details,
            } => {
                tracing::debug!(code, %message, "bad request");
                ApiError::BadRequest(json(code, message, details))
            }
            AppError::Unauthenticated { code, message } => {
                tracing::debug!(code, "unauthenticated");
                ApiError::Unauthorized(json(code, message.into(), Vec::new()))
            }
            AppError::Forbidden { code, message } => {
                tracing::debug!(code, %message, "forbidden");
                ApiError::Forbidden(json(code, message.into(), Vec::new()))
            }
            err @ AppError::NotFound => {
                ApiError::NotFound(json("NOT_FOUND", err.to_string(), Vec::new()))
            }
            AppError::Conflict { code, message } => {
                tracing::debug!(code, "conflict");
                ApiError::Conflict(json(code, message.into(), Vec::new()))
            }
            err @ AppError::PreconditionFailed => ApiError::PreconditionFailed(json(
                "PRECONDITION_FAILED",
                err.to_string(),
                Vec::new(),
            )),
            AppError::Rejected { code, message } => {
                tracing::debug!(code, "rejected");
                ApiError::UnprocessableEntity(json(code, message.into(), Vec::new()))
            }
            err @ AppError::RateLimited { retry_after_secs } => {
                tracing::debug!(retry_after_secs, "rate limited");
                ApiError::TooManyRequests(
                    json("RATE_LIMITED", err.to_string(), Vec::new()),
                    retry_after_secs,
                )
            }
            err @ AppError::PayloadTooLarge { .. } => {
                ApiError::PayloadTooLarge(json("PAYLOAD_TOO_LARGE", err.to_string(), Vec::new()))
            }
            err @ AppError::UnsupportedMediaType => ApiError::UnsupportedMediaType(json(
                "UNSUPPORTED_MEDIA_TYPE",
                err.to_string(),
                Vec::new(),
            )),
            err @ AppError::Validation { .. } => {
                let message = err.to_string();
                let AppError::Validation { details } = err else {
                    unreachable!("matched above")
                };
                tracing::debug!(?details, "validation failed");
                ApiError::UnprocessableEntity(json("VALIDATION_FAILED", message, details))
            }
            AppError::Unavailable { code, source } => {
                tracing::warn!(
                    code,
                    error = source.as_deref().map(tracing::field::display),
                    "service unavailable"
                );
                ApiError::Unavailable(
                    json(
                        code,
                        "the service is temporarily unavailable; retry later".into(),
                        Vec::new(),
                    ),
                    None,
                )
            }
            err @ AppError::Overloaded { retry_after_secs } => {
                tracing::warn!(retry_after_secs, "password hashing queue full");
                ApiError::Unavailable(
                    json("OVERLOADED", err.to_string(), Vec::new()),
                    Some(retry_after_secs),
                )
            }
            AppError::Internal(source) => {
                tracing::error!(error = %source, debug = ?source, "internal error");
                ApiError::Internal(json(
                    "INTERNAL_ERROR",
                    "an unexpected error occurred".into(),
                    Vec::new(),
                ))
            }
        }
    }
}

/// An envelope response for errors that never reach an operation.
pub(crate) fn render(status: StatusCode, code: &str, message: &str) -> Response {
    poem::web::Json(ErrorEnvelope::new(code, message, Vec::new()).to_json_value())
        .with_status(status)
        .into_response()
}

impl ErrorEnvelope {
    fn to_json_value(&self) -> serde_json::Value {
        poem_openapi::types::ToJSON::to_json(self).unwrap_or_default()
    }
}
