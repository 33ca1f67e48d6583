//! The integration suite: one binary, one module per feature. Every test runs the real
//! service against its own clone of a migrated PostgreSQL template database (on a Citus
//! cluster with `TENANTRY_TEST_CITUS=1`: see `support/db.rs` and `scripts/citus`).

mod support;

mod abuse_limits;
mod api_keys;
mod auth;
mod authorize_first;
mod citus;
mod connection_hygiene;
mod consistency;
mod cross_tenant;
mod deploy;
mod distribution;
mod email;
mod errors;
mod events;
mod explain;
mod faults;
mod headers;
mod http_layer;
mod isolation;
mod login_hardening;
mod metric_labels;
mod name_keys;
mod openapi_drift;
mod operability;
mod ops;
mod pool_leak;
mod projects;
mod reauthentication;
mod removal;
mod retention;
mod round_trips;
mod schema;
mod sessions;
mod spec_rules;
mod text_rules;
mod tokens;
mod users;
mod webhooks;
