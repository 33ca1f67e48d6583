//! Authentication primitives: access tokens ([`jwt`]), password hashing ([`password`]) and the
//! [`Principal`] a verified token yields. No HTTP and no SQL here.

pub mod jwt;
pub mod limits;
pub mod password;
pub mod refresh;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::domain::{OrgId, SessionId, UserId};

/// Who is calling: the organization, user and session of a verified access token. The tenant
/// context of every transaction is built from this value only, so the org id can never come
/// from a path, query or body. Fields are private: outside this crate a `Principal` can only
/// come from [`jwt::TokenService::verify`].
///
/// It carries no role on purpose. The database decides what a caller may do: `app.enter`
/// reads the caller's role from the users table in the same round trip as the first query
/// (`TenantTx::role`, or `TenantTx::current_role` before expensive work), RLS policies and
/// triggers enforce it, and the service's rules only turn that role into clear 403s early.
/// The token's `role` claim is information for clients, never an input to authorisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    org_id: OrgId,
    user_id: UserId,
    session_id: SessionId,
}

impl Principal {
    /// Built by token verification, and by sign-up and log-in for the session they create.
    pub(crate) const fn new(org_id: OrgId, user_id: UserId, session_id: SessionId) -> Self {
        Self {
            org_id,
            user_id,
            session_id,
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
}

/// 256 bits from the operating system's CSPRNG, base64url-encoded (43 characters).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    // The OS RNG failing is not a state the process can serve from.
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    URL_SAFE_NO_PAD.encode(bytes)
}
