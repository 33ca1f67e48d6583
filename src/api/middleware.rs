//! The outermost layer of every request: request id (accepted when well-formed, else made),
//! the headers the service reads (400 when one cannot be read), body-size limit from
//! `Content-Length`, panic capture, the error envelope for every error that was not produced
//! by an operation, and one log line per request.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::middleware::CatchPanic;
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response};
use poem_openapi::error::{
    AuthorizationError, ContentTypeError, ParseParamError, ParsePathError, ParseRequestPayloadError,
};

use tracing::Instrument;

use super::envelope::{ApiError, render};
use super::headers::HeaderRules;
use crate::error::{AppError, FieldError};
use crate::metrics::{METRICS, RequestLabels, StatusLabel};
use crate::request::{RequestContext, scope};

pub(crate) const REQUEST_ID_HEADER: &str = "x-request-id";
const MAX_REQUEST_ID_LEN: usize = 128;

/// Which methods each path template of the spec accepts, for the `Allow` header of 405s.
#[derive(Debug, Clone, Default)]
pub(crate) struct AllowedMethods(Arc<Vec<Template>>);

/// One path template of the spec: its text, its segments and the methods it accepts.
#[derive(Debug)]
struct Template {
    text: String,
    segments: Vec<String>,
    allow: String,
}

impl AllowedMethods {
    pub(crate) fn from_spec(spec_json: &str) -> Self {
        let Ok(spec) = serde_json::from_str::<serde_json::Value>(spec_json) else {
            return Self::default();
        };
        let mut templates = BTreeMap::new();
        if let Some(paths) = spec.get("paths").and_then(|p| p.as_object()) {
            for (path, item) in paths {
                let methods: Vec<String> = item
                    .as_object()
                    .map(|ops| ops.keys().map(|m| m.to_uppercase()).collect())
                    .unwrap_or_default();
                let segments = path.split('/').map(str::to_owned).collect();
                templates.insert(
                    path.clone(),
                    Template {
                        text: path.clone(),
                        segments,
                        allow: methods.join(", "),
                    },
                );
            }
        }
        Self(Arc::new(templates.into_values().collect()))
    }

    fn template(&self, path: &str) -> Option<&Template> {
        let segments: Vec<&str> = path.split('/').collect();
        self.0.iter().find(|template| {
            template.segments.len() == segments.len()
                && template.segments.iter().zip(&segments).all(|(t, s)| {
                    (t.starts_with('{') && t.ends_with('}') && !s.is_empty()) || t == s
                })
        })
    }

    fn for_path(&self, path: &str) -> Option<&str> {
        self.template(path).map(|t| t.allow.as_str())
    }

    /// The route of `path` for logs and metric labels: its spec template, one of the fixed
    /// non-API routes, or `unmatched` (raw paths would make label cardinality unbounded).
    fn route(&self, path: &str) -> String {
        if let Some(template) = self.template(path) {
            return template.text.clone();
        }
        match path {
            "/openapi.json" | "/openapi.yaml" => path.to_owned(),
            p if p == "/docs" || p.starts_with("/docs/") => "/docs".to_owned(),
            _ => "unmatched".to_owned(),
        }
    }

    /// poem-openapi reports path parameters as `param0`, `param1`, ...: give them their
    /// names from the spec's path template.
    fn path_param_name(&self, path: &str, internal: &str) -> Option<String> {
        let index: usize = internal.strip_prefix("param")?.parse().ok()?;
        self.template(path)?
            .segments
            .iter()
            .filter_map(|t| t.strip_prefix('{').and_then(|t| t.strip_suffix('}')))
            .nth(index)
            .map(str::to_owned)
    }
}

/// The closed sets metric labels come from (see [`crate::metrics`]).
#[derive(Debug, Clone, Default)]
pub(crate) struct LabelSets {
    /// Every status the spec declares, plus routing's own (404, 405).
    statuses: Arc<BTreeSet<u16>>,
}

