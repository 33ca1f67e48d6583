//! Queuing emails: the one way the service sends mail. An email is a row of the outbox written
//! in the caller's transaction (so it exists exactly when the change that causes it commits);
//! after the commit, [`queued`] counts it and wakes the mail worker.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::AppState;
use crate::db::TenantTx;
use crate::domain::EmailKind;
use crate::error::AppError;
use crate::metrics::{EmailLabels, METRICS};
use crate::repo::{emails, organizations};

/// The front end's page for each kind of link; the token travels in the fragment, which
/// browsers never send to a server (no access log or `Referer` holds it).
pub(crate) fn link(state: &AppState, page: &str, token: &str) -> String {
    format!("{}/{page}#token={token}", state.email.public_url)
}

/// How templates show a time.
pub(crate) fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Queues an email of `kind` to `recipient` in `tx` (its organization's name is added to
/// `data`, a JSON object of the template's variables).
pub(crate) async fn queue(
    tx: &mut TenantTx,
    kind: EmailKind,
    recipient: &str,
    mut data: Value,
) -> Result<(), AppError> {
    let org = organizations::get(tx)
        .await?
        .ok_or_else(|| AppError::internal("the transaction's organization is not visible"))?;
    if let Value::Object(map) = &mut data {
        map.insert("org_name".into(), Value::String(org.name));
        map.insert("recipient".into(), Value::String(recipient.to_owned()));
    }
    emails::insert(tx, kind.as_str(), recipient, &data).await
}

/// After the commit of a transaction that queued emails of `kinds`: counts them and wakes the
/// worker.
pub(crate) fn queued(state: &AppState, kinds: &[EmailKind]) {
    for kind in kinds {
        METRICS
            .emails_queued
            .get_or_create(&EmailLabels {
                kind: kind.as_str(),
            })
            .inc();
    }
    state.mail.wake();
}
