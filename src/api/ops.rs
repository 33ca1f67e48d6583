//! Probes: `/healthz` (the process is alive), `/readyz` (the database answers and is
//! migrated; on Citus, every worker answers too), and `/metrics` (Prometheus).

use std::time::Duration;

use poem::web::Data;
use poem_openapi::payload::{Json, PlainText};
use poem_openapi::{ApiResponse, Object, OpenApi};
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use super::envelope::ApiError;
use super::{ApiTags, MetricsToken};
use crate::error::AppError;
use crate::metrics::METRICS;
use crate::service::AppState;

/// How long readiness waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

pub(crate) struct OpsApi;

/// Probe result.
#[derive(Debug, Object)]
#[oai(rename = "ProbeStatus")]
pub(crate) struct StatusDto {
    /// Always `ok` when the probe succeeds.
    status: String,
}

#[derive(Debug, ApiResponse)]
pub(crate) enum MetricsResponse {
    /// The metrics, in the OpenMetrics text format.
    #[oai(status = 200)]
    Ok(PlainText<String>),
}

#[derive(Debug, ApiResponse)]
pub(crate) enum ProbeResponse {
    /// The probe succeeded.
    #[oai(status = 200)]
    Ok(Json<StatusDto>),
}

fn ok() -> ProbeResponse {
    ProbeResponse::Ok(Json(StatusDto {
        status: "ok".into(),
    }))
}

#[OpenApi(tag = "ApiTags::Ops")]
impl OpsApi {
    /// Liveness probe
    ///
    /// Answers 200 while the process runs; touches nothing else.
    #[oai(path = "/healthz", method = "get", operation_id = "healthz")]
    async fn healthz(&self) -> ProbeResponse {
        ok()
    }

    /// Readiness probe
    ///
    /// Answers 200 when the database responds within two seconds and has every migration this
    /// build expects (and, on a Citus cluster, the coordinator reaches every worker); 503
    /// `DATABASE_UNAVAILABLE` or `MIGRATIONS_PENDING` otherwise.
    #[oai(path = "/readyz", method = "get", operation_id = "readyz")]
    async fn readyz(&self, state: Data<&AppState>) -> Result<ProbeResponse, ApiError> {
        match tokio::time::timeout(READY_TIMEOUT, state.db.readiness()).await {
            Ok(Ok(())) => Ok(ok()),
            Ok(Err(err)) => Err(err.into()),
            Err(_) => Err(AppError::database_unavailable("readiness check timed out").into()),
        }
    }

    /// Prometheus metrics
    ///
    /// Request counts and latencies by route template and status, database pool figures,
    /// transaction durations, log-in outcomes and the argon2 queue, in the OpenMetrics text
    /// format. When `TENANTRY_METRICS_TOKEN` is set, it must be sent as a bearer token.
    #[oai(path = "/metrics", method = "get", operation_id = "metrics")]
    async fn metrics(
        &self,
        state: Data<&AppState>,
        token: Data<&MetricsToken>,
        req: &poem::Request,
    ) -> Result<MetricsResponse, ApiError> {
        if let Some(expected) = &token.0.0 {
            let presented = req
                .headers()
                .get(poem::http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "));
            // Constant-time: timing does not reveal how much of a guess was right.
            let matches = presented.is_some_and(|token| {
                bool::from(token.as_bytes().ct_eq(expected.expose_secret().as_bytes()))
            });
            if !matches {
                return Err(AppError::Unauthenticated {
                    code: "UNAUTHENTICATED",
                    message: "the metrics token is required",
                }
                .into());
            }
        }
        Ok(MetricsResponse::Ok(PlainText(
            METRICS.render(state.db.pool_status()),
        )))
    }
}
