//! argon2id password hashing with the crate's defaults (the OWASP parameters: 19 MiB, t=2,
//! p=1), always on the blocking thread pool and behind a semaphore sized to the machine, so a
//! log-in storm queues instead of starving the async workers or exhausting memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use argon2::{Argon2, PasswordHasher as _, PasswordVerifier as _};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

use crate::error::AppError;
use crate::metrics::METRICS;

#[derive(Debug, Clone)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
    /// A real hash of a random password: log-in verifies against it when the user does not
    /// exist, so unknown users cost the same time as wrong passwords.
    dummy_hash: Arc<str>,
    /// Verifications run so far: what tests count to prove that every log-in outcome costs
    /// exactly one (and a refused input none), instead of comparing timings.
    verifications: Arc<AtomicU64>,
}

impl PasswordHasher {
    pub fn new(concurrency: usize) -> Result<Self, AppError> {
        let dummy = SecretString::from(super::random_token());
        let dummy_hash = hash_now(&dummy)?;
        Ok(Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy_hash: dummy_hash.into(),
            verifications: Arc::new(AtomicU64::new(0)),
        })
    }

    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`) with a fresh random salt.
    pub async fn hash(&self, password: &SecretString) -> Result<String, AppError> {
        let password = password.clone();
        self.run(move || hash_now(&password)).await?
    }

    /// True when `password` matches `hash`. With no hash (unknown user) it verifies against
    /// the dummy hash and returns false, taking the same time.
    pub async fn verify(&self, password: &str, hash: Option<String>) -> Result<bool, AppError> {
        let password = SecretString::from(password.to_owned());
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.dummy_hash.to_string());
        let matches = self
            .run(move || {
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
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let waiting = &METRICS.password_hash_waiting;
        waiting.inc();
        let permit = self.permits.acquire().await;
        waiting.dec();
        let _permit = permit.map_err(|err| AppError::internal(err.to_string()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|err| AppError::internal(err.to_string()))
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
        let hasher = PasswordHasher::new(2).expect("hasher");
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
}
