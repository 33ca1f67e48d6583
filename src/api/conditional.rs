//! Conditional requests: versions as entity tags (`ETag`) and `If-Match` preconditions,
//! shared by every resource that carries a `version`.

use std::borrow::Cow;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseError, ParseFromParameter, ParseResult, Type};

use crate::service::Precondition;

/// The syntax of `If-Match`, as the spec declares it: `*`, or an entity tag this service
/// issues, `"<version>"` (also accepted weak, `W/"<version>"`). [`IfMatch`] parses exactly
/// this (a test holds the two together); any other value cannot be read: 400
/// `INVALID_HEADER`, never a precondition that is silently dropped (412 is for a well-formed
/// tag of another version).
pub(crate) const IF_MATCH_PATTERN: &str = r#"^(\*|(W/)?"[0-9]{1,18}")$"#;

/// A strong entity tag for a version: `"<version>"`.
pub(crate) fn version_tag(version: i64) -> String {
    format!("\"{version}\"")
}

/// An `If-Match` header, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IfMatch(pub Precondition);

impl IfMatch {
    fn parse(value: &str) -> Option<Self> {
        if value == "*" {
            return Some(Self(Precondition::Any));
        }
        let tag = value.strip_prefix("W/").unwrap_or(value);
        tag.strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .filter(|t| (1..=18).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|t| t.parse::<i64>().ok())
            .map(|version| Self(Precondition::Version(version)))
    }
}

impl Type for IfMatch {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> Cow<'static, str> {
        "IfMatch".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            pattern: Some(IF_MATCH_PATTERN.to_owned()),
            ..MetaSchema::new("string")
        }))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl ParseFromParameter for IfMatch {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Self::parse(value).ok_or_else(|| {
            ParseError::custom("must be `*` or an ETag of this resource, such as `\"3\"`")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(value: &str) -> Option<Precondition> {
        IfMatch::parse(value).map(|m| m.0)
    }

    #[test]
    fn if_match_values_parse_or_are_unreadable() {
        assert_eq!(parsed("*"), Some(Precondition::Any));
        assert_eq!(parsed("\"7\""), Some(Precondition::Version(7)));
        assert_eq!(parsed("W/\"7\""), Some(Precondition::Version(7)));
        for bad in [
            "7",
            "\"x\"",
            "\"\"",
            "W/",
            "\"-1\"",
            "\"+1\"",
            "\"1\", \"2\"",
        ] {
            assert_eq!(parsed(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_declared_pattern_accepts_exactly_what_the_parser_reads() {
        let pattern = regex::Regex::new(IF_MATCH_PATTERN).expect("a valid pattern");
        let samples = [
            "*",
            "**",
            "\"0\"",
            "\"7\"",
            "W/\"7\"",
            "w/\"7\"",
            "\"007\"",
            "7",
            "\"x\"",
            "\"\"",
            "W/",
            "\"-1\"",
            "\"+1\"",
            " \"1\"",
            "\"1\" ",
            "\"1\", \"2\"",
            "\"1",
            "1\"",
            "\"123456789012345678\"",
            "\"1234567890123456789\"",
            "\"9223372036854775807\"",
            "W/*",
            "\"１\"",
        ];
        for sample in samples {
            assert_eq!(
                pattern.is_match(sample),
                IfMatch::parse(sample).is_some(),
                "{sample:?}"
            );
        }
    }
}
