//! Every error response, whatever produced it, is the envelope.

use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn unknown_routes_are_404_envelopes() {
    let app = TestApp::spawn().await;
    for path in ["/nope", "/v1", "/v1/users/a/b", "/v2/me"] {
        app.get(path).send().await.assert_error(404, "NOT_FOUND");
    }
}

#[tokio::test]
async fn wrong_methods_are_405_envelopes_with_allow() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;

    let resp = app
        .as_user(&owner)
        .request(reqwest::Method::PUT, "/v1/me")
        .send()
        .await;
    resp.assert_error(405, "METHOD_NOT_ALLOWED");
    assert_eq!(resp.header("allow"), Some("GET"));
    let resp = app
        .as_user(&owner)
        .request(
            reqwest::Method::PUT,
            &format!("/v1/users/{}", owner.user_id),
        )
        .send()
        .await;
    resp.assert_error(405, "METHOD_NOT_ALLOWED");
    assert_eq!(resp.header("allow"), Some("GET, PATCH, DELETE"));
}

#[tokio::test]
async fn oversized_bodies_are_413_with_or_without_content_length() {
    let app = TestApp::spawn().await;
    let big = format!(r#"{{"org_name": "{}"}}"#, "a".repeat(70_000));

    let declared = app
        .post("/v1/auth/signup")
        .raw("application/json", big.clone().into_bytes())
        .send()
        .await;
    declared.assert_error(413, "PAYLOAD_TOO_LARGE");

    // Chunked: no Content-Length, the limit applies while reading.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = big
        .into_bytes()
        .chunks(8192)
        .map(|c| Ok(c.to_vec()))
        .collect();
    let resp = app
        .http
        .post(app.url("/v1/auth/signup"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .expect("sent");
    let resp = crate::support::TestResponse::read(resp).await;
    resp.assert_error(413, "PAYLOAD_TOO_LARGE");
}

#[tokio::test]
async fn unreadable_bodies_are_400_415_or_422_envelopes() {
    let app = TestApp::spawn().await;

    app.post("/v1/auth/login")
        .raw("application/json", b"{\"org_slug\": ".to_vec())
        .send()
        .await
        .assert_error(400, "MALFORMED_JSON");
    app.post("/v1/auth/login")
        .raw("text/plain", b"hello".to_vec())
        .send()
        .await
        .assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
    app.post("/v1/auth/login")
        .send()
        .await
        .assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
    let array = app.post("/v1/auth/login").json(json!([1, 2])).send().await;
    array.assert_error(422, "VALIDATION_FAILED");
    let wrong_type = app
        .post("/v1/auth/login")
        .json(json!({"org_slug": 42, "email": "a@b.c", "password": "x"}))
        .send()
        .await;
    wrong_type.assert_error(422, "VALIDATION_FAILED");
    assert_eq!(wrong_type.detail_fields(), ["org_slug"]);
    let missing = app
        .post("/v1/auth/login")
        .json(json!({"org_slug": "acme", "password": "x"}))
        .send()
        .await;
    missing.assert_error(422, "VALIDATION_FAILED");
    assert_eq!(missing.detail_fields(), ["email"]);
}

#[tokio::test]
async fn a_malformed_path_id_names_the_parameter() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;

    let resp = app.as_user(&owner).get("/v1/users/not-a-uuid").send().await;

    resp.assert_error(422, "VALIDATION_FAILED");
    assert_eq!(resp.detail_fields(), ["id"]);
}

#[tokio::test]
async fn a_lost_database_is_a_503_envelope_not_a_500_or_a_hang() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    // Take the database away under the running service.
    let admin = crate::support::db::connect(&crate::support::db::admin_config()).await;
    admin
        .batch_execute(&format!("drop database \"{}\" with (force)", app.db.name))
        .await
        .expect("drop the database");

    let started = std::time::Instant::now();
    let resp = app.me(&owner).await;

    resp.assert_error(503, "DATABASE_UNAVAILABLE");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let ready = app.get("/readyz").send().await;
    ready.assert_error(503, "DATABASE_UNAVAILABLE");
    assert!(
        !resp.text.to_lowercase().contains("postgres"),
        "no internals: {}",
        resp.text
    );
}

#[tokio::test]
async fn a_well_formed_request_id_is_echoed() {
    let app = TestApp::spawn().await;

    let kept = app
        .get("/nope")
        .header("x-request-id", "trace-abc.123")
        .send()
        .await;

    kept.assert_error(404, "NOT_FOUND");
    assert_eq!(kept.header("x-request-id"), Some("trace-abc.123"));
}
