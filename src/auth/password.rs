//! argon2id password hashing with the crate's defaults (the OWASP parameters: 19 MiB, t=2,
//! p=1), always on the blocking thread pool, behind one bounded queue: at most `concurrency`
//! computations run and at most `queue` wait for them. Beyond that, a computation is refused
//! at once (503 `OVERLOADED` with `Retry-After`) instead of queueing without bound, so a
//! log-in or sign-up storm can neither starve the async workers nor grow latency and memory
//! without limit. Every hash and verification of the process goes through here.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use argon2::{Argon2, PasswordHasher as _, PasswordVerifier as _};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

use crate::error::AppError;
use crate::metrics::{METRICS, OutcomeLabels};

/// How long a client refused by a full queue should wait, in seconds.
const RETRY_AFTER_SECS: u64 = 1;

#[derive(Debug, Clone)]
pub struct PasswordHasher {
    /// Computations running or waiting: `concurrency + queue` permits, never waited for.
    admitted: Arc<Semaphore>,
    /// Computations running: `concurrency` permits.
    running: Arc<Semaphore>,
    /// A real hash of a random password: log-in verifies against it when the user does not
    /// exist, so unknown users cost the same time as wrong passwords.
    dummy_hash: Arc<str>,
    /// Verifications run so far: what tests count to prove that every log-in outcome costs
    /// exactly one (and a refused input none), instead of comparing timings.
    verifications: Arc<AtomicU64>,
}

/// What a computation is, for the metric.
#[derive(Clone, Copy)]
enum Kind {
    Hash,
    Verify,
}

impl PasswordHasher {
    /// `concurrency` computations at once (at least one), `queue` more waiting.
    pub fn new(concurrency: usize, queue: usize) -> Result<Self, AppError> {
        let dummy = SecretString::from(super::random_token());
        let dummy_hash = hash_now(&dummy)?;
        let concurrency = concurrency.max(1);
        Ok(Self {
            admitted: Arc::new(Semaphore::new(concurrency.saturating_add(queue))),
            running: Arc::new(Semaphore::new(concurrency)),
            dummy_hash: dummy_hash.into(),
            verifications: Arc::new(AtomicU64::new(0)),
        })
    }

    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`) with a fresh random salt.
    pub async fn hash(&self, password: &SecretString) -> Result<String, AppError> {
        let password = password.clone();
        self.run(Kind::Hash, move || hash_now(&password)).await?
    }

    /// True when `password` matches `hash`. With no hash (unknown user) it verifies against
    /// the dummy hash and returns false, taking the same time.
    pub async fn verify(&self, password: &str, hash: Option<String>) -> Result<bool, AppError> {
        let password = SecretString::from(password.to_owned());
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.to_string());
        let matches = self
            .run(Kind::Verify, move || {
                Argon2::default()
                    .verify_password(password.expose_secret().as_bytes(), hash.as_str())
                    .is_ok()
            })
            .await?;
        self.verifications.fetch_add(1, Ordering::Relaxed);
        Ok(known && matches)
    }

    /// How many verifications this hasher has run (each costs one argon2id computation).
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    async fn run<T: Send + 'static>(
        &self,
        kind: Kind,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let Ok(admitted) = self.admitted.clone().try_acquire_owned() else {
            METRICS
                .password_hash_refused
                .get_or_create(&OutcomeLabels {
                    outcome: kind.label(),
                })
                .inc();
            return Err(AppError::Overloaded {
                retry_after_secs: RETRY_AFTER_SECS,
            });
        };
        let waiting = &METRICS.password_hash_waiting;
        waiting.inc();
        let running = self.running.clone().acquire_owned().await;
        waiting.dec();
        let running = running.map_err(|err| AppError::internal(err.to_string()))?;
        METRICS
            .password_hash_computations
            .get_or_create(&OutcomeLabels {
                outcome: kind.label(),
            })
            .inc();
        // The permits travel with the work: a request abandoned meanwhile (its timeout) does
        // not free a slot while its computation still runs.
        tokio::task::spawn_blocking(move || {
            let result = work();
            drop((running, admitted));
            result
        })
        .await
        .map_err(|err| AppError::internal(err.to_string()))
    }
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::Hash => "hash",
            Kind::Verify => "verify",
        }
    }
}

fn hash_now(password: &SecretString) -> Result<String, AppError> {
    Argon2::default()
        .hash_password(password.expose_secret().as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|err| AppError::internal(err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hasher = PasswordHasher::new(2, 0).expect("hasher");
        let hash = hasher
            .hash(&SecretString::from("correct horse".to_owned()))
            .await
            .expect("hashed");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            hasher
                .verify("correct horse", Some(hash.clone()))
                .await
                .expect("ran")
        );
        assert!(!hasher.verify("wrong horse", Some(hash)).await.expect("ran"));
        assert!(!hasher.verify("correct horse", None).await.expect("ran"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_queue_refuses_at_once_and_frees_up_when_work_ends() {
        let hasher = PasswordHasher::new(1, 1).expect("hasher");
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let (started_tx, started) = tokio::sync::oneshot::channel::<()>();
        let blocker = hasher.clone();
        // One computation runs until released...
        let running = tokio::spawn(async move {
            blocker
                .run(Kind::Hash, move || {
                    let _ = started_tx.send(());
                    let _ = hold.recv();
                })
                .await
        });
        started.await.expect("the first computation runs");
        // ...one waits for it...
        let waiter = hasher.clone();
        let waiting = tokio::spawn(async move { waiter.run(Kind::Hash, || ()).await });
        while hasher.admitted.available_permits() > 0 {
            tokio::task::yield_now().await;
        }

        // ...and a third finds the queue full.
        match hasher.run(Kind::Verify, || ()).await {
            Err(AppError::Overloaded { retry_after_secs }) => assert_eq!(retry_after_secs, 1),
            other => panic!("expected a refusal, got {other:?}"),
        }

        release.send(()).expect("release");
        running.await.expect("joined").expect("ran");
        waiting.await.expect("joined").expect("ran after waiting");
        hasher
            .run(Kind::Verify, || ())
            .await
            .expect("room again once the work is done");
    }
}
