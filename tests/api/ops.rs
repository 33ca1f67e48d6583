//! Probes, docs and the served spec.

use crate::support::TestApp;

#[tokio::test]
async fn health_and_readiness_answer_ok() {
    let app = TestApp::spawn().await;
    let health = app.get("/healthz").send().await;
    health.assert_status(200);
    assert_eq!(health.body["status"], "ok");
    app.get("/readyz").send().await.assert_status(200);
}

#[tokio::test]
async fn the_spec_and_swagger_ui_are_served_offline() {
    let app = TestApp::spawn().await;

    let json = app.get("/openapi.json").send().await;
    json.assert_status(200);
    assert_eq!(json.body["info"]["title"], "Tenantry");
    let yaml = app.get("/openapi.yaml").send().await;
    yaml.assert_status(200);
    assert_eq!(
        yaml.text,
        tenantry::api::spec(tenantry::config::SpecFormat::Yaml).expect("the spec")
    );
    let docs = app.get("/docs").send().await;
    docs.assert_status(200);
    assert!(docs.text.contains("swagger-ui"), "Swagger UI page");
    assert!(
        !docs.text.contains("://unpkg.com") && !docs.text.contains("://cdn."),
        "Swagger UI must not load assets from a CDN"
    );
}

#[tokio::test]
async fn swagger_ui_embeds_the_spec_that_openapi_json_serves() {
    let app = TestApp::spawn().await;
    let served = app.get("/openapi.json").send().await;
    served.assert_status(200);

    let docs = app.get("/docs").send().await;

    docs.assert_status(200);
    let start = docs
        .text
        .find("let spec = ")
        .expect("Swagger UI's page embeds a spec")
        + "let spec = ".len();
    let embedded: serde_json::Value = serde_json::Deserializer::from_str(&docs.text[start..])
        .into_iter()
        .next()
        .expect("a JSON value")
        .expect("valid JSON");
    assert_eq!(
        embedded, served.body,
        "/docs and /openapi.json serve different specs"
    );
    assert!(
        embedded["components"]["schemas"]["CreateProjectRequest"]["additionalProperties"] == false,
        "the embedded spec is the post-processed one"
    );
}
