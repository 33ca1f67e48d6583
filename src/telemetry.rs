//! Log subscriber set-up: once per process, JSON or human-readable, levels from `RUST_LOG`.
//!
//! Every event inside a request carries the request's span (`request_id`); the request line
//! itself adds method, route template, status, latency and the caller's org and user ids.
//! Nothing here logs tokens, passwords or hashes; [`filter`] also caps the database driver,
//! whose debug output would include bind parameters (password hashes among them).

use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::Directive;

use crate::config::LogFormat;

/// Targets that must never log below `info`, whatever `RUST_LOG` says: tokio-postgres logs
/// statement parameters at `debug`.
const CAPPED_TARGETS: &[&str] = &["tokio_postgres=info"];

/// The filter for `directives` (`RUST_LOG` syntax; `info` when unset), with the caps applied.
pub fn filter(directives: Option<&str>) -> EnvFilter {
    let mut filter =
        EnvFilter::try_new(directives.unwrap_or("info")).unwrap_or_else(|_| EnvFilter::new("info"));
    for cap in CAPPED_TARGETS {
        if let Ok(directive) = cap.parse::<Directive>() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

/// Installs the global subscriber. Calling it again (tests) is harmless.
pub fn init(format: LogFormat) {
    let directives = std::env::var("RUST_LOG").ok();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(directives.as_deref()))
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
