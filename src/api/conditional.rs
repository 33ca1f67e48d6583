//! Conditional requests: versions as entity tags (`ETag`) and `If-Match` preconditions,
//! shared by every resource that carries a `version`.

use crate::error::AppError;
use crate::service::Precondition;

/// A strong entity tag for a version: `"<version>"`.
pub(crate) fn version_tag(version: i64) -> String {
    format!("\"{version}\"")
}

/// `If-Match`: `*`, `"<version>"` or `W/"<version>"`; anything else cannot match (412).
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
        .and_then(|t| t.parse::<i64>().ok())
        .map(|v| Some(Precondition::Version(v)))
        .ok_or(AppError::PreconditionFailed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_values_parse_or_fail_the_precondition() {
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
        for bad in ["7", "\"x\"", "\"\"", "W/"] {
            assert!(
                matches!(precondition(Some(bad)), Err(AppError::PreconditionFailed)),
                "{bad}"
            );
        }
    }
}
