//! The HTTP API: one poem-openapi struct per tag, combined into one service whose spec is
//! served at `/openapi.json` and `/openapi.yaml` and browsable at `/docs`. No SQL here.

mod auth;
pub mod body;
mod context;
pub mod envelope;
mod me;
mod middleware;
mod ops;
mod org;
mod projects;
pub mod security;
mod users;

use poem::{Endpoint, EndpointExt, IntoEndpoint, Route};
use poem_openapi::{OpenApiService, Tags};

use crate::config::SpecFormat;
use crate::service::AppState;

pub use envelope::{ApiError, ErrorEnvelope};

#[derive(Tags)]
enum ApiTags {
    /// Sign-up and log-in: the only operations without a bearer token.
    Auth,
    /// The calling user.
    Me,
    /// The calling user's organization.
    Org,
    /// Members of the calling user's organization.
    Users,
    /// The organization's projects: the example business resource.
    Projects,
    /// Health and readiness probes for load balancers and orchestrators.
    Ops,
}

type Apis = (
    auth::AuthApi,
    me::MeApi,
    org::OrgApi,
    users::UsersApi,
    projects::ProjectsApi,
    ops::OpsApi,
);

fn service() -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            auth::AuthApi,
            me::MeApi,
            org::OrgApi,
            users::UsersApi,
            projects::ProjectsApi,
            ops::OpsApi,
        ),
        "Tenantry",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Multi-tenant SaaS API. Every organization's data is isolated by PostgreSQL row-level \
         security; the organization is always the one of the bearer token.\n\n\
         Errors share one envelope: `{\"error\": {\"code\", \"message\", \"request_id\", \
         \"details\"?}}`. Branch on `code`.",
    )
    .license("MIT")
}

/// The OpenAPI document, as `tenantry openapi` prints it and `openapi.yaml` stores it.
pub fn spec(format: SpecFormat) -> String {
    let service = service();
    match format {
        SpecFormat::Yaml => service.spec_yaml(),
        SpecFormat::Json => format!("{}\n", service.spec()),
    }
}

/// The whole HTTP application: API, spec, Swagger UI, and the middleware that gives every
/// response a request id and every error the envelope.
pub fn routes(
    state: AppState,
    body_limit: u64,
    request_timeout: std::time::Duration,
) -> impl Endpoint {
    let service = service();
    let ui = service.swagger_ui();
    let spec_json = service.spec_endpoint();
    let spec_yaml = service.spec_endpoint_yaml();
    let allowed = middleware::AllowedMethods::from_spec(&service.spec());
    let app = Route::new()
        .nest("/", service)
        .nest("/docs", ui)
        .at("/openapi.json", spec_json)
        .at("/openapi.yaml", spec_yaml)
        .data(state)
        .data(body::BodyLimit(body_limit))
        .into_endpoint();
    middleware::wrap(
        app,
        middleware::Limits {
            body_limit,
            request_timeout,
        },
        allowed,
    )
}
