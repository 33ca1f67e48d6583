//! Opaque keyset-pagination cursors: the last id of a page, base64url-encoded. A cursor only
//! positions a scan inside the caller's own organization (RLS and the org_id filter apply), so
//! a cursor copied from another organization reveals nothing.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor(Uuid);

impl Cursor {
    pub const fn after(id: Uuid) -> Self {
        Self(id)
    }

    pub const fn last_id(&self) -> Uuid {
        self.0
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0.as_bytes())
    }

    /// `None` for anything that is not a cursor this service produced.
    pub fn decode(value: &str) -> Option<Self> {
        if value.len() != 22 {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(value).ok()?;
        Uuid::from_slice(&bytes).ok().map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips() {
        let cursor = Cursor::after(Uuid::now_v7());
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
    }

    #[test]
    fn malformed_cursors_are_rejected() {
        for bad in [
            "",
            "abc",
            "!!!!!!!!!!!!!!!!!!!!!!",
            "AAAAAAAAAAAAAAAAAAAAAAAA",
            "x".repeat(4096).as_str(),
        ] {
            assert_eq!(Cursor::decode(bad), None, "{bad:?}");
        }
    }
}
