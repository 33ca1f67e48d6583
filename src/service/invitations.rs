//! Invitations: owners invite any role, admins invite admins and members (the same rules as
//! adding a user, enforced again by the policies of migration V31). Inviting is a person's
//! act (the invitation names its inviter); an API key gets 403 `PERSON_ONLY`.
//!
//! The invitation email carries a single-use token ([`crate::auth::email_token`]); accepting it
//! creates the user, with a verified address, under the inviter's rights as they are at that
//! moment, and starts their first session.

use serde_json::json;
use uuid::Uuid;

use super::outbox::{self, link, when};
use super::sessions::{ClientInfo, Issued};
use super::{AppState, MAX_PAGE_SIZE, decode_cursor, events, paginate, retrying};
use crate::auth::Principal;
use crate::auth::email_token::{NewToken, PresentedToken, TokenKind};
use crate::domain::{
    DisplayName, Email, EmailKind, EventType, Invitation, InvitationStatus, Password, Position,
    Role, User, UserId,
};
use crate::error::AppError;
use crate::repo::invitations::{self, NewInvitation, Redeemed};
use crate::repo::users::{self, NewUser};

/// The page of the front end that accepts an invitation.
const ACCEPT_PAGE: &str = "accept-invitation";

fn authorize(role: Role, invited: Role) -> Result<(), AppError> {
    if !role.manages_users() {
        return Err(AppError::forbidden(
            "only owners and admins can invite people",
        ));
    }
    if invited == Role::Owner && role != Role::Owner {
        return Err(AppError::forbidden("only owners can invite owners"));
    }
    Ok(())
}

const ALREADY_A_MEMBER: AppError = AppError::Conflict {
    code: "ALREADY_A_MEMBER",
    message: "a user with this email is already a member of this organization",
};

const NOT_PENDING: AppError = AppError::Conflict {
    code: "INVITATION_NOT_PENDING",
    message: "the invitation was already accepted or revoked",
};

/// Queues the invitation email of `invitation`, sent by `inviter`, in `tx`.
async fn queue_email(
    state: &AppState,
    tx: &mut crate::db::TenantTx,
    invitation: &Invitation,
    inviter: UserId,
    token: &NewToken,
) -> Result<(), AppError> {
    let inviter = users::get(tx, inviter)
        .await?
        .map_or_else(|| "A member".to_owned(), |user| user.display_name);
    outbox::queue(
        tx,
        EmailKind::Invitation,
        &invitation.email,
        json!({
            "inviter_name": inviter,
            "role": invitation.role.as_str(),
            "link": link(state, ACCEPT_PAGE, &token.text),
            "expires_at": when(invitation.expires_at),
        }),
    )
    .await
}

/// Invites `email` with `role`; the email is queued in the same transaction.
pub(crate) async fn create(
    state: &AppState,
    principal: &Principal,
    email: &Email,
    role: Role,
) -> Result<Invitation, AppError> {
    let person = principal.require_person()?;
    let id = Uuid::now_v7();
    let token = NewToken::generate(TokenKind::Invitation, principal.org_id(), id);
    let ttl = state.email.invitation_ttl.as_secs_f64();
    let token_ref = &token;
    let invitation = retrying(|| async move {
        let mut tx = state.db.tenant_tx(principal).await?;
        let member = invitations::member_exists(&mut tx, email.as_str()).await?;
        authorize(tx.role()?, role)?;
        if member {
            return Err(ALREADY_A_MEMBER);
        }
        state.limits.check_invitation(principal.org_id())?;
        let new = NewInvitation {
            id,
            email: email.as_str(),
            role,
            token_hash: &token_ref.hash,
            ttl_secs: ttl,
            invited_by: person.user_id,
        };
        let invitation = invitations::insert(&mut tx, &new).await?;
        queue_email(state, &mut tx, &invitation, person.user_id, token_ref).await?;
        tx.commit().await?;
        Ok(invitation)
    })
    .await?;
    outbox::queued(state, &[EmailKind::Invitation]);
    tracing::info!(invitation_id = %invitation.id, "invitation sent");
    Ok(invitation)
}

/// Pending invitations (expired ones included), one page; owners and admins only.
pub(crate) async fn list(
    state: &AppState,
    principal: &Principal,
    cursor: Option<&str>,
    limit: u32,
) -> Result<(Vec<Invitation>, Option<String>), AppError> {
    let limit = limit.clamp(1, MAX_PAGE_SIZE);
    let after = decode_cursor(state, principal.org_id(), "invitations", cursor)?;
    let mut tx = state.db.tenant_tx(principal).await?;
    tx.commit_with_next_statement();
    let rows = invitations::list(&mut tx, after.map(|p| p.id), i64::from(limit) + 1).await?;
    if !tx.role()?.manages_users() {
        return Err(AppError::forbidden(
            "only owners and admins see invitations",
        ));
    }
    tx.commit().await?;
    Ok(paginate(
        state,
        principal.org_id(),
        "invitations",
        rows,
        limit,
        |i| Position {
            id: i.id,
            key: None,
        },
    ))
}

