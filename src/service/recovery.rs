//! Password reset and email verification: tokens sent by email to one user.
//!
//! A reset request answers the same (202, same body) whether or not the account exists, after
//! the same work on the request's path: the client and account budgets, the one look-up of
//! log-in, a token made either way. Writing the token and the email, for an account that
//! exists, happens after the answer, off the request's path.

use serde_json::json;
use uuid::Uuid;

use super::outbox::{self, link, when};
use super::sessions::ClientInfo;
use super::{AppState, events, retrying};
use crate::auth::Principal;
use crate::auth::email_token::{NewToken, PresentedToken, TokenKind};
use crate::db::TenantTx;
use crate::domain::{
    Email, EmailKind, EventType, OrgId, OrgSlug, Password, Role, SessionId, User, UserId,
};
use crate::error::AppError;
use crate::repo::user_tokens::{self, NewUserToken, Redeemed};
use crate::repo::{self, sessions, users};

const RESET_PAGE: &str = "reset-password";
const VERIFY_PAGE: &str = "verify-email";

/// Asks for a password reset email. Always `Ok` unless rate limited (429: the same for an
/// unknown account as for a known one).
#[tracing::instrument(skip_all)]
pub(crate) async fn request_reset(
    state: &AppState,
    org_slug: &str,
    email: &str,
    client: &ClientInfo,
) -> Result<(), AppError> {
    state.limits.check_login_client(client.ip)?;
    let candidate = match (OrgSlug::parse(org_slug), Email::parse(email)) {
        (Ok(slug), Ok(email)) => {
            let mut tx = state.db.anon_tx().await?;
            let found = repo::auth::login_lookup(&mut tx, slug.as_str(), email.as_str()).await?;
            tx.commit().await?;
            state
                .limits
                .check_password_reset(slug.as_str(), &found.account_key)?;
            found.candidate
        }
        _ => None,
    };
    // Made whether or not there is an account.
    let org = candidate
        .as_ref()
        .map_or_else(OrgId::generate, |c| c.org_id);
    let token = NewToken::generate(TokenKind::PasswordReset, org, Uuid::now_v7());
    if let Some(candidate) = candidate {
        let state = state.clone();
        tokio::spawn(async move {
            let (user, role) = (candidate.user_id, candidate.role);
            if let Err(err) = queue_reset(&state, org, user, role, &token).await {
                tracing::error!(error = %err, org_id = %org, user_id = %user,
                                "cannot queue a password reset email");
            }
        });
    }
    Ok(())
}

/// Writes the reset token and its email, in the user's context.
async fn queue_reset(
    state: &AppState,
    org: OrgId,
    user: UserId,
    role: Role,
    token: &NewToken,
) -> Result<(), AppError> {
    let principal = Principal::new(org, user, SessionId::generate());
    let ttl = state.email.password_reset_ttl;
    let principal = &principal;
    retrying(|| async move {
        let mut tx = state.db.new_session_tx(principal, role).await?;
        let Some(found) = users::get(&mut tx, user).await? else {
            return Ok(()); // removed since the look-up
        };
        user_tokens::insert(
            &mut tx,
            &NewUserToken {
                id: token.id,
                user_id: user,
                kind: TokenKind::PasswordReset,
                email: None,
                token_hash: &token.hash,
                ttl_secs: ttl.as_secs_f64(),
            },
        )
        .await?;
        outbox::queue(
            &mut tx,
            EmailKind::PasswordReset,
            &found.email,
            json!({
                "display_name": found.display_name,
                "link": link(state, RESET_PAGE, &token.text),
                "ttl_minutes": ttl.as_secs() / 60,
            }),
        )
        .await?;
        tx.commit().await
    })
    .await?;
    outbox::queued(state, &[EmailKind::PasswordReset]);
    Ok(())
}

