//! Opaque refresh tokens: `base64url(org_id || session_id || 32 random bytes)`.
//!
//! The ids route the token to its session (and, on Citus, to its shard) without any global
//! index; the 256 secret bits are the secret, and only their SHA-256 is stored.
//!
//! A log-in's first token has random bits. Each refresh hands out the presented token's
//! [`RefreshToken::successor`], derived from it with a server-side key: presenting the same
//! token again within the grace window yields the same successor, so concurrent refreshes
//! (several tabs) all end up with one valid token, and the database keeps only one.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::{OrgId, SessionId};

const SECRET_LEN: usize = 32;
const TOKEN_BYTES: usize = 16 + 16 + SECRET_LEN;
/// Length of an encoded token (64 bytes in unpadded base64url).
pub const TOKEN_LEN: usize = 86;

/// The key that derives successors: HKDF-SHA256 of the JWT signing secret, domain-separated,
/// so it is neither the signing key nor any other key derived from that secret.
#[derive(Clone)]
pub struct SuccessorKey(Hmac<Sha256>);

impl std::fmt::Debug for SuccessorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SuccessorKey(..)")
    }
}

impl SuccessorKey {
    pub fn derive(secret: &SecretString) -> Self {
        // One SHA-256 block: HMAC uses such a key as it is.
        let mut key = [0u8; 64];
        Hkdf::<Sha256>::new(None, secret.expose_secret().as_bytes())
            .expand(b"tenantry refresh-token successor v1", &mut key)
            .expect("64 bytes is within HKDF-SHA256's output limit of 8160");
        Self(Hmac::new(&key.into()))
    }
}

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

    /// The token that replaces this one on refresh: same session, secret
    /// HMAC-SHA256(key, org id || session id || this secret). Deterministic, so a repeated
    /// presentation gets the same successor; unpredictable without the key and this token's
    /// secret, which the database never sees (it stores hashes).
    pub fn successor(&self, key: &SuccessorKey) -> Self {
        let mut mac = key.0.clone();
        mac.update(self.org_id.as_uuid().as_bytes());
        mac.update(self.session_id.as_uuid().as_bytes());
        mac.update(&self.secret);
        Self {
            org_id: self.org_id,
            session_id: self.session_id,
            secret: mac.finalize().into_bytes().into(),
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
    fn a_successor_is_the_same_for_the_same_token_and_key_only() {
        let key = SuccessorKey::derive(&SecretString::from("k".repeat(32)));
        let token = RefreshToken::generate(OrgId::generate(), SessionId::generate());
        let next = token.successor(&key);
        assert_eq!(
            next.encode(),
            token.successor(&key).encode(),
            "deterministic"
        );
        assert_eq!(
            (next.org_id, next.session_id),
            (token.org_id, token.session_id)
        );
        assert_ne!(next.hash(), token.hash());
        assert_ne!(
            next.successor(&key).hash(),
            next.hash(),
            "a chain, not a cycle"
        );
        let other_key = SuccessorKey::derive(&SecretString::from("o".repeat(32)));
        assert_ne!(token.successor(&other_key).hash(), next.hash(), "keyed");
        let sibling = RefreshToken::generate(token.org_id, token.session_id);
        assert_ne!(sibling.successor(&key).hash(), next.hash(), "per token");
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
