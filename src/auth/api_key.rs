//! API keys' text: `tnt_` + key id + organization id + 256 random bits + checksum, in base62.
//!
//! ```text
//! tnt_ 0mLpKq3Vx9bR2cDfGhJkLm 0mLpKq3Vx9bR2cDfGhJkLm 0aB...(44) 3kF9aZ
//!      key id (22)            organization id (22)    secret (44) CRC32 (6)
//! ```
//!
//! * The fixed prefix and the CRC32 checksum (of everything before it, base62, as GitHub's
//!   tokens do) let secret scanners recognise a key and reject a look-alike without asking us.
//! * The ids route the key: the organization comes from the key itself (never from the
//!   request), and the look-up by (organization, key id) is one shard on Citus.
//! * The secret is 32 random bytes from the operating system; only its SHA-256 is stored.
//! * Base62 (letters and digits only) survives double-click selection, URLs and shells; every
//!   part has a fixed width, so a key is always [`KEY_LEN`] characters.
//!
//! [`PresentedKey::read`] never fails: a malformed, truncated or wrong-checksum key becomes a
//! key that names no organization and no key (nil ids) with the hash of an all-zero secret, so
//! that it goes through exactly the same work as a well-formed key with a wrong secret (the
//! same hashing, the same database look-up and comparison) and fails there, with the same
//! answer.

use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::{ApiKeyId, OrgId};

/// What every key starts with.
pub const PREFIX: &str = "tnt_";
/// Characters of one 128-bit part (62^22 > 2^128 > 62^21).
const PART: usize = 22;
/// Characters of the checksum (62^6 > 2^32).
const CHECKSUM: usize = 6;
const SECRET_LEN: usize = 32;
/// The length of every key.
pub const KEY_LEN: usize = PREFIX.len() + 4 * PART + CHECKSUM;
/// The key's public handle, shown in lists: the prefix and the key id (not secret).
pub const HANDLE_LEN: usize = PREFIX.len() + PART;

/// Whether a bearer token is meant as an API key (else it is an access token).
pub fn looks_like_a_key(token: &str) -> bool {
    token.starts_with(PREFIX)
}

/// A new key: its text (shown once), and what the database stores of it.
pub struct NewKey {
    pub id: ApiKeyId,
    /// The whole key, for the client only: never logged, never stored.
    pub text: String,
    /// SHA-256 of the secret part.
    pub secret_hash: [u8; 32],
}

impl std::fmt::Debug for NewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl NewKey {
    /// A fresh key of organization `org`.
    pub fn generate(org: OrgId) -> Self {
        let id = ApiKeyId::generate();
        let mut secret = [0u8; SECRET_LEN];
        // The OS RNG failing is not a state the process can serve from.
        getrandom::fill(&mut secret)
            .expect("the operating system's random number generator failed");
        let text = encode(id, org, &secret);
        Self {
            id,
            text,
            secret_hash: Sha256::digest(secret).into(),
        }
    }
}

/// A key as presented in a request, read without any look-up.
#[derive(Clone, PartialEq, Eq)]
pub struct PresentedKey {
    pub org_id: OrgId,
    pub id: ApiKeyId,
    pub secret_hash: [u8; 32],
}

impl std::fmt::Debug for PresentedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresentedKey")
            .field("org_id", &self.org_id)
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl PresentedKey {
    /// The key `text` names; for anything that is not a well-formed key, a key that matches
    /// no stored key (see the module docs), reached with the same work.
    pub fn read(text: &str) -> Self {
        let (org_id, id, secret) = decode(text).unwrap_or((
            OrgId::from_uuid(Uuid::nil()),
            ApiKeyId::from_uuid(Uuid::nil()),
            [0u8; SECRET_LEN],
        ));
        Self {
            org_id,
            id,
            secret_hash: Sha256::digest(secret).into(),
        }
    }
}

/// The public handle of key `id`: what lists show to tell keys apart, and what a key starts
/// with (a secret scanner's finding can be matched to it).
pub fn handle(id: ApiKeyId) -> String {
    format!("{PREFIX}{}", part(id.as_uuid().as_u128()))
}

fn part(value: u128) -> String {
    format!("{:0>PART$}", base62::encode_fmt(value))
}

/// `body` (everything a key has before its checksum) followed by its checksum: the one way a
/// key's text is completed (tests also use it to forge well-formed keys).
pub fn with_checksum(body: &str) -> String {
    format!("{body}{}", checksum(body))
}

