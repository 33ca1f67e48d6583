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

fn has_control_chars(value: &str) -> bool {
    value.chars().any(char::is_control)
}

/// An email address of the right shape, trimmed. Its letter case and Unicode form are the
/// database's business: statements store `app.text_key(email)`, the one definition of the
/// case-insensitive key, which `uq_users_org_id_email` indexes and `ck_users_email` enforces.
/// Lengths count characters, as the spec and the database do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(value: &str) -> Result<Self, &'static str> {
        let value = value.trim();
        let chars = value.chars().count();
        if !(3..=254).contains(&chars) {
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
        Ok(Self(value.to_owned()))
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
        let value = value.trim();
        if value.is_empty() || value.chars().count() > 200 {
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

/// A free-text description: at most 2000 characters, no control characters but newlines and
/// tabs.
#[derive(Debug, Clone, PartialEq, Eq)]
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

#[cfg(test)]
mod tests {
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
        ] {
            assert_eq!(
                email.is_match(value),
                Email::parse(value).is_ok(),
                "{value:?}"
            );
        }
        let description = regex::Regex::new(DESCRIPTION_PATTERN).expect("pattern");
        for value in ["", "line\nline\ttab\r", "bell\u{7}", "\u{9f}"] {
            assert_eq!(
                description.is_match(value),
                Description::parse(value).is_ok(),
                "{value:?}"
            );
        }
    }

    #[test]
    fn passwords_need_between_8_and_128_characters() {
        assert!(Password::parse("short".into()).is_err());
        assert!(Password::parse("long enough".into()).is_ok());
        assert!(Password::parse("x".repeat(129)).is_err());
    }
}
