//! Business rules and role-based access control. Each operation opens one transaction in the
//! caller's tenant context, calls repositories, and commits: the commit point is visible here.
//! No HTTP types and no SQL text.

pub(crate) mod auth;
pub(crate) mod organizations;
pub(crate) mod users;

use std::sync::Arc;

use crate::auth::jwt::TokenService;
use crate::auth::password::PasswordHasher;
use crate::db::Db;

/// What every service operation may use. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub tokens: Arc<TokenService>,
    pub hasher: PasswordHasher,
}
