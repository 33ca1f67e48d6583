//! [`Text`]: a string field or parameter whose rule is a domain type's. Its schema in the spec
//! (`minLength`, `maxLength`, `pattern`) is the domain's [`TextSpec`], and reading it applies
//! the domain's parser: the rule is written once, in `src/domain`, and the API only states it.

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{
    ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type,
};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::domain::SpecText;

/// A string that satisfies `R`'s rule: the text as sent, and the value `R`'s parser made of it.
pub struct Text<R> {
    sent: String,
    value: R,
}

impl<R: SpecText> Text<R> {
    fn parse(sent: String) -> Result<Self, &'static str> {
        let value = R::parse_text(&sent)?;
        Ok(Self { sent, value })
    }

    /// The parsed (normalised) value.
    pub fn into_value(self) -> R {
        self.value
    }
}

impl<R> Deref for Text<R> {
    type Target = str;

    /// The text as sent.
    fn deref(&self) -> &str {
        &self.sent
    }
}

impl<R> fmt::Debug for Text<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Some of these values are secrets (passwords): never shown.
        f.write_str("Text(..)")
    }
}

impl<R: SpecText + Send + Sync> Type for Text<R> {
    const IS_REQUIRED: bool = true;
    type RawValueType = String;
    type RawElementValueType = String;

    fn name() -> Cow<'static, str> {
        "string".into()
    }

    fn schema_ref() -> MetaSchemaRef {
        let spec = R::SPEC;
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            min_length: (spec.min_chars > 0).then_some(spec.min_chars),
            max_length: Some(spec.max_chars),
            pattern: spec.pattern.map(str::to_owned),
            ..MetaSchema::new("string")
        }))
    }

    fn as_raw_value(&self) -> Option<&String> {
        Some(&self.sent)
    }

    fn raw_element_iter<'a>(
        &'a self,
    ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(std::iter::once(&self.sent))
    }
}

impl<R: SpecText + Send + Sync> ParseFromJSON for Text<R> {
    fn parse_from_json(value: Option<serde_json::Value>) -> ParseResult<Self> {
        match value {
            Some(serde_json::Value::String(value)) => {
                Self::parse(value).map_err(ParseError::custom)
            }
            other => Err(ParseError::expected_type(other.unwrap_or_default())),
        }
    }
}

impl<R: SpecText + Send + Sync> ParseFromParameter for Text<R> {
    fn parse_from_parameter(value: &str) -> ParseResult<Self> {
        Self::parse(value.to_owned()).map_err(ParseError::custom)
    }
}

impl<R: SpecText + Send + Sync> ToJSON for Text<R> {
    fn to_json(&self) -> Option<serde_json::Value> {
        Some(serde_json::Value::String(self.sent.clone()))
    }
}

impl<R> Serialize for Text<R> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.sent)
    }
}

/// Request bodies are read by serde first (see `body::parse`): a value that breaks the rule
/// is reported there, with the field's path.
impl<'de, R: SpecText> Deserialize<'de> for Text<R> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = String::deserialize(deserializer)?;
        Self::parse(value).map_err(serde::de::Error::custom)
    }
}

/// The domain's key for an `Idempotency-Key` header that its declared validator let through
/// (the header keeps poem-openapi's validator, so that a bad value is the header error every
/// header gets).
pub(crate) fn idempotency_key_of(
    value: &str,
) -> Result<crate::domain::IdempotencyKey, crate::error::AppError> {
    crate::domain::IdempotencyKey::parse(value)
        .map_err(|message| crate::error::AppError::validation("Idempotency-Key", message))
}
