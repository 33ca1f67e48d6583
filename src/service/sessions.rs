//! Sessions: opening one at log-in and sign-up, refreshing (rotation with reuse detection),
//! logging out, listing and ending one's sessions.

use chrono::{DateTime, Utc};

use super::{AppState, events, require_person};
use crate::auth::Principal;
use crate::auth::jwt::AccessToken;
use crate::auth::refresh::RefreshToken;
use crate::db::TenantTx;
use crate::domain::{EventType, Session, SessionId};
use crate::error::AppError;
use crate::repo;
use crate::repo::auth::Rotation;
use crate::repo::sessions::NewSession;

/// Where a log-in comes from, as shown in the session list.
#[derive(Debug, Default, Clone)]
pub(crate) struct ClientInfo {
    pub user_agent: Option<String>,
    pub client_addr: Option<String>,
    /// The peer address, for rate limiting.
    pub ip: Option<std::net::IpAddr>,
}

/// The tokens a log-in, sign-up or refresh hands out.
pub(crate) struct Issued {
    pub access: AccessToken,
    pub refresh_token: String,
    pub session_expires_at: DateTime<Utc>,
}

const REFRESH_INVALID: AppError = AppError::Unauthenticated {
    code: "REFRESH_TOKEN_INVALID",
    message: "the refresh token is invalid, expired or revoked; log in again",
};

/// Opens `principal`'s session inside `tx` (begun with `Db::new_session_tx`) and returns its
/// refresh token and expiry. The caller commits, then issues the access token.
pub(crate) async fn open(
    tx: &mut TenantTx,
    state: &AppState,
    principal: &Principal,
    client: &ClientInfo,
) -> Result<(String, DateTime<Utc>), AppError> {
    let session_id = principal
        .session_id()
        .ok_or_else(|| AppError::internal("a session is a person's"))?;
    let refresh = RefreshToken::generate(principal.org_id(), session_id);
    let expires_at = repo::sessions::insert(
        tx,
        &NewSession {
            id: session_id,
            refresh_hash: &refresh.hash(),
            user_agent: client.user_agent.as_deref(),
            client_addr: client.client_addr.as_deref(),
            lifetime_secs: state.sessions.ttl.as_secs_f64(),
        },
    )
    .await?;
    Ok((refresh.encode(), expires_at))
}

/// Exchanges a refresh token for a new access token and its successor refresh token. The old
/// one is invalidated; presenting an already-exchanged one revokes the whole session (RFC 9700
/// section 4.14.2) unless it is the one just replaced, within the grace window: then the same
/// successor is handed out again (the successor is derived from the presented token).
#[tracing::instrument(skip_all)]
pub(crate) async fn refresh(
    state: &AppState,
    token: &str,
    client: &ClientInfo,
) -> Result<Issued, AppError> {
    state.limits.check_client(client.ip)?;
    let Some(presented) = RefreshToken::parse(token) else {
        return Err(failed(state, client, REFRESH_INVALID));
    };
    let next = presented.successor(&state.sessions.successors);
    let mut tx = state.db.anon_tx().await?;
    let rotation = repo::auth::rotate_refresh_token(
        &mut tx,
        &presented,
        &next,
        state.sessions.refresh_grace.as_secs_f64(),
    )
    .await?;
    if let Rotation::Rotated { .. } = rotation {
        // The token verified: only now does the refresh count against its session, and
        // before the commit, so that a refused refresh rolls back and the presented token
        // stays the current one.
        state
            .limits
            .check_session(presented.org_id, presented.session_id)?;
    }
    tx.commit().await?;
    match rotation {
        Rotation::Rotated {
            user_id,
            role,
            expires_at,
        } => {
            let principal = Principal::new(presented.org_id, user_id, presented.session_id);
            Ok(Issued {
                access: state.tokens.issue(&principal, role)?,
                refresh_token: next.encode(),
                // Absolute: refreshing does not move it.
                session_expires_at: expires_at,
            })
        }
        Rotation::Reused => {
            tracing::warn!(
                org_id = %presented.org_id,
                session_id = %presented.session_id,
                "refresh token reused: the session is revoked"
            );
            Err(failed(
                state,
                client,
                AppError::Unauthenticated {
                    code: "REFRESH_TOKEN_REUSED",
                    message: "this refresh token was already used; the session has been revoked",
                },
            ))
        }
        Rotation::Invalid => Err(failed(state, client, REFRESH_INVALID)),
    }
}

/// A refresh that failed: `error`, or 429 once the client has failed too often.
fn failed(state: &AppState, client: &ClientInfo, error: AppError) -> AppError {
    match state.limits.check_refresh_failure(client.ip) {
        Ok(()) => error,
        Err(limited) => limited,
    }
}

/// Ends the caller's current session.
pub(crate) async fn logout(state: &AppState, principal: &Principal) -> Result<(), AppError> {
    let person = require_person(state, principal).await?;
    let mut tx = state.db.tenant_tx(principal).await?;
    if let Some(ended) = repo::sessions::revoke(&mut tx, person.user_id, person.session_id).await? {
        events::record(&mut tx, EventType::SessionRevoked, &ended);
    }
    tx.commit().await
}

/// Ends every session of the caller, the current one included.
pub(crate) async fn logout_all(state: &AppState, principal: &Principal) -> Result<(), AppError> {
    let person = require_person(state, principal).await?;
    let mut tx = state.db.tenant_tx(principal).await?;
    let ended = repo::sessions::revoke_all(&mut tx, person.user_id, None).await?;
    record_revoked(&mut tx, &ended);
    tx.commit().await
}

/// The caller's live sessions (a person's only).
pub(crate) async fn list(
    state: &AppState,
    principal: &Principal,
) -> Result<Vec<Session>, AppError> {
    let person = require_person(state, principal).await?;
    let mut tx = state.db.tenant_tx(principal).await?;
    tx.commit_with_next_statement();
    let sessions = repo::sessions::list(&mut tx, person.user_id).await?;
    tx.commit().await?;
    Ok(sessions)
}

/// Ends one of the caller's own sessions; another user's id is not found.
pub(crate) async fn end(
    state: &AppState,
    principal: &Principal,
    id: SessionId,
) -> Result<(), AppError> {
    let person = require_person(state, principal).await?;
    let mut tx = state.db.tenant_tx(principal).await?;
    let ended = repo::sessions::revoke(&mut tx, person.user_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    events::record(&mut tx, EventType::SessionRevoked, &ended);
    tx.commit().await
}

/// Records a `session.revoked` event for each of `ended` (a log-out everywhere, a new
/// password, a removed user).
pub(crate) fn record_revoked(tx: &mut TenantTx, ended: &[Session]) {
    for session in ended {
        events::record(tx, EventType::SessionRevoked, session);
    }
}
