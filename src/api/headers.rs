//! The request headers the service reads, and the rule that each one, when present, is
//! readable: sent once, visible ASCII only, and of its syntax. Anything else is 400
//! `INVALID_HEADER` naming the header, before any work: a header that cannot be read is never
//! taken for an absent one (an unreadable `If-Match` must not turn the precondition off).
//!
//! The set has one source per kind of header: the operations' header parameters come from
//! the spec (each operation also checks its own declared constraints, such as a length, and
//! their failures are reported the same way); the headers read outside operations are
//! [`FIXED`], each with its syntax.

use std::sync::Arc;

use poem::http::HeaderMap;

use crate::error::AppError;

/// How a header's value must look, beyond being sent once in visible ASCII.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Syntax {
    /// Free text (the operation that declares it checks the rest).
    Text,
    /// `<scheme> [<credentials>]`; for `Bearer`, exactly one token68 (RFC 6750).
    Authorization,
    /// A media type (RFC 9110 section 8.3).
    MediaType,
    /// Decimal digits.
    Length,
    /// The request-id alphabet and length of [`super::middleware::is_valid_request_id`].
    RequestId,
}

/// The headers read outside the operations' declared parameters: by the bearer scheme and
/// `/metrics` (Authorization), the body reader (Content-Type, Content-Length), the request
/// middleware (X-Request-Id) and the session list (User-Agent).
const FIXED: &[(&str, Syntax)] = &[
    ("Authorization", Syntax::Authorization),
    ("Content-Type", Syntax::MediaType),
    ("Content-Length", Syntax::Length),
    (super::middleware::REQUEST_ID_HEADER, Syntax::RequestId),
    ("User-Agent", Syntax::Text),
];

/// Every header the service reads, by name.
#[derive(Debug, Clone, Default)]
pub(crate) struct HeaderRules(Arc<Vec<Rule>>);

#[derive(Debug)]
struct Rule {
    /// As the spec or [`FIXED`] spells it, for the error's `details`.
    name: String,
    syntax: Syntax,
}

impl HeaderRules {
    /// [`FIXED`] and every header parameter of the spec's operations.
    pub(crate) fn from_spec(spec_json: &str) -> Self {
        let mut rules: Vec<Rule> = FIXED
            .iter()
            .map(|(name, syntax)| Rule {
                name: canonical(name),
                syntax: *syntax,
            })
            .collect();
        let spec: serde_json::Value = serde_json::from_str(spec_json).unwrap_or_default();
        let declared = spec
            .get("paths")
            .and_then(|p| p.as_object())
            .into_iter()
            .flat_map(|paths| paths.values())
            .filter_map(|item| item.as_object())
            .flat_map(|item| item.values())
            .filter_map(|operation| operation.get("parameters")?.as_array())
            .flatten()
            .filter(|parameter| parameter.get("in").and_then(|i| i.as_str()) == Some("header"))
            .filter_map(|parameter| parameter.get("name")?.as_str());
        for name in declared {
            if !rules.iter().any(|r| r.name.eq_ignore_ascii_case(name)) {
                rules.push(Rule {
                    name: name.to_owned(),
                    syntax: Syntax::Text,
                });
            }
        }
        Self(Arc::new(rules))
    }

    /// The header's name as the rules spell it, when the service reads it.
    pub(crate) fn name_of(&self, header: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|rule| rule.name.eq_ignore_ascii_case(header))
            .map(|rule| rule.name.as_str())
    }

    /// 400 `INVALID_HEADER` for the first header that is present but cannot be read.
    pub(crate) fn check(&self, headers: &HeaderMap) -> Result<(), AppError> {
        for rule in self.0.iter() {
            let mut values = headers.get_all(rule.name.as_str()).iter();
            let Some(value) = values.next() else {
                continue;
            };
            if values.next().is_some() {
                return Err(AppError::invalid_header(
                    &rule.name,
                    "is sent more than once",
                ));
            }
            // Visible ASCII, spaces and tabs: `to_str` refuses everything else.
            let Ok(text) = value.to_str() else {
                return Err(AppError::invalid_header(
                    &rule.name,
                    "contains bytes other than visible ASCII",
                ));
            };
            if let Err(reason) = rule.syntax.check(text) {
                return Err(AppError::invalid_header(&rule.name, reason));
            }
        }
        Ok(())
    }
}

