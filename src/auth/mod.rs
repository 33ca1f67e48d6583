//! Authentication primitives: access tokens ([`jwt`]), password hashing ([`password`]) and the
//! [`Principal`] a verified token yields. No HTTP and no SQL here.

pub mod jwt;
pub mod limits;
pub mod password;
pub mod refresh;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::domain::{OrgId, Role, SessionId, UserId};

/// Who is calling: the organization, user, session and role of a verified access token. The
/// tenant context of every transaction is built from this value only, so the org id can never
/// come from a path, query or body. Fields are private: outside this crate a `Principal` can
/// only come from [`jwt::TokenService::verify`].
///
/// The role is the token's claim, a hint for cheap early refusals; authorisation uses the role
/// the database returns when the transaction checks the session (`TenantTx::role`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    org_id: OrgId,
    user_id: UserId,
    session_id: SessionId,
    role: Role,
}

impl Principal {
    /// Built by token verification, and by sign-up and log-in for the session they create.
    pub(crate) const fn new(
        org_id: OrgId,
        user_id: UserId,
        session_id: SessionId,
        role: Role,
    ) -> Self {
        Self {
            org_id,
            user_id,
            session_id,
            role,
        }
    }

    pub const fn session_id(&self) -> SessionId {
        self.session_id
    }

    pub const fn org_id(&self) -> OrgId {
        self.org_id
    }

    pub const fn user_id(&self) -> UserId {
        self.user_id
    }

    pub const fn role(&self) -> Role {
        self.role
    }
}

/// 256 bits from the operating system's CSPRNG, base64url-encoded (43 characters).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    // The OS RNG failing is not a state the process can serve from.
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    URL_SAFE_NO_PAD.encode(bytes)
}
