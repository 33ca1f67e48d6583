//! `Idempotency-Key` for creates: the same key with the same request replays the first
//! response (same status and body) without creating twice, even when the duplicates arrive
//! concurrently (the claim waits on the key's row); the same key with a different request is
//! 422 `IDEMPOTENCY_KEY_REUSED`. Keys are scoped per organization and expire after 24 hours.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::authorized;
use crate::db::TenantTx;
use crate::domain::Role;
use crate::error::AppError;
use crate::repo::idempotency;

/// A client's key and the fingerprint of its request.
pub(crate) struct Idempotency {
    key: String,
    operation: &'static str,
    request_hash: Vec<u8>,
}

impl Idempotency {
    /// `operation` names the create (one key cannot serve two operations).
    pub(crate) fn new(
        key: String,
        operation: &'static str,
        request: &impl Serialize,
    ) -> Result<Self, AppError> {
        let body = serde_json::to_vec(request).map_err(AppError::internal)?;
        let mut hasher = Sha256::new();
        hasher.update(operation.as_bytes());
        hasher.update([0]);
        hasher.update(&body);
        Ok(Self {
            key,
            operation,
            request_hash: hasher.finalize().to_vec(),
        })
    }
}

/// The outcome of an idempotent create.
pub(crate) enum Created<T> {
    New(T),
    /// A replay of an earlier create with the same key (always a 201): its stored body.
    Replayed(serde_json::Value),
}

/// What to do with a request that carries a key.
enum Begun {
    /// First use: perform the create, then [`finish`].
    Fresh,
    /// Already done: answer with the stored body (creates always answered 201).
    Replay(serde_json::Value),
}

/// The first step of every idempotent create, one path for all of them. With a key, the
/// transaction's first statement claims it (or finds the stored response) and brings back
/// the caller's role; `authorize` judges that role before anything about the key is
/// answered, so a caller without the right gets 403, never a replay or a 422 that tells which
/// keys exist (the claim of a refused request rolls back with its transaction). Returns the
/// stored body to replay, if any; without a key, nothing (the create authorizes its insert).
pub(crate) async fn replay(
    tx: &mut TenantTx,
    idem: Option<&Idempotency>,
    authorize: impl FnOnce(Role) -> Result<(), AppError>,
) -> Result<Option<serde_json::Value>, AppError> {
    let Some(idem) = idem else {
        return Ok(None);
    };
    let begun = begin(tx, idem).await;
    Ok(match authorized(tx, begun, authorize)? {
        Begun::Fresh => None,
        Begun::Replay(body) => Some(body),
    })
}

async fn begin(tx: &mut TenantTx, idem: &Idempotency) -> Result<Begun, AppError> {
    if idempotency::claim(tx, &idem.key, idem.operation, &idem.request_hash).await? {
        return Ok(Begun::Fresh);
    }
    let existing = idempotency::get(tx, &idem.key)
        .await?
        .ok_or_else(|| AppError::internal("a claimed idempotency key vanished"))?;
    if existing.expired {
        idempotency::reclaim(tx, &idem.key, idem.operation, &idem.request_hash).await?;
        return Ok(Begun::Fresh);
    }
    if existing.operation != idem.operation || existing.request_hash != idem.request_hash {
        return Err(AppError::Rejected {
            code: "IDEMPOTENCY_KEY_REUSED",
            message: "this Idempotency-Key was used for a different request",
        });
    }
    match (existing.response_status, existing.response_body) {
        (Some(201), Some(body)) => Ok(Begun::Replay(body)),
        _ => Err(AppError::internal(
            "an idempotency key without a stored 201 response",
        )),
    }
}

/// Records the (201) response of a fresh create, in the transaction that performed it.
pub(crate) async fn finish(
    tx: &mut TenantTx,
    idem: &Idempotency,
    body: &serde_json::Value,
) -> Result<(), AppError> {
    idempotency::complete(tx, &idem.key, 201, body).await
}
