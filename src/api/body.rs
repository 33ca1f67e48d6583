//! [`JsonBody`]: the JSON request payload of every operation. It differs from poem-openapi's
//! `Json` in what it reports: a body over the size limit is 413, malformed JSON is 400, and a
//! value that does not fit the schema is 422 with `details` naming the field (poem-openapi's
//! own messages name types, not fields).

use poem::error::ReadBodyError;
use poem::{Request, RequestBody};
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::{ParseFromJSON, Type};
use serde::de::DeserializeOwned;

use crate::error::{AppError, FieldError};

/// The largest accepted request body, stored in the request data by the app.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub u64);

/// The fallback when no [`BodyLimit`] is configured (64 KiB).
const DEFAULT_BODY_LIMIT: u64 = 65_536;

/// A JSON request body of type `T`. `T` derives both poem-openapi's `Object` (schema and
/// validators) and serde's `Deserialize` (to locate the field behind an error).
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: Type> Payload for JsonBody<T> {
    const CONTENT_TYPE: &'static str = "application/json";

    fn check_content_type(content_type: &str) -> bool {
        matches!(content_type.parse::<mime::Mime>(), Ok(mime)
            if mime.type_() == "application"
                && (mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json")))
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Type + ParseFromJSON + DeserializeOwned> ParsePayload for JsonBody<T> {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let limit = request
            .data::<BodyLimit>()
            .map_or(DEFAULT_BODY_LIMIT, |l| l.0);
        let bytes = body
            .take()
            .map_err(read_error(limit))?
            .into_bytes_limit(usize::try_from(limit).unwrap_or(usize::MAX))
            .await
            .map_err(read_error(limit))?;
        Ok(Self(parse(&bytes).map_err(into_poem)?))
    }
}

poem_openapi::impl_apirequest_for_payload!(JsonBody<T>, T: Type + ParseFromJSON + DeserializeOwned);

fn into_poem(err: AppError) -> poem::Error {
    // The status is decided later, by the envelope middleware, from the AppError itself.
    poem::Error::new(err, poem::http::StatusCode::BAD_REQUEST)
}

fn read_error(limit: u64) -> impl Fn(ReadBodyError) -> poem::Error {
    move |err| {
        into_poem(match err {
            ReadBodyError::PayloadTooLarge => AppError::PayloadTooLarge { limit },
            other => AppError::BadRequest {
                code: "BAD_REQUEST",
                message: format!("the request body could not be read: {other}"),
                details: Vec::new(),
            },
        })
    }
}

/// Parses and validates a body, reporting the offending field when it can.
pub(crate) fn parse<T: ParseFromJSON + DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|err| AppError::BadRequest {
            code: "MALFORMED_JSON",
            message: format!("the request body is not valid JSON: {err}"),
            details: Vec::new(),
        })?;
    let Some(object) = value.as_object() else {
        return Err(AppError::validation("body", "must be a JSON object"));
    };
    // No schema field is nullable: an explicit null is refused rather than read as "absent"
    // (omit a field to leave it unchanged).
    let nulls: Vec<FieldError> = object
        .iter()
        .filter(|(_, v)| v.is_null())
        .map(|(k, _)| FieldError::new(k.clone(), "must not be null; omit the field instead"))
        .collect();
    if !nulls.is_empty() {
        return Err(AppError::Validation { details: nulls });
    }
    // serde first: strict JSON types (poem-openapi would coerce 42 into "42"), and the path of
    // the offending field. Then poem-openapi, for the validators the spec declares.
    if let Err(err) = serde_path_to_error::deserialize::<_, T>(&value) {
        return Err(AppError::Validation {
            details: vec![serde_field_error(err)],
        });
    }
    T::parse_from_json(Some(value)).map_err(|err| AppError::Validation {
        details: vec![validator_field_error(err.message())],
    })
}

fn serde_field_error(err: serde_path_to_error::Error<serde_json::Error>) -> FieldError {
    let path = err.path().to_string();
    let inner = err.into_inner().to_string();
    let message = inner.split(" at line ").next().unwrap_or(&inner).to_owned();
    let field = if path == "." {
        // Missing and unknown fields are reported at the parent: the name is in the message.
        backticked(&message).unwrap_or("body").to_owned()
    } else {
        path
    };
    FieldError::new(field, message)
}

/// poem-openapi's validator messages carry the field name:
/// "field `name` verification failed. maxLength(200)". A failed pattern is explained by the
/// rule it encodes (`domain::PATTERN_RULES`), not by the regular expression.
fn validator_field_error(message: &str) -> FieldError {
    if let Some(rest) = message.split("field `").nth(1)
        && let Some((field, reason)) = rest.split_once('`')
    {
        let reason = reason
            .trim_start_matches(" verification failed.")
            .split(" (occurred while")
            .next()
            .unwrap_or(reason)
            .trim();
        let rule = reason
            .strip_prefix("pattern(\"")
            .and_then(|pattern| pattern.strip_suffix("\")"))
            .and_then(|pattern| {
                crate::domain::PATTERN_RULES
                    .iter()
                    .find(|(known, _)| *known == pattern)
            });
        if let Some((_, rule)) = rule {
            return FieldError::new(field, *rule);
        }
        return FieldError::new(field, format!("does not satisfy {reason}"));
    }
    FieldError::new("body", message.to_owned())
}

fn backticked(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}
