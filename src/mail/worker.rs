//! The mail worker: claims due emails one organization at a time, renders and sends them, and
//! records each outcome. Retries use exponential backoff with jitter; a permanent SMTP
//! refusal, or running out of attempts, marks the email failed. Sent and failed emails lose
//! their link (and with it the token) in the database.
//!
//! Delivery is at least once: an email whose outcome could not be recorded (the process died
//! after sending) is sent again when its lease ends, with the same Message-ID.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::{Mailer, SendError, render};
use crate::db::Db;
use crate::domain::{EmailKind, OrgId};
use crate::error::AppError;
use crate::metrics::{EmailFailureLabels, EmailLabels, METRICS};
use crate::repo::mail::{self, Claimed, Finish};

/// Organizations served per round.
const ORGS_PER_ROUND: i32 = 100;

/// Runs the worker until `shutdown` completes. Each round sends what is due; the worker then
/// waits for a wake-up (an email queued by this process), its poll interval or shutdown.
/// Errors (the database unreachable) are logged and the next round tries again.
pub async fn run(db: Db, mailer: Arc<Mailer>, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    tracing::info!("mail worker started");
    loop {
        let busy = match round(&db, &mailer).await {
            Ok(handled) => handled > 0,
            Err(err) => {
                tracing::warn!(error = %err, "mail worker: a round failed; retrying later");
                false
            }
        };
        let wait = if busy {
            Duration::ZERO
        } else {
            mailer.settings.poll
        };
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            () = mailer.wakeup.notified() => {},
            () = tokio::time::sleep(wait) => {},
        }
    }
    tracing::info!("mail worker stopped");
}

/// One round: every organization with due emails, one claim each. Returns how many emails
/// were handled.
async fn round(db: &Db, mailer: &Mailer) -> Result<usize, AppError> {
    let mut tx = db.worker_tx().await?;
    let orgs = mail::due_orgs(&mut tx, ORGS_PER_ROUND).await?;
    tx.commit().await?;
    let mut handled = 0;
    for org in orgs {
        let mut tx = db.worker_tx().await?;
        let claimed = mail::claim(
            &mut tx,
            org,
            mailer.settings.batch,
            mailer.settings.lease.as_secs_f64(),
        )
        .await?;
        tx.commit().await?;
        for email in claimed {
            handled += 1;
            deliver(db, mailer, org, &email).await?;
        }
    }
    Ok(handled)
}

/// Renders, sends and records one email.
async fn deliver(db: &Db, mailer: &Mailer, org: OrgId, email: &Claimed) -> Result<(), AppError> {
    let kind = EmailKind::parse(&email.kind);
    let label = kind.map_or("unknown", EmailKind::as_str);
    let sent = match kind.map(|kind| render(kind, &email.data)) {
        Some(Ok(rendered)) => mailer.send(email.id, &email.recipient, rendered).await,
        Some(Err(err)) => {
            tracing::error!(email_id = %email.id, kind = label, error = %err, "cannot render an email");
            Err(SendError::Permanent(
                "the template cannot be rendered".into(),
            ))
        }
        None => Err(SendError::Permanent("unknown kind of email".into())),
    };
    let attempts = u32::try_from(email.attempts).unwrap_or(u32::MAX);
    let (finish, failure) = match &sent {
        Ok(()) => (Finish::Sent, None),
        Err(SendError::Permanent(error)) => (Finish::Failed(error), Some("rejected")),
        Err(SendError::Transient(error)) if attempts >= mailer.settings.max_attempts => {
            (Finish::Failed(error), Some("exhausted"))
        }
        Err(SendError::Transient(error)) => (
            Finish::Retry(error, backoff(mailer, attempts).as_secs_f64()),
            None,
        ),
    };
    match (&sent, failure) {
        (Ok(()), _) => {
            METRICS
                .emails_sent
                .get_or_create(&EmailLabels { kind: label })
                .inc();
            tracing::info!(email_id = %email.id, org_id = %org, kind = label, "email sent");
        }
        (Err(SendError::Permanent(error) | SendError::Transient(error)), Some(reason)) => {
            METRICS
                .emails_failed
                .get_or_create(&EmailFailureLabels {
                    kind: label,
                    reason,
                })
                .inc();
            tracing::warn!(email_id = %email.id, org_id = %org, kind = label, reason, error = %error,
                           attempts, "email given up");
        }
        (Err(SendError::Permanent(error) | SendError::Transient(error)), None) => {
            METRICS
                .email_send_errors
                .get_or_create(&EmailLabels { kind: label })
                .inc();
            tracing::warn!(email_id = %email.id, org_id = %org, kind = label, error = %error,
                           attempts, "email not sent; will retry");
        }
    }
    let mut tx = db.worker_tx().await?;
    mail::finish(&mut tx, org, email.id, finish).await?;
    tx.commit().await
}

/// The pause after the `attempts`-th failed attempt: `retry_base` doubled per earlier
/// attempt, at most `retry_max`, plus a random part of up to as much again.
fn backoff(mailer: &Mailer, attempts: u32) -> Duration {
    let base = mailer.settings.retry_base;
    let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(20));
    let delay = base.saturating_mul(factor).min(mailer.settings.retry_max);
    delay + crate::retry::jitter(delay)
}
