//! Validated text values. Each `parse` returns a message for the client on failure; the caller
//! names the field.
//!
//! The parsers check shape only: which characters are allowed, trimming and lengths. Unicode
//! normalization (NFC) and letter case belong to the database, which stores text in NFC and
//! keys it with `app.text_key`; its CHECK constraints state the same character rules as
//! [`INVISIBLE`] and [`HIDDEN_IN_FREE_TEXT`] (defense in depth, compared by a test).

use std::ops::RangeInclusive;

use secrecy::SecretString;

/// The code points that text identifying someone or something (names, emails) must not
/// contain, because they are invisible or change how the text around them looks, so that two
/// identities could look alike: controls (Cc), format characters (Cf: the soft hyphen,
/// bidirectional controls, zero-width spaces and joiners, the byte-order mark, tags, ...), the
/// line and paragraph separators (Zl, Zp), every other default-ignorable code point (variation
/// selectors, Hangul fillers, the combining grapheme joiner, ...) and U+2800 BRAILLE PATTERN
/// BLANK, which renders as nothing. The database's `app.is_identity_text` refuses the same set
/// (a test compares them code point by code point), as does [`NAME_PATTERN`].
pub const INVISIBLE: &[RangeInclusive<char>] = &[
    '\u{0}'..='\u{1F}',
    '\u{7F}'..='\u{9F}',
    '\u{AD}'..='\u{AD}',
    '\u{34F}'..='\u{34F}',
    '\u{600}'..='\u{605}',
    '\u{61C}'..='\u{61C}',
    '\u{6DD}'..='\u{6DD}',
    '\u{70F}'..='\u{70F}',
    '\u{890}'..='\u{891}',
    '\u{8E2}'..='\u{8E2}',
    '\u{115F}'..='\u{1160}',
    '\u{17B4}'..='\u{17B5}',
    '\u{180B}'..='\u{180F}',
    '\u{200B}'..='\u{200F}',
    '\u{2028}'..='\u{202E}',
    '\u{2060}'..='\u{206F}',
    '\u{2800}'..='\u{2800}',
    '\u{3164}'..='\u{3164}',
    '\u{FE00}'..='\u{FE0F}',
    '\u{FEFF}'..='\u{FEFF}',
    '\u{FFA0}'..='\u{FFA0}',
    '\u{FFF0}'..='\u{FFFB}',
    '\u{110BD}'..='\u{110BD}',
    '\u{110CD}'..='\u{110CD}',
    '\u{13430}'..='\u{1343F}',
    '\u{1BCA0}'..='\u{1BCA3}',
    '\u{1D173}'..='\u{1D17A}',
    '\u{E0000}'..='\u{E0FFF}',
];

/// The code points free text (descriptions) must not contain: controls other than tab, line
/// feed and carriage return, the line and paragraph separators, the bidirectional embeddings,
/// overrides and isolates (which reorder what follows them), the byte-order mark, interlinear
/// annotation controls and tag characters (invisible text). Zero-width joiners, variation
/// selectors and marks that writing systems and emoji need stay allowed. The database's
/// `app.is_free_text` refuses the same set, as does [`DESCRIPTION_PATTERN`].
pub const HIDDEN_IN_FREE_TEXT: &[RangeInclusive<char>] = &[
    '\u{0}'..='\u{8}',
    '\u{B}'..='\u{C}',
    '\u{E}'..='\u{1F}',
    '\u{7F}'..='\u{9F}',
    '\u{2028}'..='\u{202E}',
    '\u{2066}'..='\u{2069}',
    '\u{FEFF}'..='\u{FEFF}',
    '\u{FFF9}'..='\u{FFFB}',
    '\u{E0000}'..='\u{E007F}',
];

