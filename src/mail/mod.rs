//! Email: the transport (SMTP through lettre, or `.eml` files in development), the templates,
//! and the worker that sends the outbox (`app.outbound_emails`, written by the service in the
//! same transaction as the change that causes each email). Nothing here runs inside a
//! request: requests only queue emails and wake the worker.

mod templates;
mod worker;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::config::{ConfigError, Environment, Settings};

pub use templates::{Rendered, render};
pub use worker::run;

/// Where emails go.
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// Development without SMTP: one `.eml` file per email in this directory.
    Files(AsyncFileTransport<Tokio1Executor>, PathBuf),
}

/// How the worker paces itself.
#[derive(Debug, Clone, Copy)]
pub struct WorkerSettings {
    /// How often to look for due emails when nothing wakes the worker.
    pub poll: Duration,
    /// The first pause before a retry; pauses double (plus jitter) up to `retry_max`.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// Attempts before an email is given up.
    pub max_attempts: u32,
    /// Emails claimed at once per organization.
    pub batch: i32,
    /// How long a claimed email is left to its worker before another may take it.
    pub lease: Duration,
    /// The longest one SMTP exchange may take.
    pub send_timeout: Duration,
}

/// Sends emails: the transport, the sender, and the worker's pace.
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    pub settings: WorkerSettings,
    /// Wakes the worker of this process (a request just queued an email).
    wakeup: Arc<Notify>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let transport = match &self.transport {
            Transport::Smtp(_) => "smtp".to_owned(),
            Transport::Files(_, dir) => format!("files in {}", dir.display()),
        };
        f.debug_struct("Mailer")
            .field("transport", &transport)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

/// Why an email was not sent.
#[derive(Debug)]
pub(crate) enum SendError {
    /// The server refused it for good (5xx): never retried.
    Permanent(String),
    /// Anything else (connection refused, 4xx, timeout): retried later.
    Transient(String),
}

impl Mailer {
    /// The mailer the settings describe. Production requires SMTP, a sender and a public URL;
    /// development without SMTP writes `.eml` files to TENANTRY_MAIL_DIR (created if needed)
    /// and says so in the log.
    pub fn from_settings(settings: &Settings) -> Result<Self, ConfigError> {
        let production = settings.environment == Environment::Production;
        if production && (settings.smtp_url.is_none() || settings.mail_from.is_none()) {
            return Err(ConfigError::MissingMailSettings);
        }
        settings.public_url()?;
        let from = settings
            .mail_from
            .as_deref()
            .unwrap_or("Tenantry <no-reply@tenantry.localhost>")
            .parse::<Mailbox>()
            .map_err(|_| {
                ConfigError::InvalidMailSetting(
                    "TENANTRY_MAIL_FROM must be an address or `Name <address>`".into(),
                )
            })?;
        let send_timeout = Duration::from_secs(30);
        let transport = match &settings.smtp_url {
            Some(url) => {
                // The URL may hold credentials: the error never repeats it.
                let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                    .map_err(|_| {
                    ConfigError::InvalidMailSetting(
                        "TENANTRY_SMTP_URL must be smtp://host[:port][?tls=required] or \
                             smtps://host[:port], with optional user:password@"
                            .into(),
                    )
                })?;
                Transport::Smtp(builder.timeout(Some(send_timeout)).build())
            }
            None => {
                let dir = settings.mail_dir.clone();
                std::fs::create_dir_all(&dir).map_err(|err| {
                    ConfigError::InvalidMailSetting(format!(
                        "cannot create TENANTRY_MAIL_DIR {}: {err}",
                        dir.display()
                    ))
                })?;
                let dir = dir.canonicalize().unwrap_or(dir);
                tracing::warn!(
                    dir = %dir.display(),
                    "TENANTRY_SMTP_URL is not set: emails are written to this directory as .eml \
                     files (development only)"
                );
                Transport::Files(AsyncFileTransport::<Tokio1Executor>::new(&dir), dir)
            }
        };
        Ok(Self {
            transport,
            from,
            settings: WorkerSettings {
                poll: Duration::from_millis(settings.mail_poll_ms),
                retry_base: Duration::from_millis(settings.mail_retry_base_ms),
                retry_max: Duration::from_secs(3600),
                max_attempts: settings.mail_max_attempts,
                batch: 20,
                lease: Duration::from_secs(120).max(send_timeout * 2),
                send_timeout,
            },
            wakeup: Arc::new(Notify::new()),
        })
    }

