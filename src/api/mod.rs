//! The HTTP API: one poem-openapi struct per tag, combined into one service whose spec is
//! served at `/openapi.json` and `/openapi.yaml` and browsable at `/docs`. No SQL here.

mod api_keys;
mod auth;
pub mod body;
mod conditional;
pub mod envelope;
mod events;
mod headers;
mod invitations;
mod me;
mod middleware;
mod ops;
mod org;
mod projects;
pub mod security;
mod text;
mod users;
mod webhooks;

use poem::endpoint::make_sync;
use poem::web::Html;
use poem::{Endpoint, EndpointExt, IntoEndpoint, IntoResponse, Route};
use poem_openapi::{OpenApiService, Tags};
use secrecy::SecretString;

use crate::config::SpecFormat;
use crate::service::AppState;

pub use envelope::{ApiError, ErrorEnvelope};

#[derive(Tags)]
enum ApiTags {
    /// Sign-up, log-in, password reset and email verification: the operations without a bearer
    /// token (access token or API key), with accepting an invitation.
    Auth,
    /// The caller: a user (access token) or an API key.
    Me,
    /// The calling user's organization.
    Org,
    /// Members of the calling user's organization.
    Users,
    /// The organization's projects: the example business resource.
    Projects,
    /// API keys: machine access to the organization, without a person's password.
    ApiKeys,
    /// Invitations: people join the organization through a link sent by email.
    Invitations,
    /// Webhooks: the organization's events POSTed to its endpoints, signed per Standard
    /// Webhooks.
    Webhooks,
    /// The organization's events: every change, in commit order (audit log and outbox).
    Events,
    /// Health and readiness probes for load balancers and orchestrators.
    Ops,
}

/// The APIs, one per tag, listed once: as the service's type and as its value.
macro_rules! apis {
    ($($api:path),* $(,)?) => {
        type Apis = ($($api,)*);

        fn service() -> OpenApiService<Apis, ()> {
            OpenApiService::new(($($api,)*), "Tenantry", env!("CARGO_PKG_VERSION"))
                .description(DESCRIPTION)
                .license("MIT")
        }
    };
}

apis!(
    auth::AuthApi,
    me::MeApi,
    org::OrgApi,
    users::UsersApi,
    projects::ProjectsApi,
    api_keys::ApiKeysApi,
    invitations::InvitationsApi,
    webhooks::WebhooksApi,
    events::EventsApi,
    ops::OpsApi,
);

const DESCRIPTION: &str = "Multi-tenant SaaS API. Every organization's data is isolated by \
     PostgreSQL row-level security; the organization is always the one of the bearer token.\n\n\
     Errors share one envelope: `{\"error\": {\"code\", \"message\", \"request_id\", \
     \"details\"?}}`. Branch on `code`.";

/// The spec could not be produced (a bug: the document is built from the code alone).
#[derive(Debug, thiserror::Error)]
#[error("cannot produce the OpenAPI document: {0}")]
pub struct SpecError(String);

