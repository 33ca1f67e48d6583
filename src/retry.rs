//! Retrying with exponential backoff: the one policy behind waiting for the database at
//! start-up and re-running a transaction that lost a serialization conflict or a deadlock.
//! Knows nothing of what it retries; the caller says which errors are worth another try.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// When to try again. Pauses start at `first` and double up to `max`; each gets a random
/// extra of up to its own length, so that competing callers do not retry in lockstep.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// No attempt starts later than this after the first (pauses are cut to fit).
    pub within: Duration,
}

impl Backoff {
    /// Runs `attempt` until it succeeds, fails with an error `retryable` refuses, or the
    /// attempts or the time run out; then returns the last result. `on_retry` hears of each
    /// failure that is retried, with the attempt's number and the pause before the next.
    pub async fn retry<T, E, F, Fut>(
        &self,
        mut attempt: F,
        retryable: impl Fn(&E) -> bool,
        mut on_retry: impl FnMut(u32, &E, Duration),
    ) -> Result<T, E>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let started = Instant::now();
        let mut delay = self.first;
        let mut tries = 1;
        loop {
            let err = match attempt().await {
                Ok(value) => return Ok(value),
                Err(err) => err,
            };
            let left = self.within.saturating_sub(started.elapsed());
            if !retryable(&err) || tries >= self.attempts || left.is_zero() {
                return Err(err);
            }
            let pause = (delay + jitter(delay)).min(left);
            on_retry(tries, &err, pause);
            tokio::time::sleep(pause).await;
            delay = (delay * 2).min(self.max);
            tries += 1;
        }
    }
}

/// A random duration below `limit` (none when the system's generator fails: a retry without
/// jitter is still a retry).
pub(crate) fn jitter(limit: Duration) -> Duration {
    let nanos = u64::try_from(limit.as_nanos()).unwrap_or(u64::MAX).max(1);
    Duration::from_nanos(getrandom::u64().map_or(0, |random| random % nanos))
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    const FAST: Backoff = Backoff {
        first: Duration::from_millis(1),
        max: Duration::from_millis(4),
        attempts: 4,
        within: Duration::from_secs(60),
    };

    #[tokio::test(start_paused = true)]
    async fn a_retryable_failure_is_tried_the_given_number_of_times_with_growing_pauses() {
        let calls = Cell::new(0);
        let mut pauses = Vec::new();

        let result: Result<(), &str> = FAST
            .retry(
                || {
                    calls.set(calls.get() + 1);
                    async { Err("busy") }
                },
                |_| true,
                |_, _, pause| pauses.push(pause),
            )
            .await;

        assert_eq!(result, Err("busy"));
        assert_eq!(calls.get(), 4);
        assert_eq!(pauses.len(), 3);
        for (pause, base) in pauses.iter().zip([1, 2, 4]) {
            let base = Duration::from_millis(base);
            assert!(
                *pause >= base && *pause < base * 2,
                "{pause:?} for {base:?}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn other_failures_and_successes_end_at_once() {
        let calls = Cell::new(0);
        let refused: Result<(), &str> = FAST
            .retry(
                || {
                    calls.set(calls.get() + 1);
                    async { Err("fatal") }
                },
                |err| *err != "fatal",
                |_, _, _| {},
            )
            .await;
        assert_eq!((refused, calls.get()), (Err("fatal"), 1));

        let second = Cell::new(0);
        let ok: Result<u32, &str> = FAST
            .retry(
                || {
                    second.set(second.get() + 1);
                    let n = second.get();
                    async move { if n < 2 { Err("busy") } else { Ok(n) } }
                },
                |_| true,
                |_, _, _| {},
            )
            .await;
        assert_eq!(ok, Ok(2));
    }

    #[tokio::test(start_paused = true)]
    async fn no_attempt_starts_after_the_time_limit() {
        let limited = Backoff {
            within: Duration::from_millis(10),
            attempts: u32::MAX,
            ..FAST
        };
        let started = Instant::now();
        let calls = Cell::new(0);

        let result: Result<(), &str> = limited
            .retry(
                || {
                    calls.set(calls.get() + 1);
                    async { Err("down") }
                },
                |_| true,
                |_, _, _| {},
            )
            .await;

        assert_eq!(result, Err("down"));
        assert!(
            started.elapsed() <= Duration::from_millis(10),
            "{:?}",
            started.elapsed()
        );
        assert!(calls.get() >= 3, "{}", calls.get());
    }
}
