//! [`AppError`]: every outcome a request can end with other than success, named for what it
//! means rather than for its HTTP status (the API layer picks the status, in one place).
//!
//! This module also owns the only SQLSTATE mapping: [`From<tokio_postgres::Error>`] turns a
//! database error into an outcome, using [`CONSTRAINTS`] to name constraint violations.
//! A test checks that every constraint of the schema has an entry there.

use std::error::Error as StdError;

use tokio_postgres::error::SqlState;

type BoxError = Box<dyn StdError + Send + Sync>;

/// One invalid input field, reported in the envelope's `details`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The request field (JSON property, query or path parameter) at fault.
    pub field: String,
    /// What is wrong with it, for humans.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the request cannot be read (malformed JSON, an unreadable header, a forged cursor).
    #[error("{message}")]
    BadRequest {
        code: &'static str,
        message: String,
        details: Vec<FieldError>,
    },
    /// 401: no credentials, invalid credentials or an unusable token.
    #[error("{message}")]
    Unauthenticated {
        code: &'static str,
        message: &'static str,
    },
    /// 403: authenticated, but not allowed: the caller's role does not allow this
    /// (`FORBIDDEN`), or a change of one's own credentials lacks proof of the current password
    /// (`REAUTHENTICATION_REQUIRED`, `INVALID_CURRENT_PASSWORD`).
    #[error("{message}")]
    Forbidden {
        code: &'static str,
        message: &'static str,
    },
    /// 404: no such object, or one of another organization (indistinguishable on purpose).
    #[error("the requested resource was not found")]
    NotFound,
    /// 409: the request conflicts with the current state (a unique value is taken, ...).
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: &'static str,
    },
    /// 429: too many sign-up, log-in or refresh attempts; retry after the given delay.
    #[error("too many attempts; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// 412: `If-Match` names a version that is no longer current.
    #[error("the resource changed since it was read; fetch it again")]
    PreconditionFailed,
    /// 422: the request is refused as a whole, for the reason its code names.
    #[error("{message}")]
    Rejected {
        code: &'static str,
        message: &'static str,
    },
    /// 413: the body is larger than the configured limit.
    #[error("the request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: u64 },
    /// 415: the body is not JSON.
    #[error("the request body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    /// 422: the request is well-formed but some values are invalid.
    #[error("the request has invalid fields")]
    Validation { details: Vec<FieldError> },
    /// 503: the database is unreachable, overloaded or timed out; retrying later may work.
    #[error("the service is temporarily unavailable")]
    Unavailable {
        code: &'static str,
        #[source]
        source: Option<BoxError>,
    },
    /// 503: too much password hashing is queued already; retry after the given delay.
    #[error("the service is busy; retry in {retry_after_secs} s")]
    Overloaded { retry_after_secs: u64 },
    /// 500: a bug or an unexpected failure. The source is logged, never sent to the client.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl AppError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Validation {
            details: vec![FieldError::new(field, message)],
        }
    }

    /// 400 `INVALID_HEADER`: a header the service reads is present but cannot be read.
    pub fn invalid_header(header: &str, reason: impl Into<String>) -> Self {
        AppError::BadRequest {
            code: "INVALID_HEADER",
            message: format!("the {header} header cannot be read"),
            details: vec![FieldError::new(header, reason)],
        }
    }

    pub fn internal(err: impl Into<BoxError>) -> Self {
        AppError::Internal(err.into())
    }

    pub const fn forbidden(message: &'static str) -> Self {
        AppError::Forbidden {
            code: "FORBIDDEN",
            message,
        }
    }

    pub const REAUTHENTICATION_REQUIRED: AppError = AppError::Forbidden {
        code: "REAUTHENTICATION_REQUIRED",
        message: "changing your own password or email needs your current password in current_password",
    };

    pub const INVALID_CURRENT_PASSWORD: AppError = AppError::Forbidden {
        code: "INVALID_CURRENT_PASSWORD",
        message: "current_password is not your current password",
    };

    /// An API key called an operation that only a person may call (their own sessions,
    /// log-out, creating or revoking keys).
    pub const PERSON_ONLY: AppError = AppError::Forbidden {
        code: "PERSON_ONLY",
        message: "API keys cannot call this operation: it needs a person's access token",
    };

    /// An API key that is unknown, malformed, revoked or expired (one answer for all).
    pub const API_KEY_INVALID: AppError = AppError::Unauthenticated {
        code: "API_KEY_INVALID",
        message: "the API key is invalid, revoked or expired",
    };

    pub const INVALID_CREDENTIALS: AppError = AppError::Unauthenticated {
        code: "INVALID_CREDENTIALS",
        message: "the organization, email or password is incorrect",
    };

    /// A token sent by email (invitation, password reset, email verification) that cannot be
    /// used: 400 with `code` (`TOKEN_INVALID`, `TOKEN_EXPIRED`, `TOKEN_USED`,
    /// `INVITATION_REVOKED`).
    pub fn token_refused(code: &'static str, message: &str) -> Self {
        AppError::BadRequest {
            code,
            message: message.to_owned(),
            details: Vec::new(),
        }
    }

    /// A token that is malformed, unknown, of another kind or with another secret (one answer
    /// for all).
    pub fn token_invalid() -> Self {
        Self::token_refused(
            "TOKEN_INVALID",
            "the token is not valid; ask for a new email",
        )
    }

    /// Log-in by a user whose address is not verified, when TENANTRY_REQUIRE_VERIFIED_EMAIL.
    pub const EMAIL_NOT_VERIFIED: AppError = AppError::Forbidden {
        code: "EMAIL_NOT_VERIFIED",
        message: "confirm your email address first: follow the link of the verification email",
    };

    /// A serialization failure or deadlock: running the whole transaction again may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            AppError::Unavailable {
                code: "DATABASE_BUSY",
                ..
            }
        )
    }

    pub fn database_unavailable(source: impl Into<BoxError>) -> Self {
        AppError::Unavailable {
            code: "DATABASE_UNAVAILABLE",
            source: Some(source.into()),
        }
    }
}

