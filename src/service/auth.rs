//! Sign-up and log-in.

use super::sessions::{self, ClientInfo, Issued};
use super::{AppState, events, outbox, recovery, retrying};
use crate::auth::Principal;
use crate::domain::{
    DisplayName, Email, EmailKind, EventType, OrgId, OrgName, OrgSlug, Password, Role, SessionId,
    UserId,
};
use crate::domain::{Organization, User};
use crate::error::AppError;
use crate::metrics::{METRICS, OutcomeLabels};
use crate::repo;
use crate::repo::organizations;
use crate::repo::users::{self, NewUser};

pub(crate) struct Signup {
    pub org_name: OrgName,
    pub org_slug: OrgSlug,
    pub email: Email,
    pub display_name: DisplayName,
    pub password: Password,
}

/// Creates an organization and its first user (an owner) in one transaction.
#[tracing::instrument(skip_all)]
pub(crate) async fn signup(
    state: &AppState,
    signup: Signup,
    client: &ClientInfo,
) -> Result<(Organization, User, Issued), AppError> {
    // Each sign-up costs a hash: limited per client address, before any work.
    state.limits.check_signup(client.ip)?;
    // Hash before taking a connection: a pooled connection is never held during argon2.
    let password_hash = state.hasher.hash(signup.password.secret()).await?;
    // The new organization's context is the service's own statement, not a client's: the
    // ids are generated here, and RLS checks that both rows belong to that organization.
    let owner_id = UserId::generate();
    let principal = Principal::new(OrgId::generate(), owner_id, SessionId::generate());
    let owner = NewUser {
        id: owner_id,
        email: signup.email.as_str(),
        display_name: signup.display_name.as_str(),
        password_hash: &password_hash,
        role: Role::Owner,
    };
    let (principal_ref, owner, signup_ref) = (&principal, &owner, &signup);
    let (org, user, (refresh_token, session_expires_at)) = retrying(|| async move {
        let mut tx = state.db.new_session_tx(principal_ref, Role::Owner).await?;
        let org = organizations::insert(
            &mut tx,
            signup_ref.org_slug.as_str(),
            signup_ref.org_name.as_str(),
        )
        .await?;
        let user = users::insert(&mut tx, owner).await?;
        recovery::queue_verification(state, &mut tx, &user, &user.email).await?;
        let session = sessions::open(&mut tx, state, principal_ref, client).await?;
        events::record(&mut tx, EventType::UserCreated, &user);
        tx.commit().await?;
        Ok((org, user, session))
    })
    .await?;
    outbox::queued(state, &[EmailKind::VerifyEmail]);
    let issued = Issued {
        access: state.tokens.issue(&principal, Role::Owner)?,
        refresh_token,
        session_expires_at,
    };
    tracing::info!(org_id = %org.id, user_id = %user.id, "organization signed up");
    Ok((org, user, issued))
}

/// Verifies credentials. An unknown organization, an unknown email and a wrong password give
/// the same error after the same work (a dummy hash is verified when there is no user).
#[tracing::instrument(skip_all)]
pub(crate) async fn login(
    state: &AppState,
    org_slug: &str,
    email: &str,
    password: &str,
    client: &ClientInfo,
) -> Result<Issued, AppError> {
    let rate_limited = || {
        METRICS
            .logins
            .get_or_create(&OutcomeLabels {
                outcome: "rate_limited",
            })
            .inc();
    };
    if let Err(limited) = state.limits.check_login_client(client.ip) {
        rate_limited();
        return Err(limited);
    }
    let candidate = match (OrgSlug::parse(org_slug), Email::parse(email)) {
        (Ok(slug), Ok(email)) => {
            let mut tx = state.db.anon_tx().await?;
            let found = repo::auth::login_lookup(&mut tx, slug.as_str(), email.as_str()).await?;
            tx.commit().await?;
            // The account's budget is counted before the password is verified, by the key the
            // database matched with (every spelling of an address shares it).
            if let Err(limited) = state
                .limits
                .check_login_account(slug.as_str(), &found.account_key)
            {
                rate_limited();
                return Err(limited);
            }
            found.candidate
        }
        // Malformed input cannot match a user, but still costs a verification.
        _ => None,
    };
    let (hash, principal) = match candidate {
        Some(c) => (
            Some(c.password_hash),
            Some((
                Principal::new(c.org_id, c.user_id, SessionId::generate()),
                c.role,
            )),
        ),
        None => (None, None),
    };
    let verified = state.hasher.verify(password, hash).await;
    let (outcome, result) = match (verified, principal) {
        (Ok(true), Some((principal, role))) => {
            let require_verified = state.email.require_verified;
            match start_session(state, &principal, role, client, require_verified).await {
                Ok(issued) => ("success", Ok(issued)),
                Err(err) => ("error", Err(err)),
            }
        }
        (Ok(_), _) => ("invalid_credentials", Err(AppError::INVALID_CREDENTIALS)),
        (Err(err), _) => ("error", Err(err)),
    };
    METRICS
        .logins
        .get_or_create(&OutcomeLabels { outcome })
        .inc();
    result
}

/// Opens the session of a verified log-in, whose user has `role`, and issues its tokens. With
/// `require_verified`, a user whose address is not verified gets 403 `EMAIL_NOT_VERIFIED`
/// (read in the same transaction).
pub(crate) async fn start_session(
    state: &AppState,
    principal: &Principal,
    role: Role,
    client: &ClientInfo,
    require_verified: bool,
) -> Result<Issued, AppError> {
    let (refresh_token, session_expires_at) = retrying(|| async move {
        let mut tx = state.db.new_session_tx(principal, role).await?;
        if require_verified {
            let user_id = principal
                .user_id()
                .ok_or_else(|| AppError::internal("a session is a person's"))?;
            let user = users::get(&mut tx, user_id).await?;
            if user.is_none_or(|user| user.email_verified_at.is_none()) {
                return Err(AppError::EMAIL_NOT_VERIFIED);
            }
        }
        let session = sessions::open(&mut tx, state, principal, client).await?;
        tx.commit().await?;
        Ok(session)
    })
    .await?;
    Ok(Issued {
        access: state.tokens.issue(principal, role)?,
        refresh_token,
        session_expires_at,
    })
}
