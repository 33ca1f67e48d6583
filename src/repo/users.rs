//! `sql/queries/users/*.sql`.

use tokio_postgres::Row;
use uuid::Uuid;

use super::col;
use crate::db::TenantTx;
use crate::domain::{Role, User, UserId};
use crate::error::AppError;
use crate::sql;

impl TryFrom<&Row> for User {
    type Error = AppError;

    fn try_from(row: &Row) -> Result<Self, AppError> {
        let role: &str = col(row, "role")?;
        Ok(Self {
            id: UserId::from_uuid(col(row, "id")?),
            email: col(row, "email")?,
            display_name: col(row, "display_name")?,
            role: Role::parse(role)
                .ok_or_else(|| AppError::internal(format!("unknown role {role:?} in users")))?,
            version: col(row, "version")?,
            created_at: col(row, "created_at")?,
            updated_at: col(row, "updated_at")?,
            deleted_at: col(row, "deleted_at")?,
            email_verified_at: col(row, "email_verified_at")?,
        })
    }
}

/// The fields of a new user.
pub(crate) struct NewUser<'a> {
    pub id: UserId,
    pub email: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
}

/// Fields to change; `None` keeps the current value.
#[derive(Default)]
pub(crate) struct UserChanges<'a> {
    pub email: Option<&'a str>,
    pub display_name: Option<&'a str>,
    pub role: Option<Role>,
    pub password_hash: Option<&'a str>,
}

pub(crate) async fn insert(tx: &mut TenantTx, user: &NewUser<'_>) -> Result<User, AppError> {
    let org_id = *tx.org_id().as_uuid();
    let row = tx
        .query_one(
            &sql!("users/insert.sql"),
            &[
                &org_id,
                user.id.as_uuid(),
                &user.email,
                &user.display_name,
                &user.password_hash,
                &user.role.as_str(),
            ],
        )
        .await?;
    User::try_from(&row)
}

pub(crate) async fn get(tx: &mut TenantTx, id: UserId) -> Result<Option<User>, AppError> {
    let org_id = *tx.org_id().as_uuid();
    tx.query_opt(&sql!("users/get.sql"), &[&org_id, id.as_uuid()])
        .await?
        .as_ref()
        .map(User::try_from)
        .transpose()
}

/// A live user before a change of its credentials, and whether `email` (when given) is
/// another address than its own, as the database compares them (by key).
pub(crate) async fn get_for_change(
    tx: &mut TenantTx,
    id: UserId,
    email: Option<&str>,
) -> Result<Option<(User, bool)>, AppError> {
    let org_id = *tx.org_id().as_uuid();
    tx.query_opt(
        &sql!("users/get_for_change.sql"),
        &[&org_id, id.as_uuid(), &email],
    )
    .await?
    .as_ref()
    .map(|row| Ok((User::try_from(row)?, col(row, "email_changes")?)))
    .transpose()
}

/// The password hash of the transaction's own user (the caller), for re-authentication.
pub(crate) async fn own_password_hash(tx: &mut TenantTx) -> Result<Option<String>, AppError> {
    let org_id = *tx.org_id().as_uuid();
    let user_id = *tx
        .user_id()
        .ok_or_else(|| AppError::internal("only a person has a password"))?
        .as_uuid();
    tx.query_opt(&sql!("users/password_hash.sql"), &[&org_id, &user_id])
        .await?
        .as_ref()
        .map(|row| col(row, "password_hash"))
        .transpose()
}

pub(crate) async fn get_any(tx: &mut TenantTx, id: UserId) -> Result<Option<User>, AppError> {
    let org_id = *tx.org_id().as_uuid();
    tx.query_opt(&sql!("users/get_any.sql"), &[&org_id, id.as_uuid()])
        .await?
        .as_ref()
        .map(User::try_from)
        .transpose()
}

