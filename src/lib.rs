//! Tenantry: a multi-tenant SaaS backend whose tenant isolation is enforced by PostgreSQL.
//!
//! The guided tour, outside in (nothing points upward):
//! - [`config`]: typed settings from the environment, validated once.
//! - [`telemetry`]: log subscriber set-up.
//! - [`request`]: what the current request knows about itself (its id, its caller).
//! - [`app`]: start-up (database, migrations, self-check), the HTTP server, shutdown.
//! - [`api`]: poem-openapi operations, the error envelope and the bearer scheme. No SQL.
//! - [`service`]: business rules and RBAC; opens one transaction per request and commits it.
//! - [`repo`]: one function per SQL file in `sql/queries/`, run inside a [`db::TenantTx`].
//! - [`db`]: the pool, migrations, the RLS self-check and the only way to run SQL.
//! - [`auth`]: JWT issuing and verification, argon2id password hashing.
//! - [`domain`]: validated newtypes (ids, emails, roles, cursors).
//! - [`error`]: [`error::AppError`] and the one SQLSTATE/constraint mapping.
//! - [`mail`]: the email transport, templates and the worker that sends the outbox.
//! - [`metrics`]: Prometheus metrics served at `/metrics`.
//! - [`retry`]: retrying with exponential backoff (start-up, conflicting transactions).
//! - [`webhooks`]: signing, the guarded HTTP client and the relay that delivers events.

pub mod api;
pub mod app;
pub mod auth;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod mail;
pub mod metrics;
pub(crate) mod repo;
pub(crate) mod request;
pub mod retry;
pub mod service;
pub mod telemetry;
pub mod webhooks;