/// The OpenAPI document, as served and as `openapi.yaml` stores it: poem-openapi's document
/// with what it cannot express added. Request bodies reject unknown properties
/// (`deny_unknown_fields`), so their schemas say `additionalProperties: false`.
fn document() -> Result<serde_json::Value, SpecError> {
    let mut doc: serde_json::Value =
        serde_json::from_str(&service().spec()).map_err(|err| SpecError(err.to_string()))?;
    add_request_id_header(&mut doc);
    add_links(&mut doc);
    let mut request_schemas = Vec::new();
    if let Some(paths) = doc.get("paths").and_then(|p| p.as_object()) {
        for item in paths.values().filter_map(|i| i.as_object()) {
            for operation in item.values() {
                let reference = operation
                    .pointer("/requestBody/content/application~1json/schema/$ref")
                    .and_then(|r| r.as_str());
                if let Some(name) = reference.and_then(|r| r.strip_prefix("#/components/schemas/"))
                {
                    request_schemas.push(name.to_owned());
                }
            }
        }
    }
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(|s| s.as_object_mut())
    {
        for (name, schema) in schemas.iter_mut() {
            let Some(schema) = schema.as_object_mut() else {
                continue;
            };
            // A described reference: `allOf: [{$ref}, {description}]` becomes a plain `$ref`
            // (with its description beside it), which every client generator understands.
            if let Some(properties) = schema.get_mut("properties").and_then(|p| p.as_object_mut()) {
                for property in properties.values_mut() {
                    let reference = property
                        .get("allOf")
                        .and_then(|a| a.as_array())
                        .filter(|a| a.len() <= 2)
                        .and_then(|a| a.first())
                        .and_then(|first| first.get("$ref"))
                        .cloned();
                    if let (Some(reference), Some(object)) = (reference, property.as_object_mut()) {
                        object.remove("allOf");
                        object.insert("$ref".into(), reference);
                    }
                }
            }
            if request_schemas.contains(name) {
                schema.insert(
                    "additionalProperties".into(),
                    serde_json::Value::Bool(false),
                );
                if let Some(example) = request_example(name) {
                    schema.insert("example".into(), example);
                }
                continue;
            }
            // Responses: an optional field is present as `null` when it has no value
            // (`next_cursor` on the last page, `created_by` of seeded rows, ...).
            let required: Vec<String> = schema
                .get("required")
                .and_then(|r| r.as_array())
                .map(|r| {
                    r.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            if let Some(properties) = schema.get_mut("properties").and_then(|p| p.as_object_mut()) {
                for (field, property) in properties.iter_mut() {
                    if let Some(property) = property.as_object_mut()
                        && !required.contains(field)
                        && !property.contains_key("$ref")
                    {
                        property.insert("nullable".into(), serde_json::Value::Bool(true));
                    }
                }
            }
        }
    }
    Ok(doc)
}

/// The middleware sends `X-Request-Id` on every response, so every response of the spec
/// declares it, first among its headers; one place instead of a `response_header` on each
/// API (a new one would be free to forget it).
fn add_request_id_header(doc: &mut serde_json::Value) {
    let header = serde_json::json!({
        "description": "The request's id (the client's own when well-formed); also in every error body and log line.",
        "required": true,
        "deprecated": false,
        "schema": {"type": "string"},
    });
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else {
        return;
    };
    let operations = paths
        .values_mut()
        .filter_map(|item| item.as_object_mut())
        .flat_map(|item| item.values_mut());
    for operation in operations {
        let Some(responses) = operation
            .get_mut("responses")
            .and_then(|r| r.as_object_mut())
        else {
            continue;
        };
        for response in responses.values_mut().filter_map(|r| r.as_object_mut()) {
            let mut headers = serde_json::Map::new();
            headers.insert(
                middleware::REQUEST_ID_HEADER.to_ascii_uppercase(),
                header.clone(),
            );
            if let Some(serde_json::Value::Object(own)) = response.remove("headers") {
                headers.extend(own);
            }
            response.insert("headers".to_owned(), headers.into());
        }
    }
}

/// OpenAPI links from each create to the operations on what it created, so that clients and
/// stateful testers can follow them (`id` comes from the 201 body). Restore is not linked: a
/// delete-then-restore-then-read sequence is correct, but stateful testers take any read
/// after a delete for a resource that should be gone.
fn add_links(doc: &mut serde_json::Value) {
    for (path, resource, operations) in [
        (
            "/v1/projects",
            "project",
            ["getProject", "updateProject", "deleteProject"],
        ),
        ("/v1/users", "user", ["getUser", "updateUser", "deleteUser"]),
    ] {
        let pointer = format!("/paths/{}/post/responses/201", path.replace('/', "~1"));
        let Some(created) = doc.pointer_mut(&pointer).and_then(|r| r.as_object_mut()) else {
            continue;
        };
        let links: serde_json::Map<String, serde_json::Value> = operations
            .iter()
            .map(|operation| {
                (
                    (*operation).to_owned(),
                    serde_json::json!({
                        "operationId": operation,
                        "parameters": {"id": "$response.body#/id"},
                        "description": format!("The {resource} just created."),
                    }),
                )
            })
            .collect();
        created.insert("links".into(), serde_json::Value::Object(links));
    }
}

/// A valid example of each request body, for the spec's readers and Swagger UI's "Try it out".
fn request_example(schema: &str) -> Option<serde_json::Value> {
    use serde_json::json;
    Some(match schema {
        "SignupRequest" => json!({
            "org_name": "Acme Inc.", "org_slug": "acme", "email": "alice@acme.test",
            "display_name": "Alice", "password": "correct horse battery"
        }),
        "LoginRequest" => json!({
            "org_slug": "acme", "email": "alice@acme.test", "password": "correct horse battery"
        }),
        "RefreshRequest" => json!({
            "refresh_token": "AZLPi2Wcd7iSlxJbzgEl2gGUz6V4TXeUrZbk8f0Mv1r0VUgcyvNlqOQxKzKhC8eRX0WvTtq6GhBeAp7I3S6tWg"
        }),
        "CreateUserRequest" => json!({
            "email": "bob@acme.test", "display_name": "Bob", "password": "bobs password 1",
            "role": "member"
        }),
        "UpdateUserRequest" => json!({"display_name": "Robert"}),
        "CreateProjectRequest" => json!({
            "name": "Apollo", "description": "To the moon.", "status": "active"
        }),
        "UpdateProjectRequest" => json!({"status": "archived"}),
        "UpdateOrganizationRequest" => json!({"name": "Acme Corporation"}),
        "CreateApiKeyRequest" => json!({"name": "CI deploys", "role": "member"}),
        _ => return None,
    })
}

/// The OpenAPI document, as `tenantry openapi` prints it and `openapi.yaml` stores it.
pub fn spec(format: SpecFormat) -> Result<String, SpecError> {
    let doc = document()?;
    let text = match format {
        SpecFormat::Yaml => serde_norway::to_string(&doc).map_err(|err| err.to_string()),
        SpecFormat::Json => serde_json::to_string_pretty(&doc)
            .map(|json| format!("{json}\n"))
            .map_err(|err| err.to_string()),
    };
    text.map_err(SpecError)
}

/// Swagger UI's page with `document` embedded instead of poem-openapi's own spec. The page
/// embeds the spec as a JavaScript literal; a page that does not contain it where expected is
/// an error, not a page that silently serves another spec.
fn swagger_ui(service: &OpenApiService<Apis, ()>, document: &str) -> Result<String, SpecError> {
    let page = service.swagger_ui_html();
    let own = service.spec();
    if page.matches(own.as_str()).count() != 1 {
        return Err(SpecError(
            "Swagger UI's page does not embed the spec exactly once".into(),
        ));
    }
    Ok(page.replacen(own.as_str(), document, 1))
}

/// The HTTP layer's own settings.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// The largest request body, in bytes.
    pub body_limit: u64,
    /// A request still running after this is abandoned and answered 503.
    pub request_timeout: std::time::Duration,
    /// When set, `GET /metrics` requires it as a bearer token.
    pub metrics_token: Option<SecretString>,
}

/// The bearer token `GET /metrics` requires, if any (request data).
#[derive(Debug, Clone)]
pub(crate) struct MetricsToken(pub Option<SecretString>);

/// The whole HTTP application: API, spec, Swagger UI, and the middleware that gives every
/// response a request id and every error the envelope.
pub fn routes(state: AppState, http: HttpSettings) -> Result<impl Endpoint, SpecError> {
    let HttpSettings {
        body_limit,
        request_timeout,
        metrics_token,
    } = http;
    let service = service();
    let json = spec(SpecFormat::Json)?;
    let yaml = spec(SpecFormat::Yaml)?;
    // Swagger UI embeds the document: give it the same one the spec endpoints serve.
    let compact = document()
        .and_then(|doc| serde_json::to_string(&doc).map_err(|err| SpecError(err.to_string())))?;
    let ui = swagger_ui(&service, &compact)?;
    let allowed = middleware::AllowedMethods::from_spec(&json);
    let headers = headers::HeaderRules::from_spec(&json);
    let labels = middleware::LabelSets::from_spec(&json);
    let app = Route::new()
        .nest("/", service)
        .at("/docs", make_sync(move |_| Html(ui.clone())))
        .at(
            "/openapi.json",
            make_sync(move |_| json.clone().with_content_type("application/json")),
        )
        .at(
            "/openapi.yaml",
            make_sync(move |_| yaml.clone().with_content_type("application/yaml")),
        )
        .data(state)
        .data(MetricsToken(metrics_token))
        .data(body::BodyLimit(body_limit))
        .into_endpoint();
    Ok(middleware::wrap(
        app,
        middleware::Limits {
            body_limit,
            request_timeout,
        },
        allowed,
        headers,
        labels,
    ))
}