/// The code points of [`INVISIBLE`] in the Basic Multilingual Plane, as the inside of a
/// regular-expression class, in `\uXXXX` escapes that ECMAScript, Python and Rust read alike.
///
/// The spec's patterns name no code point beyond that plane: ECMAScript reads one in a class
/// only with the `u` flag, and tools that rewrite patterns (schemathesis, to fold a length into
/// one) write them as `\UXXXXXXXX`, which ECMAScript validators refuse. So beyond the Basic
/// Multilingual Plane the patterns are a sound over-approximation: they accept the few
/// invisible code points there (tag characters, ...) that the parsers refuse; the fields'
/// descriptions say so.
macro_rules! invisible_class {
    () => {
        "\\x00-\\x1F\\x7F-\\x9F\\u00AD\\u034F\\u0600-\\u0605\\u061C\\u06DD\\u070F\\u0890\\u0891\
         \\u08E2\\u115F\\u1160\\u17B4\\u17B5\\u180B-\\u180F\\u200B-\\u200F\\u2028-\\u202E\
         \\u2060-\\u206F\\u2800\\u3164\\uFE00-\\uFE0F\\uFEFF\\uFFA0\\uFFF0-\\uFFFB"
    };
}

/// The spec's pattern for names (display names, organization and project names): no
/// [`INVISIBLE`] code point, and at least one character that is not white space. It matches
/// exactly what [`DisplayName::parse`] accepts, but for the length and the invisible code
/// points beyond the Basic Multilingual Plane (see `invisible_class`).
pub const NAME_PATTERN: &str = concat!(
    "^[^",
    invisible_class!(),
    "]*[^\\s",
    invisible_class!(),
    "][^",
    invisible_class!(),
    "]*$"
);

/// The spec's pattern for descriptions: no [`HIDDEN_IN_FREE_TEXT`] code point of the Basic
/// Multilingual Plane (beyond it, the tag characters, which the parser refuses, are not named:
/// see `invisible_class`).
pub const DESCRIPTION_PATTERN: &str = "^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F-\\x9F\\u2028-\\u202E\
     \\u2066-\\u2069\\uFEFF\\uFFF9-\\uFFFB]*$";

/// The spec's pattern for emails, matching [`Email::parse`] but for the length and the
/// invisible code points beyond the Basic Multilingual Plane: a local part
/// of 1 to 64 characters, `@`, a domain that neither starts nor ends with a dot; no white
/// space but around it, no [`INVISIBLE`] code point, one `@`.
pub const EMAIL_PATTERN: &str = concat!(
    "^[^\\S",
    invisible_class!(),
    "]*[^@\\s",
    invisible_class!(),
    "]{1,64}@[^@\\s.",
    invisible_class!(),
    "](?:[^@\\s",
    invisible_class!(),
    "]*[^@\\s.",
    invisible_class!(),
    "])?[^\\S",
    invisible_class!(),
    "]*$"
);

/// What the client is told when a value fails one of the patterns above (the spec's
/// validators run before the parsers, so their message must be as clear).
pub const PATTERN_RULES: &[(&str, &str)] = &[
    (NAME_PATTERN, NAME_RULE),
    (EMAIL_PATTERN, EMAIL_RULE),
    (DESCRIPTION_PATTERN, DESCRIPTION_RULE),
];

/// Why a value with an [`INVISIBLE`] code point is refused.
pub const INVISIBLE_RULE: &str = "must not contain control, format or invisible characters \
     (zero-width spaces and joiners, bidirectional controls, soft hyphens, variation selectors, ...)";
/// The rule [`NAME_PATTERN`] encodes.
pub const NAME_RULE: &str = "must be visible text: no control, format or invisible characters \
     (zero-width spaces and joiners, bidirectional controls, soft hyphens, variation selectors, \
     ...), and not only white space";
/// The rule [`EMAIL_PATTERN`] encodes.
pub const EMAIL_RULE: &str = "must be an email address without white space, control, format or \
     invisible characters";
/// The rule [`DESCRIPTION_PATTERN`] encodes.
pub const DESCRIPTION_RULE: &str = "must not contain control characters other than tab and line \
     breaks, bidirectional embeddings, overrides or isolates, or invisible tag characters";

/// The spec's pattern for name prefixes: no control characters.
pub const NAME_PREFIX_PATTERN: &str = r"^[^\x00-\x1F\x7F-\x9F]*$";

