//! Opaque refresh tokens: `base64url(org_id || session_id || 32 random bytes)`.
//!
//! The ids route the token to its session (and, on Citus, to its shard) without any global
//! index; the 256 random bits are the secret, and only their SHA-256 is stored.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::{OrgId, SessionId};

const SECRET_LEN: usize = 32;
const TOKEN_BYTES: usize = 16 + 16 + SECRET_LEN;
/// Length of an encoded token (64 bytes in unpadded base64url).
pub const TOKEN_LEN: usize = 86;

/// A refresh token, parsed.
pub struct RefreshToken {
    pub org_id: OrgId,
    pub session_id: SessionId,
    secret: [u8; SECRET_LEN],
}

impl std::fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshToken")
            .field("org_id", &self.org_id)
            .field("session_id", &self.session_id)
            .finish_non_exhaustive()
    }
}

impl RefreshToken {
    /// A new token for a session, with fresh random bits.
    pub fn generate(org_id: OrgId, session_id: SessionId) -> Self {
        let mut secret = [0u8; SECRET_LEN];
        // The OS RNG failing is not a state the process can serve from.
        getrandom::fill(&mut secret)
            .expect("the operating system's random number generator failed");
        Self {
            org_id,
            session_id,
            secret,
        }
    }

    /// `None` for anything that is not a token of this shape.
    pub fn parse(value: &str) -> Option<Self> {
        if value.len() != TOKEN_LEN {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(value).ok()?;
        if bytes.len() != TOKEN_BYTES {
            return None;
        }
        let org_id = Uuid::from_slice(&bytes[..16]).ok()?;
        let session_id = Uuid::from_slice(&bytes[16..32]).ok()?;
        let secret = bytes[32..].try_into().ok()?;
        Some(Self {
            org_id: OrgId::from_uuid(org_id),
            session_id: SessionId::from_uuid(session_id),
            secret,
        })
    }

    /// The text handed to the client.
    pub fn encode(&self) -> String {
        let mut bytes = Vec::with_capacity(TOKEN_BYTES);
        bytes.extend_from_slice(self.org_id.as_uuid().as_bytes());
        bytes.extend_from_slice(self.session_id.as_uuid().as_bytes());
        bytes.extend_from_slice(&self.secret);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// What the database stores: SHA-256 of the secret part.
    pub fn hash(&self) -> Vec<u8> {
        Sha256::digest(self.secret).to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_round_trips_and_hashes_its_secret_only() {
        let token = RefreshToken::generate(OrgId::generate(), SessionId::generate());
        let text = token.encode();
        assert_eq!(text.len(), TOKEN_LEN);
        let parsed = RefreshToken::parse(&text).expect("parses");
        assert_eq!(parsed.org_id, token.org_id);
        assert_eq!(parsed.session_id, token.session_id);
        assert_eq!(parsed.hash(), token.hash());
        assert_eq!(token.hash().len(), 32);
        let other = RefreshToken::generate(token.org_id, token.session_id);
        assert_ne!(other.hash(), token.hash(), "fresh random bits each time");
    }

    #[test]
    fn malformed_tokens_are_rejected() {
        for bad in [
            "",
            "abc",
            &"A".repeat(TOKEN_LEN - 1),
            &"!".repeat(TOKEN_LEN),
            &"A".repeat(4096),
        ] {
            assert!(RefreshToken::parse(bad).is_none(), "{bad:.10}");
        }
    }
}