impl LabelSets {
    pub(crate) fn from_spec(spec_json: &str) -> Self {
        let spec: serde_json::Value = serde_json::from_str(spec_json).unwrap_or_default();
        let declared = spec
            .get("paths")
            .and_then(|p| p.as_object())
            .into_iter()
            .flat_map(|paths| paths.values())
            .filter_map(|item| item.as_object())
            .flat_map(|item| item.values())
            .filter_map(|operation| operation.get("responses")?.as_object())
            .flat_map(|responses| responses.keys())
            .filter_map(|status| status.parse::<u16>().ok());
        let routing = [StatusCode::NOT_FOUND, StatusCode::METHOD_NOT_ALLOWED].map(|s| s.as_u16());
        Self {
            statuses: Arc::new(declared.chain(routing).collect()),
        }
    }

    /// The method's name when it is one HTTP defines, else `other` (a client may invent any
    /// number of methods).
    fn method(method: &Method) -> &'static str {
        match *method {
            Method::GET => "GET",
            Method::HEAD => "HEAD",
            Method::POST => "POST",
            Method::PUT => "PUT",
            Method::PATCH => "PATCH",
            Method::DELETE => "DELETE",
            Method::OPTIONS => "OPTIONS",
            Method::TRACE => "TRACE",
            Method::CONNECT => "CONNECT",
            _ => "other",
        }
    }

    fn status(&self, status: StatusCode) -> StatusLabel {
        let code = status.as_u16();
        StatusLabel(self.statuses.contains(&code).then_some(code))
    }
}

/// Limits applied to every request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub body_limit: u64,
    pub request_timeout: Duration,
}

pub(crate) fn wrap(
    app: impl Endpoint + 'static,
    limits: Limits,
    allowed: AllowedMethods,
    headers: HeaderRules,
    labels: LabelSets,
) -> impl Endpoint<Output = Response> {
    app.with(CatchPanic::new().with_handler(panic_response))
        .around(move |next, req| {
            let (allowed, headers, labels) = (allowed.clone(), headers.clone(), labels.clone());
            async move { Ok(handle(next, req, limits, &allowed, &headers, &labels).await) }
        })
}

async fn handle<E: Endpoint>(
    next: Arc<E>,
    req: Request,
    limits: Limits,
    allowed: &AllowedMethods,
    headers: &HeaderRules,
    labels: &LabelSets,
) -> Response {
    let started = Instant::now();
    // A malformed id is answered 400 below, under a fresh id.
    let request_id: Arc<str> = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|id| is_valid_request_id(id))
        .map_or_else(|| uuid::Uuid::now_v7().to_string().into(), Into::into);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let route = allowed.route(&path);
    let ctx = Arc::new(RequestContext::new(request_id.clone()));
    let span = tracing::info_span!("request", request_id = %request_id);

    let work = async {
        if let Err(unreadable) = headers.check(req.headers()) {
            return ApiError::from(unreadable).into_response();
        }
        if declared_length(&req).is_some_and(|len| len > limits.body_limit) {
            return ApiError::from(AppError::PayloadTooLarge {
                limit: limits.body_limit,
            })
            .into_response();
        }
        let call = next.call(req);
        match tokio::time::timeout(limits.request_timeout, call).await {
            Ok(Ok(resp)) => {
                let resp = resp.into_response();
                if resp.status().is_client_error() || resp.status().is_server_error() {
                    ensure_envelope(resp)
                } else {
                    resp
                }
            }
            Ok(Err(err)) => error_response(err, &method, &path, allowed, headers),
            // The handler's future is dropped: its transaction rolls back.
            Err(_) => ApiError::from(AppError::Unavailable {
                code: "TIMEOUT",
                source: Some("the request took longer than the configured timeout".into()),
            })
            .into_response(),
        }
    };
    let mut response = scope(ctx.clone(), work.instrument(span.clone())).await;

    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    let labels = RequestLabels {
        method: LabelSets::method(&method),
        route,
        status: labels.status(response.status()),
    };
    METRICS.http_requests.get_or_create(&labels).inc();
    METRICS
        .http_duration
        .get_or_create(&labels)
        .observe(elapsed.as_secs_f64());
    let (org_id, actor) = ctx.principal().unzip();
    // The method as labelled: an invented one (of any length) is `other` in logs too.
    tracing::info!(
        target: "tenantry::http",
        parent: &span,
        method = labels.method,
        route = %labels.route,
        status,
        latency_ms = elapsed.as_secs_f64() * 1000.0,
        org_id = org_id.map(tracing::field::display),
        actor_type = actor.map(|actor| actor.kind.as_str()),
        actor_id = actor.map(|actor| tracing::field::display(actor.id)),
        "request"
    );
    response
}

