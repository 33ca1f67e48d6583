//! The spec states each text rule (length bounds and a pattern) for clients and their
//! validators; the domain parser is the rule. For every constrained string field and parameter
//! of the served spec, these properties check that the spec accepts a string exactly when the
//! domain parser does, over strings rich in what tends to break such rules: control and format
//! characters, whitespace of every kind, combining marks, characters outside the Basic
//! Multilingual Plane, case mappings that change length, and lengths around the bounds.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::Value;
use tenantry::domain::{
    ApiKeyName, Cursor, Description, DisplayName, Email, IdempotencyKey, NamePrefix, OrgName,
    OrgSlug, Password, ProjectName, SpecText, is_hidden_in_free_text, is_invisible,
};

static SPEC: LazyLock<Value> = LazyLock::new(|| {
    let text = tenantry::api::spec(tenantry::config::SpecFormat::Json).expect("the spec");
    serde_json::from_str(&text).expect("JSON")
});

/// Where a constrained string lives in the spec.
#[derive(Debug, Clone, Copy)]
enum Place {
    /// A property of a request body's schema.
    Body(&'static str, &'static str),
    /// A parameter (query or header) of an operation.
    Param(&'static str, &'static str),
}

/// Every constrained string of the spec and the domain rule that decides it.
/// A domain rule: does it accept this string?
type Rule = fn(&str) -> bool;

const FIELDS: &[(Place, Rule)] = &[
    (Place::Body("SignupRequest", "org_name"), ok::<OrgName>),
    (
        Place::Body("UpdateOrganizationRequest", "name"),
        ok::<OrgName>,
    ),
    (
        Place::Body("SignupRequest", "display_name"),
        ok::<DisplayName>,
    ),
    (
        Place::Body("CreateUserRequest", "display_name"),
        ok::<DisplayName>,
    ),
    (
        Place::Body("UpdateUserRequest", "display_name"),
        ok::<DisplayName>,
    ),
    (
        Place::Body("CreateProjectRequest", "name"),
        ok::<ProjectName>,
    ),
    (
        Place::Body("UpdateProjectRequest", "name"),
        ok::<ProjectName>,
    ),
    (Place::Body("CreateApiKeyRequest", "name"), ok::<ApiKeyName>),
    (
        Place::Body("AcceptInvitationRequest", "display_name"),
        ok::<DisplayName>,
    ),
    (
        Place::Body("AcceptInvitationRequest", "password"),
        ok::<Password>,
    ),
    (
        Place::Body("PasswordResetConfirmRequest", "password"),
        ok::<Password>,
    ),
    (Place::Body("CreateInvitationRequest", "email"), ok::<Email>),
    (Place::Body("SignupRequest", "email"), ok::<Email>),
    (Place::Body("CreateUserRequest", "email"), ok::<Email>),
    (Place::Body("UpdateUserRequest", "email"), ok::<Email>),
    (
        Place::Body("CreateProjectRequest", "description"),
        ok::<Description>,
    ),
    (
        Place::Body("UpdateProjectRequest", "description"),
        ok::<Description>,
    ),
    (Place::Body("SignupRequest", "org_slug"), ok::<OrgSlug>),
    (Place::Body("SignupRequest", "password"), ok::<Password>),
    (Place::Body("CreateUserRequest", "password"), ok::<Password>),
    (Place::Body("UpdateUserRequest", "password"), ok::<Password>),
    (
        Place::Param("listProjects", "name_prefix"),
        ok::<NamePrefix>,
    ),
    (Place::Param("listProjects", "cursor"), ok::<Cursor>),
    (Place::Param("listUsers", "cursor"), ok::<Cursor>),
    (Place::Param("listApiKeys", "cursor"), ok::<Cursor>),
    (Place::Param("listInvitations", "cursor"), ok::<Cursor>),
    (Place::Param("listWebhooks", "cursor"), ok::<Cursor>),
    (
        Place::Param("listWebhookDeliveries", "cursor"),
        ok::<Cursor>,
    ),
    (
        Place::Body("CreateWebhookRequest", "description"),
        ok::<Description>,
    ),
    (
        Place::Body("UpdateWebhookRequest", "description"),
        ok::<Description>,
    ),
    (Place::Param("listEvents", "cursor"), ok::<Cursor>),
    (
        Place::Param("createProject", "Idempotency-Key"),
        ok::<IdempotencyKey>,
    ),
    (
        Place::Param("createUser", "Idempotency-Key"),
        ok::<IdempotencyKey>,
    ),
];

