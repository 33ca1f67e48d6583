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
        tenantry::api::spec(tenantry::config::SpecFormat::Yaml)
    );
    let docs = app.get("/docs").send().await;
    docs.assert_status(200);
    assert!(docs.text.contains("swagger-ui"), "Swagger UI page");
    assert!(
        !docs.text.contains("://unpkg.com") && !docs.text.contains("://cdn."),
        "Swagger UI must not load assets from a CDN"
    );
}