fn checksum(body: &str) -> String {
    format!(
        "{:0>CHECKSUM$}",
        base62::encode_fmt(crc32fast::hash(body.as_bytes()))
    )
}

fn encode(id: ApiKeyId, org: OrgId, secret: &[u8; SECRET_LEN]) -> String {
    let (high, low) = secret.split_at(16);
    let mut text = String::with_capacity(KEY_LEN);
    text.push_str(PREFIX);
    text.push_str(&part(id.as_uuid().as_u128()));
    text.push_str(&part(org.as_uuid().as_u128()));
    for half in [high, low] {
        let bytes: [u8; 16] = half.try_into().unwrap_or_default();
        text.push_str(&part(u128::from_be_bytes(bytes)));
    }
    with_checksum(&text)
}

/// The key's parts, when `text` is a well-formed key with a matching checksum.
fn decode(text: &str) -> Option<(OrgId, ApiKeyId, [u8; SECRET_LEN])> {
    if text.len() != KEY_LEN || !text.starts_with(PREFIX) {
        return None;
    }
    let body = &text[PREFIX.len()..];
    if !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let (signed, sum) = text.split_at(KEY_LEN - CHECKSUM);
    if checksum(signed) != sum {
        return None;
    }
    let value = |n: usize| base62::decode(&body[n * PART..(n + 1) * PART]).ok();
    let (id, org, high, low) = (value(0)?, value(1)?, value(2)?, value(3)?);
    let mut secret = [0u8; SECRET_LEN];
    secret[..16].copy_from_slice(&high.to_be_bytes());
    secret[16..].copy_from_slice(&low.to_be_bytes());
    Some((
        OrgId::from_uuid(Uuid::from_u128(org)),
        ApiKeyId::from_uuid(Uuid::from_u128(id)),
        secret,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nil() -> (OrgId, ApiKeyId) {
        (
            OrgId::from_uuid(Uuid::nil()),
            ApiKeyId::from_uuid(Uuid::nil()),
        )
    }

    #[test]
    fn a_key_reads_back_to_its_organization_id_and_secret_hash() {
        let org = OrgId::generate();
        let key = NewKey::generate(org);

        let read = PresentedKey::read(&key.text);

        assert_eq!(key.text.len(), KEY_LEN);
        assert!(key.text.starts_with(&handle(key.id)), "{}", key.text);
        assert!(
            key.text[PREFIX.len()..]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric())
        );
        assert_eq!((read.org_id, read.id), (org, key.id));
        assert_eq!(read.secret_hash, key.secret_hash);
        assert_ne!(
            NewKey::generate(org).secret_hash,
            key.secret_hash,
            "fresh random bits each time"
        );
    }

    #[test]
    fn malformed_truncated_or_tampered_keys_name_no_key() {
        let key = NewKey::generate(OrgId::generate()).text;
        let mut flipped = key.clone().into_bytes();
        // A character of the secret changed: the checksum no longer matches.
        let at = PREFIX.len() + 2 * PART + 5;
        flipped[at] = if flipped[at] == b'a' { b'b' } else { b'a' };
        let flipped = String::from_utf8(flipped).expect("ascii");
        let wrong_sum = format!("{}000000", &key[..KEY_LEN - CHECKSUM]);
        let cases = [
            ("empty", String::new()),
            ("the prefix alone", PREFIX.to_owned()),
            ("truncated", key[..KEY_LEN - 1].to_owned()),
            ("one character more", format!("{key}0")),
            ("tampered", flipped),
            ("wrong checksum", wrong_sum),
            ("another prefix", format!("xyz_{}", &key[PREFIX.len()..])),
            ("not base62", format!("{}-{}", &key[..10], &key[11..])),
            ("a part beyond 128 bits", {
                with_checksum(&format!("{PREFIX}{}", "z".repeat(4 * PART)))
            }),
        ];
        let zero_hash: [u8; 32] = Sha256::digest([0u8; SECRET_LEN]).into();
        for (case, text) in cases {
            let read = PresentedKey::read(&text);
            assert_eq!((read.org_id, read.id), nil(), "{case}");
            assert_eq!(read.secret_hash, zero_hash, "{case}");
        }
    }

    #[test]
    fn the_checksum_is_crc32_of_everything_before_it() {
        let key = NewKey::generate(OrgId::generate()).text;
        let (body, sum) = key.split_at(KEY_LEN - CHECKSUM);
        let crc = base62::decode(sum).expect("base62");
        assert_eq!(crc, u128::from(crc32fast::hash(body.as_bytes())));
    }
}