/// Fields that are only bounded (a log-in or refresh looks up whatever it is sent, within the
/// bound): no domain rule decides them, so they must carry no pattern.
const BOUNDED_ONLY: &[&str] = &[
    "LoginRequest.org_slug",
    "LoginRequest.email",
    "LoginRequest.password",
    "RefreshRequest.refresh_token",
    "UpdateUserRequest.current_password",
    "PasswordResetRequest.org_slug",
    "PasswordResetRequest.email",
    "AcceptInvitationRequest.token",
    "PasswordResetConfirmRequest.token",
    "VerifyEmailRequest.token",
];

/// Parameters whose rule is the API layer's own, checked beside it: `If-Match` is read by
/// `api::conditional::IfMatch`, whose unit test compares its declared pattern with its parser.
const CHECKED_ELSEWHERE: &[&str] = &["If-Match"];

fn ok<R: SpecText>(value: &str) -> bool {
    R::check(value).is_ok()
}

fn label(place: Place) -> String {
    match place {
        Place::Body(schema, field) => format!("{schema}.{field}"),
        Place::Param(operation, name) => format!("{operation}({name})"),
    }
}

fn schema(place: Place) -> &'static Value {
    match place {
        Place::Body(schema, field) => &SPEC["components"]["schemas"][schema]["properties"][field],
        Place::Param(operation_id, name) => operations()
            .into_iter()
            .find(|op| op["operationId"] == operation_id)
            .and_then(|op| op["parameters"].as_array())
            .and_then(|params| params.iter().find(|p| p["name"] == name))
            .map(|param| &param["schema"])
            .unwrap_or_else(|| panic!("no parameter {name} of {operation_id} in the spec")),
    }
}

fn operations() -> Vec<&'static Value> {
    SPEC["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().expect("path item").values())
        .collect()
}

/// What a JSON Schema validator decides: lengths in code points, the pattern unanchored
/// (ours anchor themselves).
fn spec_accepts(schema: &Value, value: &str) -> bool {
    let length = value.chars().count() as u64;
    let min = schema["minLength"].as_u64().unwrap_or(0);
    let max = schema["maxLength"].as_u64().unwrap_or(u64::MAX);
    let pattern = schema["pattern"]
        .as_str()
        .is_none_or(|pattern| compiled(pattern).is_match(value));
    (min..=max).contains(&length) && pattern
}

/// Each pattern compiled once.
fn compiled(pattern: &str) -> regex::Regex {
    static CACHE: LazyLock<Mutex<HashMap<String, regex::Regex>>> = LazyLock::new(Mutex::default);
    let mut cache = CACHE.lock().expect("the cache");
    cache
        .entry(pattern.to_owned())
        .or_insert_with(|| {
            regex::Regex::new(pattern).unwrap_or_else(|err| panic!("{pattern}: {err}"))
        })
        .clone()
}