    /// Tells this process's worker that an email was just queued.
    pub fn wake(&self) {
        self.wakeup.notify_one();
    }

    /// Builds the message of outbox row `id` (its Message-ID, stable across retries, lets a
    /// receiver drop a duplicate) and sends it.
    pub(crate) async fn send(
        &self,
        id: Uuid,
        recipient: &str,
        rendered: Rendered,
    ) -> Result<(), SendError> {
        let to = recipient
            .parse::<Mailbox>()
            .map_err(|_| SendError::Permanent("the recipient is not a valid address".into()))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(rendered.subject)
            .message_id(Some(format!("<{id}@tenantry>")))
            .multipart(MultiPart::alternative_plain_html(
                rendered.text,
                rendered.html,
            ))
            .map_err(|err| SendError::Permanent(format!("cannot build the message: {err}")))?;
        let sent = tokio::time::timeout(self.settings.send_timeout, async {
            match &self.transport {
                Transport::Smtp(smtp) => smtp.send(message).await.map(drop).map_err(|err| {
                    if err.is_permanent() {
                        SendError::Permanent(short(&err.to_string()))
                    } else {
                        SendError::Transient(short(&err.to_string()))
                    }
                }),
                Transport::Files(files, _) => files
                    .send(message)
                    .await
                    .map(drop)
                    .map_err(|err| SendError::Transient(short(&err.to_string()))),
            }
        })
        .await;
        sent.unwrap_or_else(|_| Err(SendError::Transient("timed out".into())))
    }
}

/// An error's text, bounded (it is stored in `last_error` and logged).
fn short(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(300).collect()
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;

    #[test]
    fn production_refuses_to_start_without_smtp_a_sender_and_a_public_url() {
        let mut settings = Settings::defaults();
        settings.environment = Environment::Production;
        assert!(matches!(
            Mailer::from_settings(&settings),
            Err(ConfigError::MissingMailSettings)
        ));
        settings.smtp_url = Some(SecretString::from(
            "smtps://u:p@mail.example.com".to_owned(),
        ));
        settings.mail_from = Some("Acme <no-reply@example.com>".into());
        assert!(Mailer::from_settings(&settings).is_err(), "no public URL");
        settings.public_url = Some("https://app.example.com/".into());
        let mailer = Mailer::from_settings(&settings).expect("complete settings");
        assert!(matches!(mailer.transport, Transport::Smtp(_)));
        assert_eq!(
            settings.public_url().expect("url"),
            "https://app.example.com"
        );
        assert!(settings.require_verified_email());
    }

    #[test]
    fn development_without_smtp_writes_files_to_the_mail_directory() {
        let mut settings = Settings::defaults();
        let dir = std::env::temp_dir().join(format!("tenantry-mail-{}", Uuid::now_v7()));
        settings.mail_dir = dir.clone();
        let mailer = Mailer::from_settings(&settings).expect("development defaults");
        assert!(matches!(mailer.transport, Transport::Files(..)));
        assert!(dir.is_dir());
        assert!(!settings.require_verified_email());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn unusable_mail_settings_are_refused_without_repeating_the_smtp_url() {
        let mut settings = Settings::defaults();
        settings.smtp_url = Some(SecretString::from("ftp://user:hunter2@x".to_owned()));
        let err = Mailer::from_settings(&settings).expect_err("not an SMTP URL");
        assert!(!err.to_string().contains("hunter2"));
        settings.smtp_url = None;
        settings.public_url = Some("ftp://example.com".into());
        assert!(Mailer::from_settings(&settings).is_err());
        settings.public_url = None;
        settings.mail_from = Some("not an address".into());
        assert!(Mailer::from_settings(&settings).is_err());
    }
}
