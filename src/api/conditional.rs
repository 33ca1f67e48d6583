//! Conditional requests: versions as entity tags (`ETag`) and `If-Match` preconditions,
//! shared by every resource that carries a `version`.

use crate::error::AppError;
use crate::service::Precondition;

/// A strong entity tag for a version: `"<version>"`.
pub(crate) fn version_tag(version: i64) -> String {
    format!("\"{version}\"")
}

/// `If-Match`: `*`, `"<version>"` or `W/"<version>"`. Anything else is not a tag this service
/// issues, so the header cannot be read: 400 `INVALID_HEADER` (412 is for a well-formed tag
/// that names another version).
pub(crate) fn precondition(header: Option<&str>) -> Result<Option<Precondition>, AppError> {
    let Some(value) = header.map(str::trim) else {
        return Ok(None);
    };
    if value == "*" {
        return Ok(Some(Precondition::Any));
    }
    let tag = value.strip_prefix("W/").unwrap_or(value);
    tag.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|t| t.parse::<i64>().ok())
        .map(|v| Some(Precondition::Version(v)))
        .ok_or_else(|| {
            AppError::invalid_header(
                "If-Match",
                "must be `*` or an ETag of this resource, such as `\"3\"`",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_values_parse_or_are_unreadable() {
        assert_eq!(precondition(None).ok(), Some(None));
        assert_eq!(precondition(Some("*")).ok(), Some(Some(Precondition::Any)));
        assert_eq!(
            precondition(Some("\"7\"")).ok(),
            Some(Some(Precondition::Version(7)))
        );
        assert_eq!(
            precondition(Some("W/\"7\"")).ok(),
            Some(Some(Precondition::Version(7)))
        );
        for bad in [
            "7",
            "\"x\"",
            "\"\"",
            "W/",
            "\"-1\"",
            "\"+1\"",
            "\"1\", \"2\"",
        ] {
            assert!(
                matches!(
                    precondition(Some(bad)),
                    Err(AppError::BadRequest {
                        code: "INVALID_HEADER",
                        ..
                    })
                ),
                "{bad}"
            );
        }
    }
}
