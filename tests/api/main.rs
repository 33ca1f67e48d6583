//! The integration suite: one binary, one module per feature. Every test runs the real
//! service against its own clone of a migrated PostgreSQL template database (on a Citus
//! cluster with `TENANTRY_TEST_CITUS=1`: see `support/db.rs` and `scripts/citus`).

mod support;

mod auth;
mod citus;
mod consistency;
mod cross_tenant;
mod distribution;
mod errors;
mod explain;
mod faults;
mod isolation;
mod login_hardening;
mod openapi_drift;
mod operability;
mod ops;
mod pool_leak;
mod projects;
mod retention;
mod round_trips;
mod schema;
mod sessions;
mod tokens;
mod users;