fn agree(kind: &str, value: &str) -> Result<(), TestCaseError> {
    let mut matched = false;
    for (place, rule) in FIELDS.iter().filter(|(place, _)| kind_of(*place) == kind) {
        matched = true;
        let schema = schema(*place);
        prop_assert!(
            schema["type"] == "string" && (schema.get("maxLength").is_some()),
            "{} is not a bounded string in the spec: {schema}",
            label(*place)
        );
        // Beyond the Basic Multilingual Plane the patterns name no code point (ECMAScript
        // reads one in a class only with the `u` flag): there they may accept what the parser
        // refuses, never the other way round.
        let beyond_the_patterns = value
            .chars()
            .any(|c| c > '\u{FFFF}' && (is_invisible(c) || is_hidden_in_free_text(c)));
        if beyond_the_patterns {
            prop_assert!(
                !rule(value) || spec_accepts(schema, value),
                "{}: the parser accepts what the spec refuses: {:?}",
                label(*place),
                value
            );
        } else {
            prop_assert_eq!(
                spec_accepts(schema, value),
                rule(value),
                "{}: the spec and the parser disagree on {:?}",
                label(*place),
                value
            );
        }
    }
    prop_assert!(matched, "no field of kind {}", kind);
    Ok(())
}

/// Which generator exercises a field.
fn kind_of(place: Place) -> &'static str {
    let (Place::Body(_, field) | Place::Param(_, field)) = place;
    match field {
        "org_name" | "display_name" | "name" | "name_prefix" => "name",
        "email" => "email",
        "description" => "description",
        "org_slug" => "slug",
        "password" => "password",
        "cursor" => "cursor",
        "Idempotency-Key" => "key",
        other => panic!("no generator for {other}"),
    }
}

/// Characters that are ordinary, structural, or known to trip text rules.
fn any_char() -> impl Strategy<Value = char> {
    prop_oneof![
        8 => prop::char::range('a', 'z'),
        2 => prop::char::range('A', 'Z'),
        2 => prop::char::range('0', '9'),
        3 => prop::sample::select(vec!['@', '.', '-', '_', '+', ' ', '%', '\\']),
        // Whitespace of every kind, ASCII or not.
        2 => prop::sample::select(vec![
            '\t', '\n', '\r', '\u{b}', '\u{c}', '\u{85}', '\u{a0}', '\u{1680}', '\u{2003}',
            '\u{2028}', '\u{2029}', '\u{202f}', '\u{205f}', '\u{3000}',
        ]),
        // Controls (C0, DEL, C1).
        1 => prop::sample::select(vec!['\0', '\u{1}', '\u{1b}', '\u{1f}', '\u{7f}', '\u{80}', '\u{9f}']),
        // Format characters: soft hyphen, zero-width, bidi controls, BOM, a tag.
        2 => prop::sample::select(vec![
            '\u{ad}', '\u{200b}', '\u{200c}', '\u{200d}', '\u{200e}', '\u{202e}', '\u{2066}',
            '\u{feff}', '\u{e0041}',
        ]),
        // Combining marks.
        2 => prop::sample::select(vec!['\u{301}', '\u{308}', '\u{20dd}']),
        // Letters whose case mapping changes their length, other scripts, astral planes.
        3 => prop::sample::select(vec![
            'é', 'ß', 'İ', 'Σ', 'ς', 'ﬁ', 'ǅ', '李', 'я', '\u{1f600}', '\u{1d400}', '\u{10348}',
            '\u{10ffff}', '\u{fffd}',
        ]),
    ]
}

/// Characters that keep a long string valid, so that lengths near the bounds are tested on
/// values that pass every other check.
fn quiet_char() -> impl Strategy<Value = char> {
    prop_oneof![
        6 => prop::char::range('a', 'z'),
        1 => Just(' '),
        1 => prop::sample::select(vec!['é', 'İ', '李', '\u{1f600}', '\u{301}', '\u{200b}']),
    ]
}

fn string_of(
    chars: impl Strategy<Value = char>,
    len: std::ops::RangeInclusive<usize>,
) -> impl Strategy<Value = String> {
    prop::collection::vec(chars, len).prop_map(String::from_iter)
}