/// Sets a new password with a reset token, ends every session of the user, voids their other
/// reset links and sends a "your password was changed" notice.
#[tracing::instrument(skip_all)]
pub(crate) async fn confirm_reset(
    state: &AppState,
    token: &str,
    password: &Password,
    client: &ClientInfo,
) -> Result<(), AppError> {
    state.limits.check_login_client(client.ip)?;
    let presented = PresentedToken::read(TokenKind::PasswordReset, token)
        .ok_or_else(AppError::token_invalid)?;
    let password_hash = state.hasher.hash(password.secret()).await?;
    let (presented, password_hash) = (&presented, &password_hash);
    let user = retrying(|| async move {
        let mut tx = state.db.token_tx(presented.org_id).await?;
        let user = redeem(&mut tx, presented, TokenKind::PasswordReset).await?;
        let (email, display_name) = users::set_password(&mut tx, user, password_hash)
            .await?
            .ok_or_else(AppError::token_invalid)?;
        let ended = sessions::revoke_all(&mut tx, user, None).await?;
        super::sessions::record_revoked(&mut tx, &ended);
        if let Some(changed) = users::get(&mut tx, user).await? {
            events::record(&mut tx, EventType::UserUpdated, &changed);
        }
        user_tokens::use_all(&mut tx, user, TokenKind::PasswordReset).await?;
        outbox::queue(
            &mut tx,
            EmailKind::PasswordChanged,
            &email,
            json!({ "display_name": display_name }),
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    })
    .await?;
    outbox::queued(state, &[EmailKind::PasswordChanged]);
    tracing::info!(org_id = %presented.org_id, user_id = %user, "password reset");
    Ok(())
}

/// Redeems `presented` (of `kind`) as the first statement of `tx`, which then acts as the
/// token's user. Refusals: `TOKEN_INVALID`, `TOKEN_USED`, `TOKEN_EXPIRED` (400).
async fn redeem_token(
    tx: &mut TenantTx,
    presented: &PresentedToken,
    kind: TokenKind,
) -> Result<(UserId, Option<String>), AppError> {
    match user_tokens::redeem(tx, presented.id, kind, &presented.hash).await? {
        Redeemed::Used { user_id, email } => Ok((user_id, email)),
        Redeemed::Refused(outcome) => Err(match outcome.as_str() {
            "used" => AppError::token_refused("TOKEN_USED", "this link was already used"),
            "expired" => {
                AppError::token_refused("TOKEN_EXPIRED", "this link expired; ask for a new one")
            }
            _ => AppError::token_invalid(),
        }),
    }
}

async fn redeem(
    tx: &mut TenantTx,
    presented: &PresentedToken,
    kind: TokenKind,
) -> Result<UserId, AppError> {
    redeem_token(tx, presented, kind)
        .await
        .map(|(user, _)| user)
}

/// Queues a verification email for `user`'s address `email` (a key) in `tx`, which acts as
/// that user: sign-up, an email change, a request to send it again.
pub(crate) async fn queue_verification(
    state: &AppState,
    tx: &mut TenantTx,
    user: &User,
    email: &str,
) -> Result<(), AppError> {
    let token = NewToken::generate(TokenKind::VerifyEmail, tx.org_id(), Uuid::now_v7());
    let ttl = state.email.verification_ttl;
    user_tokens::insert(
        tx,
        &NewUserToken {
            id: token.id,
            user_id: user.id,
            kind: TokenKind::VerifyEmail,
            email: Some(email),
            token_hash: &token.hash,
            ttl_secs: ttl.as_secs_f64(),
        },
    )
    .await?;
    let expires =
        chrono::Utc::now() + chrono::Duration::from_std(ttl).map_err(AppError::internal)?;
    outbox::queue(
        tx,
        EmailKind::VerifyEmail,
        email,
        json!({
            "display_name": user.display_name,
            "link": link(state, VERIFY_PAGE, &token.text),
            "expires_at": when(expires),
        }),
    )
    .await
}

/// Sends the calling user a new verification link for their address (409
/// `EMAIL_ALREADY_VERIFIED` when it is verified).
pub(crate) async fn resend_verification(
    state: &AppState,
    principal: &Principal,
) -> Result<(), AppError> {
    let person = principal.require_person()?;
    state
        .limits
        .check_reauthentication(principal.org_id(), person.user_id)?;
    retrying(|| async move {
        let mut tx = state.db.tenant_tx(principal).await?;
        let user = users::get(&mut tx, person.user_id)
            .await?
            .ok_or(AppError::Unauthenticated {
                code: "TOKEN_INVALID",
                message: "the access token's user no longer exists",
            })?;
        if user.email_verified_at.is_some() {
            return Err(AppError::Conflict {
                code: "EMAIL_ALREADY_VERIFIED",
                message: "your email address is already verified",
            });
        }
        let email = user.email.clone();
        queue_verification(state, &mut tx, &user, &email).await?;
        tx.commit().await
    })
    .await?;
    outbox::queued(state, &[EmailKind::VerifyEmail]);
    Ok(())
}

/// Verifies an address with a verification token: the user's address becomes the one the
/// token was sent to, verified now.
#[tracing::instrument(skip_all)]
pub(crate) async fn verify_email(
    state: &AppState,
    token: &str,
    client: &ClientInfo,
) -> Result<User, AppError> {
    state.limits.check_login_client(client.ip)?;
    let presented =
        PresentedToken::read(TokenKind::VerifyEmail, token).ok_or_else(AppError::token_invalid)?;
    let presented = &presented;
    retrying(|| async move {
        let mut tx = state.db.token_tx(presented.org_id).await?;
        let (user, email) = redeem_token(&mut tx, presented, TokenKind::VerifyEmail).await?;
        let email =
            email.ok_or_else(|| AppError::internal("a verification token without email"))?;
        let user = users::verify_email(&mut tx, user, &email)
            .await?
            .ok_or_else(AppError::token_invalid)?;
        events::record(&mut tx, EventType::UserUpdated, &user);
        tx.commit().await?;
        Ok(user)
    })
    .await
}
