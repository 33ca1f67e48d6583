//! Users of the caller's organization, and the rules for managing them:
//! - any member reads the organization's users;
//! - owners and admins create, edit and delete users; only owners create, edit, promote to
//!   or delete owners;
//! - everyone edits their own email, display name and password, but not their own role, and
//!   changing one's own password or email needs the current password (re-authentication);
//! - the last owner can be neither demoted nor deleted: the database settles it (trigger
//!   `app.keep_an_owner`, serialised per organization), and its refusal is 409 `LAST_OWNER`.
//!
//! The same rules hold in the database (RLS policies and triggers of migration V6), so a bug
//! here cannot grant more than the role allows.

use super::events;
use super::idempotency::{self, Idempotency};
use super::{
    AppState, MAX_PAGE_SIZE, Precondition, authorized, decode_cursor, outbox, paginate, recovery,
    retrying,
};
use secrecy::{ExposeSecret, SecretString};

use crate::auth::Principal;
use crate::domain::{
    ApiKey, DisplayName, Email, EmailKind, EventType, Password, Position, Role, User, UserId,
};
use crate::error::AppError;
use crate::repo::users::{self, NewUser, UserChanges};
use crate::repo::{api_keys, sessions};

pub(crate) struct CreateUser {
    pub email: Email,
    pub display_name: DisplayName,
    pub password: Password,
    pub role: Role,
}

#[derive(Default)]
pub(crate) struct UpdateUser {
    pub email: Option<Email>,
    pub display_name: Option<DisplayName>,
    pub role: Option<Role>,
    pub password: Option<Password>,
    /// The caller's current password: proof needed to change one's own password or email.
    pub current_password: Option<SecretString>,
}

/// Who is calling: a person's user, or an API key.
pub(crate) enum Me {
    User(User),
    ApiKey(ApiKey),
}

/// The caller as stored now: the user of a session (a token whose user was deleted no longer
/// identifies anyone), or the calling API key. One statement either way, after the context.
pub(crate) async fn me(state: &AppState, principal: &Principal) -> Result<Me, AppError> {
    let mut tx = state.db.tenant_tx(principal).await?;
    tx.commit_with_next_statement();
    let me = match (principal.user_id(), principal.api_key_id()) {
        (Some(user), _) => users::get(&mut tx, user).await?.map(Me::User),
        (None, Some(key)) => api_keys::get(&mut tx, key).await?.map(Me::ApiKey),
        (None, None) => None,
    };
    tx.commit().await?;
    me.ok_or(AppError::Unauthenticated {
        code: "TOKEN_INVALID",
        message: "the access token's user no longer exists",
    })
}

pub(crate) async fn get(
    state: &AppState,
    principal: &Principal,
    id: UserId,
) -> Result<User, AppError> {
    let mut tx = state.db.tenant_tx(principal).await?;
    tx.commit_with_next_statement();
    let user = users::get(&mut tx, id).await?;
    tx.commit().await?;
    user.ok_or(AppError::NotFound)
}

/// One page of users (live ones, or all when `include_deleted`, which only owners and admins
/// may ask for) and the next page's cursor.
pub(crate) async fn list(
    state: &AppState,
    principal: &Principal,
    cursor: Option<&str>,
    limit: u32,
    include_deleted: bool,
) -> Result<(Vec<User>, Option<String>), AppError> {
    let limit = limit.clamp(1, MAX_PAGE_SIZE);
    let list = if include_deleted {
        "users:all"
    } else {
        "users"
    };
    let after = decode_cursor(state, principal.org_id(), list, cursor)?;
    let mut tx = state.db.tenant_tx(principal).await?;
    tx.commit_with_next_statement();
    let rows = users::list(
        &mut tx,
        after.map(|p| p.id),
        i64::from(limit) + 1,
        include_deleted,
    )
    .await?;
    if include_deleted && !tx.role()?.manages_users() {
        return Err(AppError::forbidden(
            "only owners and admins list removed users",
        ));
    }
    tx.commit().await?;
    Ok(paginate(
        state,
        principal.org_id(),
        list,
        rows,
        limit,
        |u| Position {
            id: *u.id.as_uuid(),
            key: None,
        },
    ))
}