/// What a violated constraint means to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstraintOutcome {
    /// 409 with this code and message.
    Conflict(&'static str, &'static str),
    /// 422 naming this field.
    Invalid(&'static str, &'static str),
    /// 404: the row referred to does not exist (or belongs to another organization).
    NotFound,
    /// A constraint that only a bug can trip: 500.
    Bug,
}

/// Names that triggers raise as constraints (they are not in `pg_constraint`).
pub const TRIGGER_CONSTRAINTS: &[&str] = &["ck_users_last_owner", "ck_projects_owner_live"];

/// Every named constraint and unique index of the schema, and its public meaning. Names never
/// end in `_<digits>` (Citus appends shard ids that way; see [`constraint_from_message`]).
pub const CONSTRAINTS: &[(&str, ConstraintOutcome)] = {
    use crate::domain::{DESCRIPTION_RULE, EMAIL_RULE, NAME_RULE};
    use ConstraintOutcome::*;
    &[
        ("pk_organizations", Bug),
        (
            "uq_organizations_slug",
            Conflict(
                "ORG_SLUG_TAKEN",
                "an organization with this slug already exists",
            ),
        ),
        (
            "ck_organizations_slug",
            Invalid(
                "org_slug",
                "must be 1 to 63 lower-case letters, digits or inner hyphens",
            ),
        ),
        (
            "ck_organizations_name",
            Invalid(
                "org_name",
                "must be between 1 and 200 characters, without surrounding white space",
            ),
        ),
        ("ck_organizations_name_text", Invalid("org_name", NAME_RULE)),
        ("pk_users", Bug),
        ("fk_users_org_id", NotFound),
        (
            "uq_users_org_id_email",
            Conflict(
                "EMAIL_ALREADY_EXISTS",
                "a user with this email already exists in this organization",
            ),
        ),
        (
            "ck_users_email",
            Invalid("email", "must be an email address of 3 to 254 characters"),
        ),
        ("ck_users_email_text", Invalid("email", EMAIL_RULE)),
        (
            "ck_users_display_name",
            Invalid(
                "display_name",
                "must be between 1 and 200 characters, without surrounding white space",
            ),
        ),
        (
            "ck_users_display_name_text",
            Invalid("display_name", NAME_RULE),
        ),
        (
            "ck_users_role",
            Invalid("role", "must be owner, admin or member"),
        ),
        ("ck_users_password_hash", Bug),
        // Raised by the trigger app.keep_an_owner (V6), not a catalog constraint.
        (
            "ck_users_last_owner",
            Conflict("LAST_OWNER", "an organization must keep at least one owner"),
        ),
        ("pk_sessions", Bug),
        ("fk_sessions_org_id", NotFound),
        ("fk_sessions_user", NotFound),
        ("ck_sessions_user_agent", Bug),
        ("ck_sessions_client_addr", Bug),
        ("pk_projects", Bug),
        ("fk_projects_org_id", NotFound),
        (
            "fk_projects_owner",
            Invalid("owner_id", "must be a user of this organization"),
        ),
        // Raised by the trigger app.require_live_owner (V14), not a catalog constraint.
        (
            "ck_projects_owner_live",
            Invalid(
                "owner_id",
                "must be a user of this organization who has not been removed",
            ),
        ),
        (
            "uq_projects_org_id_name",
            Conflict(
                "PROJECT_NAME_TAKEN",
                "a project with this name already exists in this organization",
            ),
        ),
        (
            "ck_projects_name",
            Invalid(
                "name",
                "must be between 1 and 200 characters, without surrounding white space",
            ),
        ),
        ("ck_projects_name_text", Invalid("name", NAME_RULE)),
        (
            "ck_projects_name_key",
            Invalid("name", "is too long once normalized for sorting"),
        ),
        (
            "ck_projects_description",
            Invalid("description", "must be at most 2000 characters"),
        ),
        (
            "ck_projects_description_text",
            Invalid("description", DESCRIPTION_RULE),
        ),
        (
            "ck_projects_status",
            Invalid("status", "must be active or archived"),
        ),
        ("pk_idempotency_keys", Bug),
        ("fk_idempotency_keys_org_id", NotFound),
        (
            "ck_idempotency_keys_key",
            Invalid("Idempotency-Key", "must be 1 to 255 characters"),
        ),
        ("pk_api_keys", Bug),
        ("fk_api_keys_org_id", NotFound),
        (
            "ck_api_keys_name",
            Invalid(
                "name",
                "must be between 1 and 200 characters, without surrounding white space",
            ),
        ),
        ("ck_api_keys_name_text", Invalid("name", NAME_RULE)),
        (
            "ck_api_keys_role",
            Invalid("role", "must be admin or member"),
        ),
        ("ck_api_keys_secret_hash", Bug),
        ("pk_outbound_emails", Bug),
        ("fk_outbound_emails_org_id", NotFound),
        ("ck_outbound_emails_kind", Bug),
        (
            "ck_outbound_emails_recipient",
            Invalid("email", "must be an email address of 3 to 254 characters"),
        ),
        ("ck_outbound_emails_status", Bug),
        ("ck_outbound_emails_last_error", Bug),
        ("pk_invitations", Bug),
        ("fk_invitations_org_id", NotFound),
        ("fk_invitations_invited_by", NotFound),
        (
            "uq_invitations_org_id_email",
            Conflict(
                "INVITATION_PENDING",
                "this address already has a pending invitation; resend or revoke it",
            ),
        ),
        (
            "ck_invitations_email",
            Invalid("email", "must be an email address of 3 to 254 characters"),
        ),
        ("ck_invitations_email_text", Invalid("email", EMAIL_RULE)),
        (
            "ck_invitations_role",
            Invalid("role", "must be owner, admin or member"),
        ),
        ("ck_invitations_token_hash", Bug),
        ("pk_user_tokens", Bug),
        ("fk_user_tokens_org_id", NotFound),
        ("fk_user_tokens_user", NotFound),
        ("ck_user_tokens_kind", Bug),
        ("ck_user_tokens_email", Bug),
        ("ck_user_tokens_token_hash", Bug),
        (
            "ck_api_keys_expires_at",
            Invalid("expires_at", "must be in the future"),
        ),
        // Webhooks: the service checks URL, event types and description first (422 there);
        // the rest is written by the service or the relay from checked values.
        ("pk_webhook_endpoints", Bug),
        ("fk_webhook_endpoints_org_id", NotFound),
        (
            "ck_webhook_endpoints_url",
            Invalid(
                "url",
                "must be an absolute http or https URL of at most 2000 characters",
            ),
        ),
        (
            "ck_webhook_endpoints_event_types",
            Invalid("event_types", "must hold 1 to 50 entries"),
        ),
        (
            "ck_webhook_endpoints_description",
            Invalid("description", DESCRIPTION_RULE),
        ),
        (
            "ck_webhook_endpoints_description_text",
            Invalid("description", DESCRIPTION_RULE),
        ),
        ("ck_webhook_endpoints_disabled", Bug),
        ("ck_webhook_endpoints_secret", Bug),
        ("ck_webhook_endpoints_previous_secret", Bug),
        ("pk_webhook_deliveries", Bug),
        ("fk_webhook_deliveries_org_id", NotFound),
        ("fk_webhook_deliveries_endpoint", NotFound),
        ("fk_webhook_deliveries_event", NotFound),
        ("uq_webhook_deliveries_endpoint_event", Bug),
        ("ck_webhook_deliveries_status", Bug),
        ("ck_webhook_deliveries_last_error", Bug),
        ("ck_webhook_deliveries_snippet", Bug),
        // Events are written by the service alone, from checked values: any violation is a bug.
        ("pk_event_counters", Bug),
        ("fk_event_counters_org_id", NotFound),
        ("ck_event_counters_last_seq", Bug),
        ("pk_events", Bug),
        ("uq_events_org_id_seq", Bug),
        ("fk_events_org_id", NotFound),
        ("ck_events_seq", Bug),
        ("ck_events_type", Bug),
        ("ck_events_actor_type", Bug),
        ("ck_events_actor", Bug),
        ("ck_events_request_id", Bug),
        ("ck_events_payload", Bug),
    ]
};