/// A panic in a handler becomes a generic 500 envelope; the panic message goes to the log
/// through the panic hook, never to the client.
fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::from(AppError::internal("a request handler panicked")).into_response()
}

fn declared_length(req: &Request) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// 1 to 128 characters from `[A-Za-z0-9._:-]`: safe to echo in headers, bodies and logs.
pub(crate) fn is_valid_request_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_REQUEST_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// An error response from somewhere that did not use the envelope (a plain-text 4xx/5xx) is
/// rewritten; envelope (JSON) responses pass unchanged.
fn ensure_envelope(resp: Response) -> Response {
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if is_json {
        return resp;
    }
    by_status(resp.status())
}

fn by_status(status: StatusCode) -> Response {
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("NOT_FOUND", "the requested resource was not found"),
        StatusCode::METHOD_NOT_ALLOWED => (
            "METHOD_NOT_ALLOWED",
            "this method is not allowed on this resource",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ("PAYLOAD_TOO_LARGE", "the request body is too large"),
        StatusCode::UNAUTHORIZED => ("UNAUTHENTICATED", "a bearer token is required"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("UNSUPPORTED_MEDIA_TYPE", "the request body must be JSON")
        }
        s if s.is_server_error() => ("INTERNAL_ERROR", "an unexpected error occurred"),
        _ => ("BAD_REQUEST", "the request is invalid"),
    };
    let status = if status.is_server_error() {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        status
    };
    render(status, code, message)
}

/// Every error raised outside an operation body, as the envelope.
fn error_response(
    err: poem::Error,
    method: &Method,
    path: &str,
    allowed: &AllowedMethods,
    headers: &HeaderRules,
) -> Response {
    if err.is_from_response() {
        // An operation's own ApiError: already an envelope.
        return ensure_envelope(err.into_response());
    }
    let err = match err.downcast::<AppError>() {
        Ok(app) => return ApiError::from(app).into_response(),
        Err(err) => err,
    };
    let app = if let Some(e) = err.downcast_ref::<ParseParamError>() {
        // A declared header that breaks its declared constraints cannot be read: 400, like
        // every unreadable header. Query parameters are input values: 422.
        Some(match headers.name_of(e.name) {
            Some(header) => AppError::invalid_header(header, header_reason(&e.reason)),
            None => AppError::Validation {
                details: vec![FieldError::new(e.name, param_reason(&e.reason))],
            },
        })
    } else if let Some(e) = err.downcast_ref::<ParsePathError>() {
        let name = allowed
            .path_param_name(path, e.name)
            .unwrap_or_else(|| e.name.to_owned());
        Some(AppError::Validation {
            details: vec![FieldError::new(name, param_reason(&e.reason))],
        })
    } else if err.is::<ContentTypeError>() {
        Some(AppError::UnsupportedMediaType)
    } else if let Some(e) = err.downcast_ref::<ParseRequestPayloadError>() {
        Some(AppError::BadRequest {
            code: "MALFORMED_JSON",
            message: e.reason.clone(),
            details: Vec::new(),
        })
    } else if err.is::<AuthorizationError>() {
        Some(AppError::Unauthenticated {
            code: "UNAUTHENTICATED",
            message: "a bearer token is required: send Authorization: Bearer <access token>",
        })
    } else {
        None
    };
    if let Some(app) = app {
        return ApiError::from(app).into_response();
    }
    let status = err.status();
    if status == StatusCode::METHOD_NOT_ALLOWED {
        let mut resp = by_status(status);
        if let Some(allow) = allowed.for_path(path)
            && let Ok(value) = HeaderValue::from_str(allow)
        {
            resp.headers_mut().insert(header::ALLOW, value);
        }
        return resp;
    }
    if status.is_server_error() {
        tracing::error!(%method, path, error = %err, "unhandled error");
    }
    by_status(status)
}

/// A header parameter's own message, without poem-openapi's type prefix
/// (`failed to parse "IfMatch": ...`).
fn header_reason(reason: &str) -> String {
    let reason = param_reason(reason);
    match reason.split_once("\": ") {
        Some((prefix, message)) if prefix.starts_with("failed to parse \"") => message.to_owned(),
        _ => reason,
    }
}

