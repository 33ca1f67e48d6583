//! Tokens sent by email: invitations, password resets, email verification.
//!
//! A token is a kind prefix (`inv_`, `rst_`, `vrf_`) and the base64url (no padding) text of
//! 64 bytes: the organization's id, the token's row id, and 32 random bytes (256 bits). Only
//! the SHA-256 of the random bytes is stored; the organization and the row come from the token
//! itself, so redeeming it reads one row of one organization (one shard on Citus), and the
//! hashes are compared in constant time by the database (`app.same_hash`).
//!
//! A token is never logged: its `Debug` shows the row only.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::OrgId;

const SECRET_LEN: usize = 32;
const RAW_LEN: usize = 16 + 16 + SECRET_LEN;
/// base64 of 64 bytes without padding.
const ENCODED_LEN: usize = 86;

/// What a token is for; its prefix says so, and a token of one kind never redeems another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    Invitation,
    PasswordReset,
    VerifyEmail,
}

impl TokenKind {
    pub const fn prefix(self) -> &'static str {
        match self {
            TokenKind::Invitation => "inv_",
            TokenKind::PasswordReset => "rst_",
            TokenKind::VerifyEmail => "vrf_",
        }
    }

    /// The kind as `app.user_tokens.kind` stores it (invitations have a table of their own).
    pub const fn as_str(self) -> &'static str {
        match self {
            TokenKind::Invitation => "invitation",
            TokenKind::PasswordReset => "password_reset",
            TokenKind::VerifyEmail => "verify_email",
        }
    }

    /// The longest token text of any kind (request bodies are bounded by it).
    pub const MAX_LEN: usize = 4 + ENCODED_LEN;
}

/// A new token: its text (sent by email, never stored or logged) and its stored hash.
pub struct NewToken {
    pub id: Uuid,
    pub text: String,
    pub hash: [u8; 32],
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl NewToken {
    /// A fresh token of `kind` for row `id` of organization `org`.
    pub fn generate(kind: TokenKind, org: OrgId, id: Uuid) -> Self {
        let mut secret = [0u8; SECRET_LEN];
        // The OS RNG failing is not a state the process can serve from.
        getrandom::fill(&mut secret)
            .expect("the operating system's random number generator failed");
        let mut raw = [0u8; RAW_LEN];
        raw[..16].copy_from_slice(org.as_uuid().as_bytes());
        raw[16..32].copy_from_slice(id.as_bytes());
        raw[32..].copy_from_slice(&secret);
        Self {
            id,
            text: format!("{}{}", kind.prefix(), URL_SAFE_NO_PAD.encode(raw)),
            hash: Sha256::digest(secret).into(),
        }
    }
}

/// A token as presented: its organization, row and the hash of its secret.
#[derive(Clone, PartialEq, Eq)]
pub struct PresentedToken {
    pub org_id: OrgId,
    pub id: Uuid,
    pub hash: [u8; 32],
}

impl std::fmt::Debug for PresentedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresentedToken")
            .field("org_id", &self.org_id)
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl PresentedToken {
    /// The token `text` names, when it is a well-formed token of `kind`.
    pub fn read(kind: TokenKind, text: &str) -> Option<Self> {
        let encoded = text.strip_prefix(kind.prefix())?;
        if encoded.len() != ENCODED_LEN {
            return None;
        }
        let raw = URL_SAFE_NO_PAD.decode(encoded).ok()?;
        let raw: [u8; RAW_LEN] = raw.try_into().ok()?;
        let org = Uuid::from_slice(&raw[..16]).ok()?;
        let id = Uuid::from_slice(&raw[16..32]).ok()?;
        Some(Self {
            org_id: OrgId::from_uuid(org),
            id,
            hash: Sha256::digest(&raw[32..]).into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_reads_back_to_its_organization_row_and_hash() {
        let org = OrgId::generate();
        let id = Uuid::now_v7();
        let token = NewToken::generate(TokenKind::PasswordReset, org, id);
        assert!(token.text.starts_with("rst_"));
        assert!(token.text.len() <= TokenKind::MAX_LEN);
        let read = PresentedToken::read(TokenKind::PasswordReset, &token.text).expect("reads");
        assert_eq!(read.org_id, org);
        assert_eq!(read.id, id);
        assert_eq!(read.hash, token.hash);
    }

    #[test]
    fn a_token_of_another_kind_or_altered_is_not_read() {
        let token = NewToken::generate(TokenKind::Invitation, OrgId::generate(), Uuid::now_v7());
        assert!(PresentedToken::read(TokenKind::PasswordReset, &token.text).is_none());
        assert!(
            PresentedToken::read(TokenKind::Invitation, &token.text[..token.text.len() - 1])
                .is_none()
        );
        assert!(PresentedToken::read(TokenKind::Invitation, &format!("{}=", token.text)).is_none());
        let mut altered = token.text.clone();
        altered.pop();
        altered.push(if token.text.ends_with('A') { 'B' } else { 'A' });
        let read = PresentedToken::read(TokenKind::Invitation, &altered);
        assert!(read.is_none_or(|read| read.hash != token.hash));
    }

    #[test]
    fn two_tokens_never_share_a_secret() {
        let (org, id) = (OrgId::generate(), Uuid::now_v7());
        let a = NewToken::generate(TokenKind::VerifyEmail, org, id);
        let b = NewToken::generate(TokenKind::VerifyEmail, org, id);
        assert_ne!(a.text, b.text);
        assert_ne!(a.hash, b.hash);
        assert!(!format!("{a:?}").contains(&a.text[4..20]));
    }
}