fn contains_any(value: &str, set: &[RangeInclusive<char>]) -> bool {
    value
        .chars()
        .any(|c| set.iter().any(|range| range.contains(&c)))
}

/// Whether `c` is one of the [`INVISIBLE`] code points.
pub fn is_invisible(c: char) -> bool {
    INVISIBLE.iter().any(|range| range.contains(&c))
}

/// Whether `c` is one of the [`HIDDEN_IN_FREE_TEXT`] code points.
pub fn is_hidden_in_free_text(c: char) -> bool {
    HIDDEN_IN_FREE_TEXT.iter().any(|range| range.contains(&c))
}

/// An email address of the right shape, trimmed. Its letter case and Unicode form are the
/// database's business: statements store `app.text_key(email)`, the one definition of the
/// case-insensitive key, which `uq_users_org_id_email` indexes and `ck_users_email` enforces.
/// Lengths count characters, as the spec and the database do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        if contains_any(value, INVISIBLE) {
            return Err(INVISIBLE_RULE);
        }
        // At most 254 as sent (the spec's bound), at least 3 once trimmed.
        let sent = value.chars().count();
        let value = value.trim();
        let chars = value.chars().count();
        if chars < 3 || sent > 254 {
            return Err("must be between 3 and 254 characters");
        }
        let Some((local, domain)) = value.split_once('@') else {
            return Err("must be an email address");
        };
        let valid = !local.is_empty()
            && local.chars().count() <= 64
            && !domain.is_empty()
            && !domain.contains('@')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !value.chars().any(char::is_whitespace);
        if !valid {
            return Err("must be an email address");
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A person's display name: 1..=200 characters, trimmed of white space (Unicode's
/// White_Space), no [`INVISIBLE`] code point. The database stores it in NFC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        if contains_any(value, INVISIBLE) {
            return Err(INVISIBLE_RULE);
        }
        // Both as sent (the spec's bound) and once trimmed (what is stored).
        let sent = value.chars().count();
        let value = value.trim();
        if value.is_empty() || sent > 200 {
            return Err("must be between 1 and 200 characters");
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An organization's name: same rules as a display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgName(String);

impl OrgName {
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        DisplayName::parse(value).map(|name| Self(name.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A project's name: same rules as a display name; unique per organization, ignoring case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectName(String);

impl ProjectName {
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        DisplayName::parse(value).map(|name| Self(name.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An API key's name (what it is for: "CI deploys"): same rules as a display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyName(String);

impl ApiKeyName {
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        DisplayName::parse(value).map(|name| Self(name.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A free-text description: at most 2000 characters, no [`HIDDEN_IN_FREE_TEXT`] code point.
/// The database stores it in NFC. Empty by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        if value.chars().count() > 2000 {
            return Err("must be at most 2000 characters");
        }
        if contains_any(value, HIDDEN_IN_FREE_TEXT) {
            return Err(DESCRIPTION_RULE);
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The public handle of an organization used at log-in: lower-case letters, digits and
/// inner hyphens, 1..=63 characters (a DNS label), as `ck_organizations_slug` enforces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgSlug(String);

impl OrgSlug {
    pub const PATTERN: &'static str = "^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$";

    pub fn parse(value: &str) -> Result<Self, &'static str> {
        let bytes = value.as_bytes();
        let valid = !bytes.is_empty()
            && bytes.len() <= 63
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
            && bytes.first() != Some(&b'-')
            && bytes.last() != Some(&b'-');
        if valid {
            Ok(Self(value.to_owned()))
        } else {
            Err("must be 1 to 63 lower-case letters, digits or inner hyphens")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: 8..=128 characters (NIST SP 800-63B lengths). Kept secret in memory.
pub struct Password(SecretString);

impl Password {
    pub fn parse(value: String) -> Result<Self, &'static str> {
        let chars = value.chars().count();
        if !(8..=128).contains(&chars) {
            return Err("must be between 8 and 128 characters");
        }
        Ok(Self(SecretString::from(value)))
    }

    pub fn secret(&self) -> &SecretString {
        &self.0
    }
}

/// A prefix that project names are filtered by: at most 200 characters, no control
/// characters (it may be empty, or only spaces).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamePrefix(String);

impl NamePrefix {
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        if value.chars().any(char::is_control) {
            return Err("must not contain control characters");
        }
        if value.chars().count() > 200 {
            return Err("must be at most 200 characters");
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A client's `Idempotency-Key`: 1 to 255 visible ASCII characters (and spaces), the length
/// `ck_idempotency_keys_key` enforces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

/// The spec's pattern for idempotency keys: visible ASCII and spaces.
pub const IDEMPOTENCY_KEY_PATTERN: &str = "^[ -~]+$";

impl IdempotencyKey {
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        let visible = value.bytes().all(|b| (b' '..=b'~').contains(&b));
        if visible && (1..=255).contains(&value.len()) {
            Ok(Self(value.to_owned()))
        } else {
            Err("must be 1 to 255 visible ASCII characters")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How the spec states a text rule: bounds in characters (JSON Schema's `minLength` and
/// `maxLength` count code points) and a pattern. The type's parser is the rule; this restates
/// it for clients and their validators, and a property test proves that both accept exactly
/// the same strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextSpec {
    pub min_chars: usize,
    pub max_chars: usize,
    pub pattern: Option<&'static str>,
}

/// A text value whose rule the spec states.
pub trait SpecText: Sized {
    const SPEC: TextSpec;

    /// The rule itself: the type's parser.
    fn parse_text(value: &str) -> Result<Self, &'static str>;

    /// Whether `value` satisfies the rule.
    fn check(value: &str) -> Result<(), &'static str> {
        Self::parse_text(value).map(drop)
    }
}

const NAME_SPEC: TextSpec = TextSpec {
    min_chars: 1,
    max_chars: 200,
    pattern: Some(NAME_PATTERN),
};

macro_rules! spec_text {
    ($($type:ty => $spec:expr, |$value:ident| $parse:expr;)*) => {$(
        impl SpecText for $type {
            const SPEC: TextSpec = $spec;

            fn parse_text($value: &str) -> Result<Self, &'static str> {
                $parse
            }
        }
    )*};
}

spec_text! {
    DisplayName => NAME_SPEC, |value| DisplayName::parse(value);
    OrgName => NAME_SPEC, |value| OrgName::parse(value);
    ProjectName => NAME_SPEC, |value| ProjectName::parse(value);
    ApiKeyName => NAME_SPEC, |value| ApiKeyName::parse(value);
    Email => TextSpec { min_chars: 3, max_chars: 254, pattern: Some(EMAIL_PATTERN) },
        |value| Email::parse(value);
    Description => TextSpec { min_chars: 0, max_chars: 2000, pattern: Some(DESCRIPTION_PATTERN) },
        |value| Description::parse(value);
    OrgSlug => TextSpec { min_chars: 1, max_chars: 63, pattern: Some(OrgSlug::PATTERN) },
        |value| OrgSlug::parse(value);
    Password => TextSpec { min_chars: 8, max_chars: 128, pattern: None },
        |value| Password::parse(value.to_owned());
    NamePrefix => TextSpec { min_chars: 0, max_chars: 200, pattern: Some(NAME_PREFIX_PATTERN) },
        |value| NamePrefix::parse(value);
    IdempotencyKey => TextSpec { min_chars: 1, max_chars: 255, pattern: Some(IDEMPOTENCY_KEY_PATTERN) },
        |value| IdempotencyKey::parse(value);
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn emails_are_trimmed_and_keep_their_case_for_the_database_to_fold() {
        let email = Email::parse("  Alice@Example.COM ").expect("valid");
        assert_eq!(email.as_str(), "Alice@Example.COM");
    }

    #[test]
    fn email_lengths_count_characters_like_the_spec() {
        let local = "é".repeat(64);
        assert!(
            Email::parse(&format!("{local}@x.y")).is_ok(),
            "64 characters, 128 bytes"
        );
        assert!(
            Email::parse(&format!("{local}é@x.y")).is_err(),
            "65 characters"
        );
        let long = format!("a@{}", "ü".repeat(252));
        assert!(Email::parse(&long).is_ok(), "254 characters");
        assert!(Email::parse(&format!("{long}x")).is_err(), "255 characters");
    }

    #[test]
    fn malformed_emails_are_rejected() {
        for bad in [
            "",
            "a",
            "a@",
            "@b.c",
            "a@b@c",
            "a b@c.d",
            "a@.c",
            "a@c.",
            "a\u{0}@b.c",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn slugs_follow_dns_label_rules() {
        for good in ["a", "acme", "acme-2", "0x"] {
            assert!(OrgSlug::parse(good).is_ok(), "{good:?}");
        }
        for bad in ["", "-a", "a-", "Acme", "a_b", "a.b", &"a".repeat(64)] {
            assert!(OrgSlug::parse(bad).is_err(), "{bad:?}");
        }
    }

    /// The spec's patterns accept exactly what the domain accepts.
    #[test]
    fn spec_patterns_agree_with_the_parsers() {
        let name = regex::Regex::new(NAME_PATTERN).expect("pattern");
        for value in [
            "Bob",
            " Bob ",
            "0",
            "Élodie 李",
            "\u{a0}x",
            " ",
            "",
            "a\u{0}b",
            "\u{7f}",
            "a\u{85}",
            "\t",
            "own\u{200b}er",
            "\u{202e}Bob",
            "Bo\u{ad}b",
            "Bob\u{fe0f}",
            "\u{2800}",
        ] {
            assert_eq!(
                name.is_match(value),
                DisplayName::parse(value).is_ok(),
                "{value:?}"
            );
        }
        let email = regex::Regex::new(EMAIL_PATTERN).expect("pattern");
        for value in [
            "a@b.c",
            "A@B",
            "x+y@z.example",
            "a@b.",
            "a@.b",
            "@b.c",
            "a@",
            "a b@c.d",
            "a@b@c",
            "é@ü.de",
            &format!("{}@x.y", "a".repeat(65)),
            &format!("{}@x.y", "é".repeat(64)),
            "own\u{200b}er@a.test",
            "\u{202e}owner@a.test",
            "a@b\u{a0}c",
        ] {
            assert_eq!(
                email.is_match(value),
                Email::parse(value).is_ok(),
                "{value:?}"
            );
        }
        let description = regex::Regex::new(DESCRIPTION_PATTERN).expect("pattern");
        for value in [
            "",
            "line\nline\ttab\r",
            "bell\u{7}",
            "\u{9f}",
            "👩\u{200d}💻 and \u{200c}",
            "a\u{202e}b",
            "a\u{2066}b",
        ] {
            assert_eq!(
                description.is_match(value),
                Description::parse(value).is_ok(),
                "{value:?}"
            );
        }
    }

    /// Every code point of the Basic Multilingual Plane, and of the other planes every one
    /// near a boundary of the sets and a sample of the rest.
    fn code_points() -> impl Iterator<Item = char> {
        let boundaries: Vec<u32> = INVISIBLE
            .iter()
            .chain(HIDDEN_IN_FREE_TEXT)
            .flat_map(|r| [u32::from(*r.start()), u32::from(*r.end())])
            .collect();
        (0..=0x10FFFF_u32)
            .filter(move |&cp| {
                cp <= 0xFFFF || cp % 61 == 0 || boundaries.iter().any(|b| cp.abs_diff(*b) <= 2)
            })
            .filter_map(char::from_u32)
    }

    /// The character rules agree code point by code point: each parser refuses exactly its
    /// set, and each spec pattern exactly what its parser refuses in the Basic Multilingual
    /// Plane; beyond it, the pattern accepts at least what the parser accepts.
    #[test]
    fn the_patterns_and_the_parsers_judge_every_code_point_alike() {
        let name = regex::Regex::new(NAME_PATTERN).expect("pattern");
        let email = regex::Regex::new(EMAIL_PATTERN).expect("pattern");
        let description = regex::Regex::new(DESCRIPTION_PATTERN).expect("pattern");
        let mut disagreements = Vec::new();
        for c in code_points() {
            let inside = format!("a{c}a");
            let alone = c.to_string();
            let name_ok = DisplayName::parse(&inside).is_ok();
            if name_ok == is_invisible(c) {
                disagreements.push(format!("DisplayName::parse on U+{:04X}", u32::from(c)));
            }
            // Beyond the Basic Multilingual Plane the patterns may accept more than the parsers.
            let agrees =
                |matched: bool, parsed: bool| matched == parsed || (c > '\u{FFFF}' && matched);
            for value in [&inside, &alone] {
                if !agrees(name.is_match(value), DisplayName::parse(value).is_ok()) {
                    disagreements.push(format!("NAME_PATTERN on {value:?}"));
                }
            }
            for value in [format!("a{c}@b.c"), format!("a@b{c}c")] {
                let ok = Email::parse(&value).is_ok();
                if ok == (is_invisible(c) || c.is_whitespace() || c == '@') {
                    disagreements.push(format!("Email::parse on {value:?}"));
                }
            }
            for value in [
                format!("a{c}@b.c"),
                format!("a@b{c}c"),
                format!("{c}a@b.c"),
                format!("a@b.c{c}"),
                format!("a@{c}"),
            ] {
                if !agrees(email.is_match(&value), Email::parse(&value).is_ok()) {
                    disagreements.push(format!("EMAIL_PATTERN on {value:?}"));
                }
            }
            let description_ok = Description::parse(&inside).is_ok();
            if description_ok == is_hidden_in_free_text(c) {
                disagreements.push(format!("Description::parse on U+{:04X}", u32::from(c)));
            }
            if !agrees(description.is_match(&inside), description_ok) {
                disagreements.push(format!("DESCRIPTION_PATTERN on {inside:?}"));
            }
        }
        assert!(
            disagreements.is_empty(),
            "{} disagreements, first: {:?}",
            disagreements.len(),
            &disagreements[..disagreements.len().min(10)]
        );
    }

    /// A failed pattern is explained to the client by the rule it encodes.
    #[test]
    fn every_pattern_has_a_rule_for_the_client() {
        for pattern in [NAME_PATTERN, EMAIL_PATTERN, DESCRIPTION_PATTERN] {
            assert!(PATTERN_RULES.iter().any(|(p, _)| *p == pattern));
        }
    }

    fn invisible_char() -> impl Strategy<Value = char> {
        proptest::sample::select(INVISIBLE).prop_flat_map(|range| {
            (u32::from(*range.start())..=u32::from(*range.end()))
                .prop_map(|cp| char::from_u32(cp).unwrap_or('\u{0}'))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

        /// Whatever the input, an accepted name is trimmed and holds no invisible code point;
        /// and any invisible code point anywhere makes any name, email or organization name
        /// refused.
        #[test]
        fn names_and_emails_never_keep_an_invisible_code_point(
            value in any::<String>(),
            hidden in invisible_char(),
            at in any::<proptest::sample::Index>(),
        ) {
            if let Ok(name) = DisplayName::parse(&value) {
                prop_assert!(!name.as_str().chars().any(is_invisible));
                prop_assert_eq!(name.as_str(), name.as_str().trim());
            }
            let chars: Vec<char> = format!("Ann{value}").chars().collect();
            let at = at.index(chars.len() + 1);
            let with: String = chars[..at].iter().chain([&hidden]).chain(&chars[at..]).collect();
            prop_assert!(DisplayName::parse(&with).is_err(), "{}", with.escape_debug());
            prop_assert!(OrgName::parse(&with).is_err());
            prop_assert!(ProjectName::parse(&with).is_err());
            let email = format!("{with}@example.test");
            prop_assert!(Email::parse(&email).is_err());
        }
    }

    #[test]
    fn passwords_need_between_8_and_128_characters() {
        assert!(Password::parse("short".into()).is_err());
        assert!(Password::parse("long enough".into()).is_ok());
        assert!(Password::parse("x".repeat(129)).is_err());
    }
}