/// `x-request-id` as `X-Request-Id`.
fn canonical(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + &chars.as_str().to_ascii_lowercase()
            })
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// RFC 9110 `token68`: base64-ish characters, then `=` padding only.
fn is_token68(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

impl Syntax {
    fn check(self, value: &str) -> Result<(), &'static str> {
        match self {
            Syntax::Text => Ok(()),
            Syntax::Authorization => {
                let (scheme, credentials) = value
                    .split_once(' ')
                    .map_or((value, ""), |(s, c)| (s, c.trim_start_matches(' ')));
                if scheme.is_empty() || !scheme.bytes().all(is_tchar) {
                    return Err("must be `<scheme> <credentials>`, e.g. `Bearer <token>`");
                }
                if scheme.eq_ignore_ascii_case("bearer") && !is_token68(credentials) {
                    return Err("must be `Bearer <token>` with one token of base64url characters");
                }
                Ok(())
            }
            // The mime crate takes `application/` for a media type: require both halves.
            Syntax::MediaType => match value.parse::<mime::Mime>() {
                Ok(media)
                    if !media.type_().as_str().is_empty()
                        && !media.subtype().as_str().is_empty() =>
                {
                    Ok(())
                }
                _ => Err("must be a media type, e.g. `application/json`"),
            },
            Syntax::Length => {
                if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
                    value.parse::<u64>().map(drop).map_err(|_| "is too large")
                } else {
                    Err("must be a number of bytes")
                }
            }
            Syntax::RequestId => {
                if super::middleware::is_valid_request_id(value) {
                    Ok(())
                } else {
                    Err("must be 1 to 128 characters of A-Z, a-z, 0-9, `.`, `_`, `:` and `-`")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use poem::http::HeaderValue;

    use super::*;

    fn rules() -> HeaderRules {
        HeaderRules::from_spec(
            r#"{"paths": {"/v1/things": {"post": {"parameters": [
                {"in": "header", "name": "Idempotency-Key"},
                {"in": "query", "name": "limit"}]}}}}"#,
        )
    }

    fn checked(name: &'static str, value: &[u8]) -> Result<(), String> {
        let mut headers = HeaderMap::new();
        headers.insert(
            name,
            HeaderValue::from_bytes(value).expect("a header value"),
        );
        rules().check(&headers).map_err(|err| match err {
            AppError::BadRequest { details, .. } => details[0].field.clone(),
            other => panic!("{other:?}"),
        })
    }

    #[test]
    fn the_spec_adds_its_header_parameters_and_nothing_else() {
        let rules = rules();
        assert_eq!(rules.name_of("idempotency-key"), Some("Idempotency-Key"));
        assert_eq!(rules.name_of("x-request-id"), Some("X-Request-Id"));
        assert_eq!(rules.name_of("limit"), None);
        assert_eq!(rules.name_of("accept"), None);
    }

    #[test]
    fn each_fixed_header_is_checked_for_its_syntax() {
        let valid: &[(&str, &[u8])] = &[
            ("authorization", b"Bearer abc.DEF-_~+/=="),
            ("authorization", b"Basic dXNlcjpwYXNz"),
            ("content-type", b"application/json; charset=utf-8"),
            ("content-length", b"42"),
            ("x-request-id", b"trace-1.2:3"),
            ("user-agent", b"curl/8.0 (x86_64)"),
            ("idempotency-key", b"any visible text"),
        ];
        for (name, value) in valid {
            assert_eq!(checked(name, value), Ok(()), "{name}: {value:?}");
        }
        let invalid: &[(&str, &[u8])] = &[
            ("authorization", b"Bearer"),
            ("authorization", b"Bearer a b"),
            ("authorization", b"Bearer to=ken"),
            ("authorization", b"B@d x"),
            ("content-type", b"json"),
            ("content-type", b"application/"),
            ("content-length", b"12a"),
            ("content-length", b"99999999999999999999999"),
            ("x-request-id", b"a b"),
            ("user-agent", b"caf\xc3\xa9"),
            ("idempotency-key", b"k\xff"),
        ];
        for (name, value) in invalid {
            assert!(checked(name, value).is_err(), "{name}: {value:?}");
        }
    }

    #[test]
    fn a_header_sent_twice_is_refused_by_name() {
        let mut headers = HeaderMap::new();
        headers.append("if-match", HeaderValue::from_static("\"1\""));
        headers.append("idempotency-key", HeaderValue::from_static("a"));
        headers.append("idempotency-key", HeaderValue::from_static("b"));
        match rules().check(&headers) {
            Err(AppError::BadRequest { code, details, .. }) => {
                assert_eq!(code, "INVALID_HEADER");
                assert_eq!(details[0].field, "Idempotency-Key");
            }
            other => panic!("{other:?}"),
        }
    }
}