fn param_reason(reason: &str) -> String {
    reason
        .split(" (occurred while")
        .next()
        .unwrap_or(reason)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use poem::endpoint::make;

    use super::*;

    /// `endpoint` behind the middleware, with small limits and no spec.
    fn wrapped(endpoint: impl Endpoint + 'static) -> impl Endpoint<Output = Response> {
        wrap(
            endpoint,
            Limits {
                body_limit: 1024,
                request_timeout: Duration::from_secs(5),
            },
            AllowedMethods::default(),
            HeaderRules::default(),
            LabelSets::default(),
        )
    }

    async fn body_of(resp: Response) -> (StatusCode, serde_json::Value, String) {
        let status = resp.status();
        let header_id = resp
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = resp.into_body().into_bytes().await.expect("body");
        let json = serde_json::from_slice(&bytes).expect("a JSON body");
        (status, json, header_id)
    }

    #[tokio::test]
    async fn a_panicking_handler_gives_a_generic_500_envelope() {
        let app = wrapped(make(|_req| async move {
            if true {
                panic!("secret detail: password=hunter2");
            }
            "unreachable"
        }));
        let resp = app.call(Request::default()).await.expect("a response");
        let (status, body, header_id) = body_of(resp).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["error"]["code"], "INTERNAL_ERROR");
        assert_eq!(body["error"]["request_id"], header_id.as_str());
        assert!(!body.to_string().contains("hunter2"));
    }

    #[tokio::test]
    async fn an_internal_error_reveals_nothing_of_its_source() {
        let app = wrapped(make(|_req| async move {
            Err::<String, _>(poem::Error::new(
                AppError::internal("select * from app.users where password_hash = 'x'"),
                StatusCode::INTERNAL_SERVER_ERROR,
            ))
        }));
        let resp = app.call(Request::default()).await.expect("a response");
        let (status, body, _) = body_of(resp).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["error"]["message"], "an unexpected error occurred");
        assert!(!body.to_string().contains("select"));
    }

    #[test]
    fn request_ids_are_bounded_and_safe() {
        assert!(is_valid_request_id("abc-123_x.y:z"));
        assert!(!is_valid_request_id(""));
        assert!(!is_valid_request_id(&"a".repeat(129)));
        assert!(!is_valid_request_id("a b"));
        assert!(!is_valid_request_id("a\r\nSet-Cookie: x"));
        assert!(!is_valid_request_id("<script>"));
    }

    #[test]
    fn metric_labels_come_from_closed_sets() {
        let spec = r#"{"paths": {"/v1/me": {"get": {"responses": {"200": {}, "401": {}}}}}}"#;
        let labels = LabelSets::from_spec(spec);
        assert_eq!(LabelSets::method(&Method::PATCH), "PATCH");
        let invented = Method::from_bytes(b"INVENTED").expect("a method");
        assert_eq!(LabelSets::method(&invented), "other");
        assert_eq!(labels.status(StatusCode::OK), StatusLabel(Some(200)));
        assert_eq!(labels.status(StatusCode::NOT_FOUND), StatusLabel(Some(404)));
        assert_eq!(labels.status(StatusCode::IM_A_TEAPOT), StatusLabel(None));
        let allowed = AllowedMethods::from_spec(spec);
        assert_eq!(allowed.route("/v1/me"), "/v1/me");
        assert_eq!(allowed.route("/v1/me/x/y"), "unmatched");
        assert_eq!(allowed.route("/docs/swagger.js"), "/docs");
    }

    #[test]
    fn path_templates_give_allowed_methods() {
        let spec = r#"{"paths": {"/v1/users/{id}": {"get": {}, "patch": {}, "delete": {}}, "/v1/me": {"get": {}}}}"#;
        let allowed = AllowedMethods::from_spec(spec);
        assert_eq!(
            allowed.for_path("/v1/users/123"),
            Some("GET, PATCH, DELETE")
        );
        assert_eq!(allowed.for_path("/v1/me"), Some("GET"));
        assert_eq!(allowed.for_path("/v1/nope"), None);
        assert_eq!(
            allowed
                .path_param_name("/v1/users/123", "param0")
                .as_deref(),
            Some("id")
        );
    }
}
