//! Probes: `/healthz` (the process is alive) and `/readyz` (the database answers).

use std::time::Duration;

use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use super::ApiTags;
use super::envelope::ApiError;
use crate::error::AppError;
use crate::service::AppState;

/// How long readiness waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

pub(crate) struct OpsApi;

/// Probe result.
#[derive(Debug, Object)]
pub(crate) struct StatusDto {
    /// Always `ok` when the probe succeeds.
    status: String,
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
    /// Answers 200 when a pooled database connection responds within two seconds, 503
    /// `DATABASE_UNAVAILABLE` otherwise.
    #[oai(path = "/readyz", method = "get", operation_id = "readyz")]
    async fn readyz(&self, state: Data<&AppState>) -> Result<ProbeResponse, ApiError> {
        match tokio::time::timeout(READY_TIMEOUT, state.db.ping()).await {
            Ok(Ok(())) => Ok(ok()),
            Ok(Err(err)) => Err(err.into()),
            Err(_) => Err(AppError::database_unavailable("readiness check timed out").into()),
        }
    }
}
