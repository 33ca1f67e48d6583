//! `Idempotency-Key` for creates: the same key with the same request replays the first
//! response (same status and body) without creating twice, even when the duplicates arrive
//! concurrently (the claim waits on the key's row); the same key with a different request is
//! 422 `IDEMPOTENCY_KEY_REUSED`. Keys are scoped per organization and expire after 24 hours.
//!
//! What is stored and replayed is the created record (serialized with serde), not a response
//! body: the API maps a replayed record exactly like a fresh one.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use super::authorized;
use crate::db::TenantTx;
use crate::domain::{IdempotencyKey, Role};
use crate::error::AppError;
use crate::repo::idempotency;

/// A client's key and the fingerprint of its request.
pub(crate) struct Idempotency {
    key: IdempotencyKey,
    operation: &'static str,
    request_hash: Vec<u8>,
}

impl Idempotency {
    /// `operation` names the create (one key cannot serve two operations).
    pub(crate) fn new(
        key: IdempotencyKey,
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

/// What to do with a request that carries a key.
enum Begun<T> {
    /// First use: perform the create, then [`finish`].
    Fresh,
    /// Already done: the record the first request created (creates always answered 201).
    Replay(T),
}

/// The first step of every idempotent create, one path for all of them. With a key, the
/// transaction's first statement claims it (or finds the stored record) and brings back
/// the caller's role; `authorize` judges that role before anything about the key is
/// answered, so a caller without the right gets 403, never a replay or a 422 that tells which
/// keys exist (the claim of a refused request rolls back with its transaction). Returns the
/// stored record to replay, if any; without a key, nothing (the create authorizes its insert).
pub(crate) async fn replay<T: DeserializeOwned>(
    tx: &mut TenantTx,
    idem: Option<&Idempotency>,
    authorize: impl FnOnce(Role) -> Result<(), AppError>,
) -> Result<Option<T>, AppError> {
    let Some(idem) = idem else {
        return Ok(None);
    };
    let begun = begin(tx, idem).await;
    Ok(match authorized(tx, begun, authorize)? {
        Begun::Fresh => None,
        Begun::Replay(record) => Some(record),
    })
}

async fn begin<T: DeserializeOwned>(
    tx: &mut TenantTx,
    idem: &Idempotency,
) -> Result<Begun<T>, AppError> {
    let key = idem.key.as_str();
    if idempotency::claim(tx, key, idem.operation, &idem.request_hash).await? {
        return Ok(Begun::Fresh);
    }
    let existing = idempotency::get(tx, key)
        .await?
        .ok_or_else(|| AppError::internal("a claimed idempotency key vanished"))?;
    if existing.expired {
        idempotency::reclaim(tx, key, idem.operation, &idem.request_hash).await?;
        return Ok(Begun::Fresh);
    }
    if existing.operation != idem.operation || existing.request_hash != idem.request_hash {
        return Err(AppError::Rejected {
            code: "IDEMPOTENCY_KEY_REUSED",
            message: "this Idempotency-Key was used for a different request",
        });
    }
    match (existing.response_status, existing.response_body) {
        (Some(201), Some(body)) => serde_json::from_value(body)
            .map(Begun::Replay)
            .map_err(AppError::internal),
        _ => Err(AppError::internal(
            "an idempotency key without a stored 201 response",
        )),
    }
}

/// Records the record a fresh create made (answered 201), in the transaction that made it.
pub(crate) async fn finish(
    tx: &mut TenantTx,
    idem: &Idempotency,
    created: &impl Serialize,
) -> Result<(), AppError> {
    let body = serde_json::to_value(created).map_err(AppError::internal)?;
    idempotency::complete(tx, idem.key.as_str(), 201, &body).await
}
