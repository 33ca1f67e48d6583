//! Opaque, tamper-evident keyset-pagination cursors.
//!
//! A cursor holds the position after which the next page starts (the last row's id, and its
//! sort key when the list is not sorted by id) and an HMAC-SHA256 tag over that position, the
//! organization and the list (resource, sort and filters' identity). A cursor forged, altered,
//! copied from another organization or from a list sorted differently fails verification
//! (400 `INVALID_CURSOR`) instead of silently positioning a scan.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use uuid::Uuid;

use super::OrgId;
use super::text::{SpecText, TextSpec};

const TAG_LEN: usize = 16;
/// The longest sort key a cursor carries: the database's bound on a project's `name_key`
/// (`ck_projects_name_key`).
pub const MAX_KEY_BYTES: usize = 1024;
/// Cursors longer than this are not ours: an id, the longest key and the tag, in base64url.
pub const MAX_CURSOR_LEN: usize = (16 + MAX_KEY_BYTES + TAG_LEN).div_ceil(3) * 4;
/// The shortest cursor: an id and a tag, base64url-encoded without padding.
pub const MIN_CURSOR_LEN: usize = (16 + TAG_LEN) * 4 / 3 + 1;
/// The spec's pattern for cursors: the unpadded base64url alphabet.
pub const CURSOR_PATTERN: &str = "^[A-Za-z0-9_-]+$";

/// A cursor's syntax, as the spec states it: what [`CursorKey::decode`] reads at all.
pub struct Cursor;

impl SpecText for Cursor {
    const SPEC: TextSpec = TextSpec {
        min_chars: MIN_CURSOR_LEN,
        max_chars: MAX_CURSOR_LEN,
        pattern: Some(CURSOR_PATTERN),
    };

    fn parse_text(value: &str) -> Result<Self, &'static str> {
        let well_formed = (MIN_CURSOR_LEN..=MAX_CURSOR_LEN).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if well_formed {
            Ok(Cursor)
        } else {
            Err("not a cursor of this service; use next_cursor from a previous page")
        }
    }
}

/// Where the next page starts: after the row with this id (and sort key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub id: Uuid,
    pub key: Option<String>,
}

/// HKDF's `info` for the cursor key: keys derived from the same secret for other purposes
/// differ from it.
const KEY_INFO: &[u8] = b"tenantry pagination cursor v1";

/// The key that signs cursors: HMAC-SHA256 keyed with a key derived from the JWT secret by
/// HKDF-SHA256 (RFC 5869), so that the secret itself never keys two things.
#[derive(Clone)]
pub struct CursorKey(Hmac<Sha256>);

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(..)")
    }
}

impl CursorKey {
    pub fn derive(secret: &SecretString) -> Self {
        // One SHA-256 block: HMAC uses such a key as it is.
        let mut key = [0u8; 64];
        Hkdf::<Sha256>::new(None, secret.expose_secret().as_bytes())
            .expand(KEY_INFO, &mut key)
            .expect("64 bytes is within HKDF-SHA256's output limit of 8160");
        Self(Hmac::new(&key.into()))
    }

    fn mac(&self, org: OrgId, list: &str, payload: &[u8]) -> Hmac<Sha256> {
        let mut mac = self.0.clone();
        mac.update(org.as_uuid().as_bytes());
        mac.update(list.as_bytes());
        mac.update(&[0]);
        mac.update(payload);
        mac
    }

    /// The cursor for `position` in list `list` of organization `org`.
    pub fn encode(&self, org: OrgId, list: &str, position: &Position) -> String {
        let mut bytes = position.id.as_bytes().to_vec();
        if let Some(key) = &position.key {
            bytes.extend_from_slice(key.as_bytes());
        }
        let tag = self.mac(org, list, &bytes).finalize().into_bytes();
        bytes.extend_from_slice(&tag[..TAG_LEN]);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The position of a cursor this service issued for the same organization and list.
    pub fn decode(&self, org: OrgId, list: &str, value: &str) -> Option<Position> {
        Cursor::check(value).ok()?;
        let bytes = URL_SAFE_NO_PAD.decode(value).ok()?;
        if bytes.len() < 16 + TAG_LEN {
            return None;
        }
        let (payload, tag) = bytes.split_at(bytes.len() - TAG_LEN);
        self.mac(org, list, payload)
            .verify_truncated_left(tag)
            .ok()?;
        let id = Uuid::from_slice(&payload[..16]).ok()?;
        let key = if payload.len() > 16 {
            Some(String::from_utf8(payload[16..].to_vec()).ok()?)
        } else {
            None
        };
        Some(Position { id, key })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> CursorKey {
        CursorKey::derive(&SecretString::from("k".repeat(32)))
    }

    #[test]
    fn a_cursor_round_trips_for_its_org_and_list_only() {
        let org = OrgId::generate();
        let position = Position {
            id: Uuid::now_v7(),
            key: Some("café".into()),
        };
        let cursor = key().encode(org, "projects:name", &position);
        assert_eq!(key().decode(org, "projects:name", &cursor), Some(position));
        assert_eq!(
            key().decode(OrgId::generate(), "projects:name", &cursor),
            None,
            "other org"
        );
        assert_eq!(
            key().decode(org, "projects:-name", &cursor),
            None,
            "other list"
        );
        let other_key = CursorKey::derive(&SecretString::from("o".repeat(32)));
        assert_eq!(
            other_key.decode(org, "projects:name", &cursor),
            None,
            "other key"
        );
    }

    #[test]
    fn a_cursor_with_the_longest_key_fits_the_limit() {
        let org = OrgId::generate();
        let position = Position {
            id: Uuid::now_v7(),
            key: Some("\u{10FFFF}".repeat(MAX_KEY_BYTES / 4)),
        };
        let cursor = key().encode(org, "projects:name", &position);
        assert!(cursor.len() <= MAX_CURSOR_LEN, "{}", cursor.len());
        assert_eq!(key().decode(org, "projects:name", &cursor), Some(position));
    }

    #[test]
    fn altered_and_malformed_cursors_are_rejected() {
        let org = OrgId::generate();
        let cursor = key().encode(
            org,
            "users",
            &Position {
                id: Uuid::now_v7(),
                key: None,
            },
        );
        let mut altered = cursor.clone().into_bytes();
        altered[3] = if altered[3] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).expect("ascii");
        for bad in [
            altered.as_str(),
            "",
            "abc",
            "!!!!",
            &"A".repeat(40),
            &"A".repeat(5000),
        ] {
            assert_eq!(key().decode(org, "users", bad), None, "{bad:.20}");
        }
    }
}
