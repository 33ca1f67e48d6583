//! Authentication primitives: access tokens ([`jwt`]), password hashing ([`password`]) and the
//! [`Principal`] a verified token yields. No HTTP and no SQL here.

pub mod jwt;
pub mod password;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::domain::{OrgId, Role, UserId};

/// Who is calling: the organization, user and role of a verified access token. The tenant
/// context of every transaction is built from this value only, so the org id can never come
/// from a path, query or body. Fields are private: outside this crate a `Principal` can only
/// come from [`jwt::TokenService::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    org_id: OrgId,
    user_id: UserId,
    role: Role,
}

impl Principal {
    /// Built by token verification, and by sign-up for the organization it has just created.
    pub(crate) const fn new(org_id: OrgId, user_id: UserId, role: Role) -> Self {
        Self {
            org_id,
            user_id,
            role,
        }
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
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    URL_SAFE_NO_PAD.encode(bytes)
}
