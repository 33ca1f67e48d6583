//! Validated text values. Each `parse` returns a message for the client on failure; the caller
//! names the field.

use secrecy::SecretString;

/// The spec's pattern for names (display names, organization and project names): no control
/// characters, and at least one character that is not whitespace. It matches exactly what
/// [`DisplayName::parse`] accepts (before trimming and the length check).
pub const NAME_PATTERN: &str =
    r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$";

/// The spec's pattern for descriptions: no control characters but tab, newline and return.
pub const DESCRIPTION_PATTERN: &str = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$";

/// The spec's pattern for emails, matching [`Email::parse`]: a local part of 1 to 64
/// characters, `@`, a domain that neither starts nor ends with a dot; no whitespace, no
/// control characters, one `@`.
pub const EMAIL_PATTERN: &str = r"^[^@\s\x00-\x1F\x7F-\x9F]{1,64}@[^@\s\x00-\x1F\x7F-\x9F.](?:[^@\s\x00-\x1F\x7F-\x9F]*[^@\s\x00-\x1F\x7F-\x9F.])?$";

/// The spec's pattern for name prefixes: no control characters.
pub const NAME_PREFIX_PATTERN: &str = r"^[^\x00-\x1F\x7F-\x9F]*$";

fn has_control_chars(value: &str) -> bool {
    value.chars().any(char::is_control)
}

/// An email address, trimmed and lower-cased so that uniqueness is case-insensitive
/// (`uq_users_org_id_email` indexes the stored form; `ck_users_email` enforces it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Lengths count characters of the address as sent, like the spec's bounds.
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        let length = value.chars().count();
        if !(3..=254).contains(&length) {
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
            && !value.chars().any(|c| c.is_whitespace() || c.is_control());
        if !valid {
            return Err("must be an email address");
        }
        Ok(Self(value.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A person's display name: 1..=200 characters, trimmed, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        if has_control_chars(value) {
            return Err("must not contain control characters");
        }
        // Both as sent (the spec's bound) and once trimmed (what is stored).
        let trimmed = value.trim();
        if trimmed.is_empty() || value.chars().count() > 200 {
            return Err("must be between 1 and 200 characters");
        }
        Ok(Self(trimmed.to_owned()))
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

/// A free-text description: at most 2000 characters, no control characters but newlines and
/// tabs. Empty by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        if value.chars().count() > 2000 {
            return Err("must be at most 2000 characters");
        }
        if value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
        {
            return Err("must not contain control characters");
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
        if has_control_chars(value) {
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

/// A client's `Idempotency-Key`: 1 to 255 characters, as `ck_idempotency_keys_key` enforces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        if (1..=255).contains(&value.chars().count()) {
            Ok(Self(value.to_owned()))
        } else {
            Err("must be 1 to 255 characters")
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
    IdempotencyKey => TextSpec { min_chars: 1, max_chars: 255, pattern: None },
        |value| IdempotencyKey::parse(value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_to_lower_case() {
        let email = Email::parse("Alice@Example.COM").expect("valid");
        assert_eq!(email.as_str(), "alice@example.com");
        assert!(
            Email::parse(" alice@example.com").is_err(),
            "no surrounding spaces"
        );
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

    #[test]
    fn passwords_need_between_8_and_128_characters() {
        assert!(Password::parse("short".into()).is_err());
        assert!(Password::parse("long enough".into()).is_ok());
        assert!(Password::parse("x".repeat(129)).is_err());
    }
}