fn constraint_outcome(name: &str) -> Option<ConstraintOutcome> {
    CONSTRAINTS
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(_, outcome)| *outcome)
}

/// The constraint named in a server message (`... constraint "uq_users_org_id_email_102008"`),
/// without the `_<digits>` shard suffix Citus adds. Citus leaves the constraint field empty.
pub fn constraint_from_message(message: &str) -> Option<&str> {
    let start = message.find("constraint \"")? + "constraint \"".len();
    let name = &message[start..];
    let name = &name[..name.find('"')?];
    let trimmed = name.trim_end_matches(|c: char| c.is_ascii_digit());
    Some(match trimmed.strip_suffix('_') {
        Some(base) if trimmed.len() < name.len() => base,
        _ => name,
    })
}

impl From<tokio_postgres::Error> for AppError {
    fn from(err: tokio_postgres::Error) -> Self {
        let Some(db) = err.as_db_error() else {
            // No SQLSTATE: the connection broke or could not be used.
            return AppError::database_unavailable(err);
        };
        let state = db.code();
        // Citus leaves the constraint field of a shard's error empty; real constraints name
        // themselves in the message, the triggers' pseudo-constraints in the detail (V18).
        let constraint = db
            .constraint()
            .or_else(|| constraint_from_message(db.message()))
            .or_else(|| db.detail().and_then(constraint_from_message));
        let outcome = constraint.and_then(constraint_outcome);
        match (state, outcome) {
            // Integrity violations (class 23) of a constraint whose meaning is a conflict.
            (_, Some(ConstraintOutcome::Conflict(code, message)))
                if state.code().starts_with("23") =>
            {
                AppError::Conflict { code, message }
            }
            (_, Some(ConstraintOutcome::Invalid(field, message)))
                if *state == SqlState::CHECK_VIOLATION
                    || *state == SqlState::NOT_NULL_VIOLATION
                    || *state == SqlState::FOREIGN_KEY_VIOLATION =>
            {
                AppError::validation(field, message)
            }
            (_, Some(ConstraintOutcome::NotFound)) if *state == SqlState::FOREIGN_KEY_VIOLATION => {
                AppError::NotFound
            }
            _ if *state == SqlState::UNIQUE_VIOLATION => {
                // A unique constraint without an entry in CONSTRAINTS: still a conflict, but a
                // generic one (the catalog test keeps this from happening).
                AppError::Conflict {
                    code: "CONFLICT",
                    message: "the request conflicts with an existing resource",
                }
            }
            _ if *state == SqlState::FOREIGN_KEY_VIOLATION => AppError::Conflict {
                code: "REFERENCE_CONFLICT",
                message: "the request refers to a resource that does not exist or is still referenced",
            },
            _ if *state == SqlState::CHECK_VIOLATION
                || *state == SqlState::NOT_NULL_VIOLATION
                || state.code().starts_with("22") =>
            {
                AppError::Validation {
                    details: Vec::new(),
                }
            }
            // app.authorize_session: the token's session was ended, expired, or its user removed.
            _ if *state == SqlState::INVALID_AUTHORIZATION_SPECIFICATION => {
                AppError::Unauthenticated {
                    code: "SESSION_REVOKED",
                    message: "the session has ended; log in again",
                }
            }
            // app.enter_key: the API key is unknown, revoked or expired.
            _ if *state == SqlState::INVALID_PASSWORD => AppError::API_KEY_INVALID,
            // RLS WITH CHECK refused the row: it would belong to another organization.
            _ if *state == SqlState::INSUFFICIENT_PRIVILEGE => AppError::NotFound,
            _ if *state == SqlState::T_R_SERIALIZATION_FAILURE
                || *state == SqlState::T_R_DEADLOCK_DETECTED =>
            {
                AppError::Unavailable {
                    code: "DATABASE_BUSY",
                    source: Some(err.into()),
                }
            }
            _ if *state == SqlState::QUERY_CANCELED => AppError::Unavailable {
                code: "TIMEOUT",
                source: Some(err.into()),
            },
            _ if state.code().starts_with("08")
                || state.code().starts_with("53")
                || state.code().starts_with("57P") =>
            {
                AppError::database_unavailable(err)
            }
            _ => AppError::Internal(err.into()),
        }
    }
}