/// Adds a user; with an idempotency key, a repeated request gets the user the first one
/// created.
pub(crate) async fn create(
    state: &AppState,
    principal: &Principal,
    input: CreateUser,
    idem: Option<Idempotency>,
) -> Result<User, AppError> {
    let authorize = |role: Role| authorize_create(role, input.role);
    // Refused before the hash (and before any idempotency look-up): the caller's role as the
    // database has it now, in one round trip that holds no connection during the hash.
    authorize(state.db.tenant_tx(principal).await?.current_role().await?)?;
    let password_hash = state.hasher.hash(input.password.secret()).await?;
    let new_user = NewUser {
        id: UserId::generate(),
        email: input.email.as_str(),
        display_name: input.display_name.as_str(),
        password_hash: &password_hash,
        role: input.role,
    };
    let (new_user, idem, authorize) = (&new_user, &idem, &authorize);
    retrying(|| async move {
        // The role is judged again in this transaction: it may have changed since.
        let mut tx = state.db.tenant_tx(principal).await?;
        if let Some(user) = idempotency::replay(&mut tx, idem.as_ref(), authorize).await? {
            tx.commit().await?;
            return Ok(user);
        }
        // No existence check first: uq_users_org_id_email settles duplicates (409), races
        // included. The caller's role comes back with the insert (same round trip); an
        // unauthorised insert is rolled back when `tx` drops.
        let inserted = users::insert(&mut tx, new_user).await;
        let user = authorized(&tx, inserted, authorize)?;
        if let Some(idem) = idem {
            idempotency::finish(&mut tx, idem, &user).await?;
        }
        events::record(&mut tx, EventType::UserCreated, &user);
        tx.commit().await?;
        Ok(user)
    })
    .await
}

pub(crate) async fn update(
    state: &AppState,
    principal: &Principal,
    id: UserId,
    input: UpdateUser,
    precondition: Option<Precondition>,
) -> Result<User, AppError> {
    let password_hash = prepare_credentials(state, principal, id, &input).await?;
    let changes = UserChanges {
        email: input.email.as_ref().map(Email::as_str),
        display_name: input.display_name.as_ref().map(DisplayName::as_str),
        role: input.role,
        password_hash: password_hash.as_deref(),
    };
    let (input, changes) = (&input, &changes);
    let (user, pending) = retrying(|| async move {
        let mut tx = state.db.tenant_tx(principal).await?;
        // Another organization's id is simply not found: RLS hides the row.
        let target = users::get(&mut tx, id).await?.ok_or(AppError::NotFound)?;
        authorize_update(tx.role()?, principal.user_id(), &target, input)?;
        Precondition::check(precondition, target.version)?;
        // A new address becomes the user's only once verified: until then the old one stays,
        // and is told of the change.
        let mut changes = UserChanges {
            email: changes.email,
            display_name: changes.display_name,
            role: changes.role,
            password_hash: changes.password_hash,
        };
        let mut pending = None;
        if let Some(email) = changes.email {
            let (key, differs, taken) = users::email_change(&mut tx, id, email).await?;
            if taken {
                return Err(AppError::Conflict {
                    code: "EMAIL_ALREADY_EXISTS",
                    message: "a user with this email already exists in this organization",
                });
            }
            if differs {
                changes.email = None;
                pending = Some(key);
            }
        }
        // Compare-and-set: a concurrent change since the read above also fails the precondition.
        let user = users::update(&mut tx, id, &changes, Precondition::expected(precondition))
            .await?
            .ok_or(if precondition.is_some() {
                AppError::PreconditionFailed
            } else {
                AppError::NotFound
            })?;
        if changes.password_hash.is_some() {
            // A new password ends the user's other sessions (all of them when an admin set it).
            let keep = principal
                .person()
                .filter(|person| person.user_id == target.id)
                .map(|person| person.session_id);
            let ended = sessions::revoke_all(&mut tx, target.id, keep).await?;
            super::sessions::record_revoked(&mut tx, &ended);
        }
        // A change of role is its own event: a consumer watching roles need not diff users.
        // A change of role and other fields in one request is both.
        if user.role != target.role {
            events::record(&mut tx, EventType::UserRoleChanged, &user);
        }
        let others = changes.email.is_some()
            || changes.display_name.is_some()
            || changes.password_hash.is_some();
        if others || user.role == target.role {
            events::record(&mut tx, EventType::UserUpdated, &user);
        }
        if let Some(new_email) = &pending {
            recovery::queue_verification(state, &mut tx, &user, new_email).await?;
            outbox::queue(
                &mut tx,
                EmailKind::EmailChanged,
                &user.email,
                serde_json::json!({
                    "display_name": user.display_name,
                    "new_email": new_email,
                }),
            )
            .await?;
        }
        tx.commit().await?;
        Ok((user, pending.is_some()))
    })
    .await?;
    if pending {
        outbox::queued(state, &[EmailKind::VerifyEmail, EmailKind::EmailChanged]);
    }
    Ok(user)
}

/// The work an update needs before its transaction, done outside it (no connection is held
/// during argon2), and only once the caller is known to be allowed: a change that sets a
/// password or the caller's own email is first authorized with the caller's role and the
/// target as the database has them (one round trip); a change of one's own password or email
/// then needs the current password; last, the new password is hashed.
async fn prepare_credentials(
    state: &AppState,
    principal: &Principal,
    id: UserId,
    input: &UpdateUser,
) -> Result<Option<String>, AppError> {
    let is_self = Some(id) == principal.user_id();
    if input.password.is_none() && !(is_self && input.email.is_some()) {
        return Ok(None);
    }
    let mut tx = state.db.tenant_tx(principal).await?;
    tx.commit_with_next_statement();
    let email = input.email.as_ref().map(Email::as_str);
    let (target, new_email) = users::get_for_change(&mut tx, id, email)
        .await?
        .ok_or(AppError::NotFound)?;
    authorize_update(tx.role()?, principal.user_id(), &target, input)?;
    tx.commit().await?;
    if is_self && (input.password.is_some() || new_email) {
        reauthenticate(state, principal, input.current_password.as_ref()).await?;
    }
    match &input.password {
        Some(password) => Ok(Some(state.hasher.hash(password.secret()).await?)),
        None => Ok(None),
    }
}