/// Short strings of anything, and strings of ordinary characters around `bound`.
fn text(bound: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        string_of(any_char(), 0..=12),
        string_of(any_char(), 0..=bound + 10),
        string_of(quiet_char(), bound.saturating_sub(5)..=bound + 5),
    ]
}

fn email() -> impl Strategy<Value = String> {
    prop_oneof![
        text(254),
        (string_of(any_char(), 0..=6), string_of(any_char(), 0..=8))
            .prop_map(|(local, domain)| format!("{local}@{domain}")),
        (
            string_of(quiet_char(), 60..=68),
            string_of(quiet_char(), 1..=190)
        )
            .prop_map(|(local, domain)| format!("{local}@{domain}")),
    ]
}

fn slug() -> impl Strategy<Value = String> {
    let slug_char = prop_oneof![
        8 => prop::sample::select(vec!['a', 'z', '0', '9', '-']),
        1 => any_char(),
    ];
    prop_oneof![string_of(slug_char, 0..=8), text(63)]
}

fn cursor() -> impl Strategy<Value = String> {
    let base64url = prop_oneof![
        20 => prop::sample::select(vec!['A', 'z', '0', '9', '-', '_']),
        1 => any_char(),
    ];
    prop_oneof![
        string_of(base64url.clone(), 38..=48),
        string_of(base64url, 1095..=1105),
        string_of(any_char(), 0..=12),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn the_spec_accepts_a_name_exactly_when_the_parser_does(value in text(200)) {
        agree("name", &value)?;
    }

    #[test]
    fn the_spec_accepts_an_email_exactly_when_the_parser_does(value in email()) {
        agree("email", &value)?;
    }

    #[test]
    fn the_spec_accepts_a_description_exactly_when_the_parser_does(value in text(2000)) {
        agree("description", &value)?;
    }

    #[test]
    fn the_spec_accepts_a_slug_exactly_when_the_parser_does(value in slug()) {
        agree("slug", &value)?;
    }

    #[test]
    fn the_spec_accepts_a_password_exactly_when_the_parser_does(value in text(128)) {
        agree("password", &value)?;
    }

    #[test]
    fn the_spec_accepts_a_cursor_exactly_when_the_parser_does(value in cursor()) {
        agree("cursor", &value)?;
    }

    #[test]
    fn the_spec_accepts_an_idempotency_key_exactly_when_the_parser_does(value in text(255)) {
        agree("key", &value)?;
    }
}

/// A new constrained field must join [`FIELDS`] (and so the properties above).
#[test]
fn every_constrained_string_of_the_spec_has_its_domain_rule_listed() {
    let listed: Vec<String> = FIELDS.iter().map(|(place, _)| label(*place)).collect();
    let constrained = |schema: &Value| {
        schema["type"] == "string"
            && ["minLength", "maxLength", "pattern"]
                .iter()
                .any(|key| schema.get(*key).is_some())
    };
    let mut unlisted = Vec::new();
    for (name, schema) in SPEC["components"]["schemas"].as_object().expect("schemas") {
        for (field, property) in schema["properties"].as_object().into_iter().flatten() {
            let place = format!("{name}.{field}");
            if !constrained(property) || listed.contains(&place) {
                continue;
            }
            if BOUNDED_ONLY.contains(&place.as_str()) {
                assert!(property.get("pattern").is_none(), "{place} has a pattern");
            } else {
                unlisted.push(place);
            }
        }
    }
    for operation in operations() {
        let id = operation["operationId"].as_str().expect("an operation id");
        for param in operation["parameters"].as_array().into_iter().flatten() {
            let name = param["name"].as_str().expect("a name");
            let place = format!("{id}({name})");
            if constrained(&param["schema"])
                && !listed.contains(&place)
                && !CHECKED_ELSEWHERE.contains(&name)
            {
                unlisted.push(place);
            }
        }
    }
    assert!(
        unlisted.is_empty(),
        "list these in FIELDS with their domain rule: {unlisted:?}"
    );
}