pub(crate) async fn list(
    tx: &mut TenantTx,
    after: Option<Uuid>,
    limit: i64,
    include_deleted: bool,
) -> Result<Vec<User>, AppError> {
    let org_id = *tx.org_id().as_uuid();
    tx.query(
        &sql!("users/list.sql"),
        &[&org_id, &after, &limit, &include_deleted],
    )
    .await?
    .iter()
    .map(User::try_from)
    .collect()
}

/// Updates a live user whose version is `expected` (any version when None).
pub(crate) async fn update(
    tx: &mut TenantTx,
    id: UserId,
    changes: &UserChanges<'_>,
    expected: Option<i64>,
) -> Result<Option<User>, AppError> {
    let org_id = *tx.org_id().as_uuid();
    let role = changes.role.map(Role::as_str);
    tx.query_opt(
        &sql!("users/update.sql"),
        &[
            &org_id,
            id.as_uuid(),
            &changes.email,
            &changes.display_name,
            &role,
            &changes.password_hash,
            &expected,
        ],
    )
    .await?
    .as_ref()
    .map(User::try_from)
    .transpose()
}

/// Soft-deletes a live user whose version is `expected` (any when None); false when none.
pub(crate) async fn delete(
    tx: &mut TenantTx,
    id: UserId,
    expected: Option<i64>,
) -> Result<Option<User>, AppError> {
    let org_id = *tx.org_id().as_uuid();
    tx.query_opt(
        &sql!("users/delete.sql"),
        &[&org_id, id.as_uuid(), &expected],
    )
    .await?
    .as_ref()
    .map(User::try_from)
    .transpose()
}

pub(crate) async fn restore(tx: &mut TenantTx, id: UserId) -> Result<Option<User>, AppError> {
    let org_id = *tx.org_id().as_uuid();
    tx.query_opt(&sql!("users/restore.sql"), &[&org_id, id.as_uuid()])
        .await?
        .as_ref()
        .map(User::try_from)
        .transpose()
}

/// Sets a live user's password hash; returns their email and display name.
pub(crate) async fn set_password(
    tx: &mut TenantTx,
    id: UserId,
    password_hash: &str,
) -> Result<Option<(String, String)>, AppError> {
    let org_id = *tx.org_id().as_uuid();
    tx.query_opt(
        &sql!("users/set_password.sql"),
        &[&org_id, id.as_uuid(), &password_hash],
    )
    .await?
    .as_ref()
    .map(|row| Ok((col(row, "email")?, col(row, "display_name")?)))
    .transpose()
}

/// Adds a user whose address is verified (an accepted invitation).
pub(crate) async fn insert_verified(
    tx: &mut TenantTx,
    user: &NewUser<'_>,
) -> Result<User, AppError> {
    let org_id = *tx.org_id().as_uuid();
    let row = tx
        .query_one(
            &sql!("users/insert_verified.sql"),
            &[
                &org_id,
                user.id.as_uuid(),
                &user.email,
                &user.display_name,
                &user.password_hash,
                &user.role.as_str(),
            ],
        )
        .await?;
    User::try_from(&row)
}

/// Marks user `id`'s address `email` verified and makes it theirs.
pub(crate) async fn verify_email(
    tx: &mut TenantTx,
    id: UserId,
    email: &str,
) -> Result<Option<User>, AppError> {
    let org_id = *tx.org_id().as_uuid();
    tx.query_opt(
        &sql!("users/verify_email.sql"),
        &[&org_id, id.as_uuid(), &email],
    )
    .await?
    .as_ref()
    .map(User::try_from)
    .transpose()
}

/// What changing user `id`'s address to `email` would do: (the address's key, whether it
/// differs from the user's, whether another live user has it).
pub(crate) async fn email_change(
    tx: &mut TenantTx,
    id: UserId,
    email: &str,
) -> Result<(String, bool, bool), AppError> {
    let org_id = *tx.org_id().as_uuid();
    let row = tx
        .query_one(
            &sql!("users/email_change.sql"),
            &[&org_id, id.as_uuid(), &email],
        )
        .await?;
    Ok((
        col(&row, "key")?,
        col(&row, "changes")?,
        col(&row, "taken")?,
    ))
}