/// A user changing their own credentials proves they know the current password, so a stolen
/// access token alone cannot take the account over for good. Limited per user like log-in.
async fn reauthenticate(
    state: &AppState,
    principal: &Principal,
    current: Option<&SecretString>,
) -> Result<(), AppError> {
    let current = current.ok_or(AppError::REAUTHENTICATION_REQUIRED)?;
    let person = principal.require_person()?;
    state
        .limits
        .check_reauthentication(principal.org_id(), person.user_id)?;
    let mut tx = state.db.tenant_tx(principal).await?;
    tx.commit_with_next_statement();
    let hash = users::own_password_hash(&mut tx).await?;
    tx.commit().await?;
    if state.hasher.verify(current.expose_secret(), hash).await? {
        Ok(())
    } else {
        Err(AppError::INVALID_CURRENT_PASSWORD)
    }
}

fn authorize_create(role: Role, new_role: Role) -> Result<(), AppError> {
    if !role.manages_users() {
        return Err(AppError::forbidden("only owners and admins can add users"));
    }
    if new_role == Role::Owner && role != Role::Owner {
        return Err(AppError::forbidden("only owners can add owners"));
    }
    Ok(())
}

/// `role` is the caller's role as the database has it now; `caller` the calling person's id
/// (`None` for an API key, which is no user).
fn authorize_update(
    role: Role,
    caller: Option<UserId>,
    target: &User,
    input: &UpdateUser,
) -> Result<(), AppError> {
    let is_self = Some(target.id) == caller;
    if is_self {
        if input.role.is_some_and(|r| r != target.role) {
            return Err(AppError::forbidden("you cannot change your own role"));
        }
        return Ok(());
    }
    if !role.manages_users() {
        return Err(AppError::forbidden(
            "only owners and admins can edit other users",
        ));
    }
    let touches_owner = target.role == Role::Owner || input.role == Some(Role::Owner);
    if touches_owner && role != Role::Owner {
        return Err(AppError::forbidden(
            "only owners can edit owners or grant the owner role",
        ));
    }
    Ok(())
}

pub(crate) async fn delete(
    state: &AppState,
    principal: &Principal,
    id: UserId,
    precondition: Option<Precondition>,
) -> Result<(), AppError> {
    retrying(|| async move {
        let mut tx = state.db.tenant_tx(principal).await?;
        let target = users::get(&mut tx, id).await?;
        let role = tx.role()?;
        if !role.manages_users() {
            return Err(AppError::forbidden(
                "only owners and admins can remove users",
            ));
        }
        let target = target.ok_or(AppError::NotFound)?;
        if Some(target.id) == principal.user_id() {
            return Err(AppError::forbidden(
                "you cannot remove yourself; ask another owner or admin",
            ));
        }
        if target.role == Role::Owner && role != Role::Owner {
            return Err(AppError::forbidden("only owners can remove owners"));
        }
        Precondition::check(precondition, target.version)?;
        let removed = users::delete(&mut tx, id, Precondition::expected(precondition))
            .await?
            .ok_or(if precondition.is_some() {
                AppError::PreconditionFailed
            } else {
                AppError::NotFound
            })?;
        // A removed user's sessions end at once (they would fail the session check anyway).
        let ended = sessions::revoke_all(&mut tx, id, None).await?;
        events::record(&mut tx, EventType::UserDeleted, &removed);
        super::sessions::record_revoked(&mut tx, &ended);
        tx.commit().await
    })
    .await
}

/// Restores a removed user (owners and admins; only owners restore owners); a live one is
/// returned as it is. 409 `EMAIL_ALREADY_EXISTS` when a live user took the email meanwhile.
pub(crate) async fn restore(
    state: &AppState,
    principal: &Principal,
    id: UserId,
) -> Result<User, AppError> {
    retrying(|| async move {
        let mut tx = state.db.tenant_tx(principal).await?;
        let target = users::get_any(&mut tx, id).await?;
        let role = tx.role()?;
        if !role.manages_users() {
            return Err(AppError::forbidden("only owners and admins restore users"));
        }
        let target = target.ok_or(AppError::NotFound)?;
        if target.role == Role::Owner && role != Role::Owner {
            return Err(AppError::forbidden("only owners can restore owners"));
        }
        if target.deleted_at.is_none() {
            // Restoring a live user changes nothing: restore is idempotent.
            tx.commit().await?;
            return Ok(target);
        }
        let user = users::restore(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound)?;
        events::record(&mut tx, EventType::UserRestored, &user);
        tx.commit().await?;
        Ok(user)
    })
    .await
}