impl From<deadpool_postgres::PoolError> for AppError {
    fn from(err: deadpool_postgres::PoolError) -> Self {
        match err {
            // Opening a connection failed (server down, database missing, authentication):
            // whatever the SQLSTATE, the database is unavailable to this request.
            deadpool_postgres::PoolError::Backend(err) => AppError::database_unavailable(err),
            deadpool_postgres::PoolError::Timeout(_) => AppError::Unavailable {
                code: "DATABASE_UNAVAILABLE",
                source: Some("no database connection became available in time".into()),
            },
            other => AppError::database_unavailable(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn citus_shard_suffixes_are_removed_from_constraint_names() {
        let msg =
            r#"duplicate key value violates unique constraint "uq_users_org_id_email_102008""#;
        assert_eq!(constraint_from_message(msg), Some("uq_users_org_id_email"));
        let msg = r#"duplicate key value violates unique constraint "uq_users_org_id_email""#;
        assert_eq!(constraint_from_message(msg), Some("uq_users_org_id_email"));
        assert_eq!(constraint_from_message("no constraint here"), None);
    }

    #[test]
    fn no_constraint_name_ends_in_digits() {
        for (name, _) in CONSTRAINTS {
            assert!(
                !name.ends_with(|c: char| c.is_ascii_digit()),
                "{name} would be confused with a Citus shard suffix"
            );
        }
    }
}
