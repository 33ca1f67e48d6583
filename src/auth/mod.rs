//! Authentication primitives: access tokens ([`jwt`]), API keys ([`api_key`]), password hashing
//! ([`password`]) and the [`Principal`] a request's credentials yield. No HTTP and no SQL here.

pub mod api_key;
pub mod email_token;
pub mod jwt;
pub mod limits;
pub mod password;
pub mod refresh;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::domain::{Actor, ActorKind, ApiKeyId, OrgId, SessionId, UserId};
use crate::error::AppError;
use api_key::PresentedKey;

/// Who is calling: the organization, and either a person's session (a verified access token)
/// or an API key (checked by the database in the request's first round trip). The tenant
/// context of every transaction is built from this value only, so the org id can never come
/// from a path, query or body. Fields are private: outside this crate a `Principal` can only
/// come from [`jwt::TokenService::verify`] or [`Principal::from_api_key`], which the bearer
/// scheme calls.
///
/// It carries no role on purpose. The database decides what a caller may do: `app.enter`
/// (sessions) and `app.enter_key` (keys) read the caller's role in the same round trip as the
/// first query (`TenantTx::role`, or `TenantTx::current_role` before expensive work), RLS
/// policies and triggers enforce it, and the service's rules only turn that role into clear
/// 403s early. The token's `role` claim is information for clients, never an input to
/// authorisation.
#[derive(Clone, PartialEq, Eq)]
pub struct Principal {
    org_id: OrgId,
    caller: Caller,
}

/// The kind of caller, with what the database checks on every request.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Caller {
    /// A user's session: the session must be live and its user present (`app.enter`).
    Session {
        user_id: UserId,
        session_id: SessionId,
    },
    /// An API key: it must exist in the organization, match the hash, be neither revoked nor
    /// expired (`app.enter_key`).
    ApiKey { id: ApiKeyId, secret_hash: [u8; 32] },
}

impl std::fmt::Debug for Principal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret's hash.
        let actor = self.actor();
        f.debug_struct("Principal")
            .field("org_id", &self.org_id)
            .field("actor", &actor)
            .finish()
    }
}

/// A person acting through their session: what person-only operations need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Person {
    pub user_id: UserId,
    pub session_id: SessionId,
}

impl Principal {
    /// Built by token verification, and by sign-up and log-in for the session they create.
    pub(crate) const fn new(org_id: OrgId, user_id: UserId, session_id: SessionId) -> Self {
        Self {
            org_id,
            caller: Caller::Session {
                user_id,
                session_id,
            },
        }
    }

    /// The caller an API key claims to be, read from the key alone (its organization and id
    /// are in it). Nothing is verified yet: the first statement of each of the request's
    /// transactions checks the key in the database and fails the request with 401 otherwise.
    /// Only the bearer scheme calls it.
    pub(crate) fn from_api_key(key: PresentedKey) -> Self {
        Self {
            org_id: key.org_id,
            caller: Caller::ApiKey {
                id: key.id,
                secret_hash: key.secret_hash,
            },
        }
    }

    pub(crate) fn caller(&self) -> &Caller {
        &self.caller
    }

    pub const fn org_id(&self) -> OrgId {
        self.org_id
    }

    /// Who acts, as audit fields and events record it.
    pub fn actor(&self) -> Actor {
        match &self.caller {
            Caller::Session { user_id, .. } => Actor {
                kind: ActorKind::User,
                id: *user_id.as_uuid(),
            },
            Caller::ApiKey { id, .. } => Actor {
                kind: ActorKind::ApiKey,
                id: *id.as_uuid(),
            },
        }
    }

    /// The person calling, if a person calls (an API key is not one).
    pub fn person(&self) -> Option<Person> {
        match self.caller {
            Caller::Session {
                user_id,
                session_id,
            } => Some(Person {
                user_id,
                session_id,
            }),
            Caller::ApiKey { .. } => None,
        }
    }

    /// The calling user; `None` for an API key, which is nobody's.
    pub fn user_id(&self) -> Option<UserId> {
        self.person().map(|person| person.user_id)
    }

    /// The calling session; `None` for an API key.
    pub fn session_id(&self) -> Option<SessionId> {
        self.person().map(|person| person.session_id)
    }

    /// The API key calling, if one does.
    pub fn api_key_id(&self) -> Option<ApiKeyId> {
        match self.caller {
            Caller::ApiKey { id, .. } => Some(id),
            Caller::Session { .. } => None,
        }
    }

    /// The person, or 403 `PERSON_ONLY` for an API key. Callers authenticate the key first
    /// (`service::require_person`): a dead key is 401, as everywhere.
    pub(crate) fn require_person(&self) -> Result<Person, AppError> {
        self.person().ok_or(AppError::PERSON_ONLY)
    }
}

/// 256 bits from the operating system's CSPRNG, base64url-encoded (43 characters).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    // The OS RNG failing is not a state the process can serve from.
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    URL_SAFE_NO_PAD.encode(bytes)
}