/// Reads invitation `id` for a change by the caller: 404 when missing (or the caller may not
/// see invitations), 403 for an owner's invitation changed by an admin, 409 when no longer
/// pending.
async fn pending_for_change(
    tx: &mut crate::db::TenantTx,
    id: Uuid,
) -> Result<Invitation, AppError> {
    let invitation = invitations::get(tx, id).await?;
    let role = tx.role()?;
    if !role.manages_users() {
        return Err(AppError::forbidden(
            "only owners and admins manage invitations",
        ));
    }
    let invitation = invitation.ok_or(AppError::NotFound)?;
    authorize(role, invitation.role)?;
    if matches!(
        invitation.status,
        InvitationStatus::Accepted | InvitationStatus::Revoked
    ) {
        return Err(NOT_PENDING);
    }
    Ok(invitation)
}

/// Revokes a pending invitation: its link stops working.
pub(crate) async fn revoke(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<(), AppError> {
    principal.require_person()?;
    retrying(|| async move {
        let mut tx = state.db.tenant_tx(principal).await?;
        pending_for_change(&mut tx, id).await?;
        invitations::revoke(&mut tx, id).await?.ok_or(NOT_PENDING)?;
        tx.commit().await
    })
    .await
}

/// Sends a pending invitation again, with a new link (the earlier one stops working) and a
/// new expiry.
pub(crate) async fn resend(
    state: &AppState,
    principal: &Principal,
    id: Uuid,
) -> Result<Invitation, AppError> {
    principal.require_person()?;
    let token = NewToken::generate(TokenKind::Invitation, principal.org_id(), id);
    let ttl = state.email.invitation_ttl.as_secs_f64();
    let token_ref = &token;
    let invitation = retrying(|| async move {
        let mut tx = state.db.tenant_tx(principal).await?;
        let current = pending_for_change(&mut tx, id).await?;
        state.limits.check_invitation(principal.org_id())?;
        let invitation = invitations::resend(&mut tx, id, &token_ref.hash, ttl)
            .await?
            .ok_or(NOT_PENDING)?;
        queue_email(state, &mut tx, &invitation, current.invited_by, token_ref).await?;
        tx.commit().await?;
        Ok(invitation)
    })
    .await?;
    outbox::queued(state, &[EmailKind::Invitation]);
    Ok(invitation)
}

/// What accepting an invitation needs.
pub(crate) struct Acceptance {
    pub token: String,
    pub display_name: DisplayName,
    pub password: Password,
}

/// Accepts an invitation: creates the user (address verified) with the invited role, and
/// starts their session. Each refusal has its own code: `TOKEN_INVALID`, `TOKEN_EXPIRED`,
/// `TOKEN_USED`, `INVITATION_REVOKED` (400), `EMAIL_ALREADY_EXISTS` (409: the address became
/// a member meanwhile).
pub(crate) async fn accept(
    state: &AppState,
    acceptance: Acceptance,
    client: &ClientInfo,
) -> Result<(User, Issued), AppError> {
    // Each acceptance costs a hash: limited per client address like log-in.
    state.limits.check_login_client(client.ip)?;
    let presented = PresentedToken::read(TokenKind::Invitation, &acceptance.token)
        .ok_or_else(AppError::token_invalid)?;
    let password_hash = state.hasher.hash(acceptance.password.secret()).await?;
    let user_id = UserId::generate();
    let (presented, password_hash, display_name) =
        (&presented, &password_hash, &acceptance.display_name);
    let user = retrying(|| async move {
        let mut tx = state.db.token_tx(presented.org_id).await?;
        let (email, role) =
            match invitations::redeem(&mut tx, presented.id, &presented.hash, user_id).await? {
                Redeemed::Accepted { email, role } => (email, role),
                Redeemed::Refused(outcome) => return Err(refusal(&outcome)),
            };
        let new_user = NewUser {
            id: user_id,
            email: &email,
            display_name: display_name.as_str(),
            password_hash,
            role,
        };
        let user = users::insert_verified(&mut tx, &new_user).await?;
        events::record(&mut tx, EventType::UserCreated, &user);
        tx.commit().await?;
        Ok(user)
    })
    .await?;
    let principal = Principal::new(
        presented.org_id,
        user.id,
        crate::domain::SessionId::generate(),
    );
    let issued = super::auth::start_session(state, &principal, user.role, client, false).await?;
    tracing::info!(org_id = %presented.org_id, user_id = %user.id, "invitation accepted");
    Ok((user, issued))
}

/// The error for an outcome of `app.redeem_invitation`.
fn refusal(outcome: &str) -> AppError {
    match outcome {
        "expired" => {
            AppError::token_refused("TOKEN_EXPIRED", "the invitation expired; ask for a new one")
        }
        "accepted_before" => {
            AppError::token_refused("TOKEN_USED", "the invitation was already accepted")
        }
        "revoked" => AppError::token_refused("INVITATION_REVOKED", "the invitation was revoked"),
        "inviter_gone" => AppError::token_refused(
            "INVITATION_REVOKED",
            "the person who sent the invitation is no longer a member; ask for a new one",
        ),
        _ => AppError::token_invalid(),
    }
}
