//! The email templates: for each kind, a subject, a plain-text body and an HTML body in
//! `templates/email/<kind>.subject.txt`, `<kind>.txt` and `<kind>.html`, built into the binary
//! and rendered with minijinja (HTML auto-escaped by its extension). A variable that a
//! template names and the email's data lacks is an error, never an empty string.

use std::sync::LazyLock;

use minijinja::{Environment, UndefinedBehavior};

use crate::domain::EmailKind;

macro_rules! templates {
    ($($kind:literal),* $(,)?) => {
        &[$(
            (concat!($kind, ".subject.txt"),
             include_str!(concat!("../../templates/email/", $kind, ".subject.txt"))),
            (concat!($kind, ".txt"),
             include_str!(concat!("../../templates/email/", $kind, ".txt"))),
            (concat!($kind, ".html"),
             include_str!(concat!("../../templates/email/", $kind, ".html"))),
        )*]
    };
}

/// Every template, by file name.
const TEMPLATES: &[(&str, &str)] = templates!(
    "invitation",
    "password_reset",
    "password_changed",
    "verify_email",
    "email_changed",
);

static ENVIRONMENT: LazyLock<Result<Environment<'static>, minijinja::Error>> =
    LazyLock::new(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)?;
        }
        Ok(env)
    });

/// A rendered email.
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl std::fmt::Debug for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The bodies may hold a link with a token.
        f.debug_struct("Rendered")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// Renders the email of `kind` with `data` (the outbox row's variables).
pub fn render(kind: EmailKind, data: &serde_json::Value) -> Result<Rendered, minijinja::Error> {
    let env = ENVIRONMENT.as_ref().map_err(|err| {
        minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, err.to_string())
    })?;
    let render = |suffix: &str| {
        env.get_template(&format!("{}{suffix}", kind.as_str()))?
            .render(data)
    };
    let subject = render(".subject.txt")?;
    // One line, whatever the data: a header cannot be split by a value.
    let subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    Ok(Rendered {
        subject,
        text: render(".txt")?,
        html: render(".html")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> serde_json::Value {
        serde_json::json!({
            "org_name": "Acme <&> Co",
            "recipient": "ann@example.test",
            "display_name": "Ann",
            "inviter_name": "Bob",
            "role": "member",
            "link": "https://app.example.test/x#token=abc",
            "expires_at": "2026-12-01 10:00 UTC",
            "ttl_minutes": 30,
            "new_email": "new@example.test",
        })
    }

    #[test]
    fn every_kind_renders_with_the_organization_name_and_escaped_html() {
        for kind in EmailKind::ALL {
            let rendered = render(kind, &sample()).expect("renders");
            assert!(rendered.subject.contains("Acme <&> Co"), "{kind:?}");
            assert!(rendered.text.contains("Acme <&> Co"), "{kind:?}");
            assert!(rendered.html.contains("Acme &lt;&amp;&gt; Co"), "{kind:?}");
            assert!(!rendered.html.contains("Acme <&> Co"), "{kind:?}");
        }
    }

    #[test]
    fn a_missing_variable_is_an_error() {
        let err = render(
            EmailKind::Invitation,
            &serde_json::json!({"org_name": "Acme"}),
        );
        assert!(err.is_err());
    }
}
