//! Headers the API reads fail closed: a value that is present but cannot be parsed (bytes
//! outside visible ASCII, the wrong syntax, or the header sent twice) is 400 `INVALID_HEADER`
//! with `details` naming the header. It is never read as if it were absent.

use serde_json::{Value, json};

use crate::support::{Member, TestApp, TestResponse};

/// `"1"` with a byte that is not UTF-8 inside: obs-text, which HTTP carries.
const NON_UTF8_TAG: &[u8] = b"\"1\xff\"";

#[track_caller]
fn assert_invalid_header(resp: &TestResponse, header: &str) {
    resp.assert_error(400, "INVALID_HEADER");
    assert_eq!(resp.detail_fields(), [header], "body: {}", resp.text);
}

/// A user and a project of `owner`'s organization, each changed once (version 2), so that a
/// precondition read as absent would apply a change to a version the client never saw.
async fn moved_on(app: &TestApp, owner: &Member) -> (String, String) {
    let bob = app.add_user(owner, "bob@acme.test", "member").await;
    let user = format!("/v1/users/{}", bob.user_id);
    app.as_user(owner)
        .patch(&user)
        .json(json!({"display_name": "Bob 2"}))
        .send()
        .await
        .assert_status(200);
    let created = app
        .as_user(owner)
        .post("/v1/projects")
        .json(json!({"name": "Apollo"}))
        .send()
        .await;
    created.assert_status(201);
    let project = format!("/v1/projects/{}", created.str("/id"));
    app.as_user(owner)
        .patch(&project)
        .json(json!({"description": "changed once"}))
        .send()
        .await
        .assert_status(200);
    (user, project)
}

async fn current(app: &TestApp, owner: &Member, path: &str) -> Value {
    let resp = app.as_user(owner).get(path).send().await;
    resp.assert_status(200);
    resp.body
}

#[tokio::test]
async fn patch_and_delete_with_a_non_utf8_if_match_get_400_and_change_nothing() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let (user, project) = moved_on(&app, &owner).await;
    let before = [
        current(&app, &owner, &user).await,
        current(&app, &owner, &project).await,
    ];

    let attempts = [
        (
            reqwest::Method::PATCH,
            &user,
            json!({"display_name": "Mallory"}),
        ),
        (reqwest::Method::DELETE, &user, Value::Null),
        (
            reqwest::Method::PATCH,
            &project,
            json!({"name": "Hijacked"}),
        ),
        (reqwest::Method::DELETE, &project, Value::Null),
    ];
    for (method, path, body) in attempts {
        let mut req = app
            .as_user(&owner)
            .request(method.clone(), path)
            .header_bytes("if-match", NON_UTF8_TAG);
        if !body.is_null() {
            req = req.json(body);
        }
        let resp = req.send().await;
        assert_invalid_header(&resp, "If-Match");
    }

    let after = [
        current(&app, &owner, &user).await,
        current(&app, &owner, &project).await,
    ];
    assert_eq!(before, after, "nothing changed");
    assert_eq!(after[0]["version"], 2);
    assert_eq!(after[1]["version"], 2);
}

#[tokio::test]
async fn if_match_values_that_are_not_one_of_our_entity_tags_get_400_but_a_stale_one_412() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let (user, project) = moved_on(&app, &owner).await;

    for (path, change) in [
        (&user, json!({"display_name": "x"})),
        (&project, json!({"description": "x"})),
    ] {
        for value in [
            "7",
            "\"x\"",
            "\"\"",
            "W/",
            "\"1",
            "\"1\", \"2\"",
            "\"99999999999999999999\"",
        ] {
            let resp = app
                .as_user(&owner)
                .patch(path)
                .header("if-match", value)
                .json(change.clone())
                .send()
                .await;
            assert_invalid_header(&resp, "If-Match");
        }
        // Well-formed: a version that is not the current one is a failed precondition.
        app.as_user(&owner)
            .delete(path)
            .header("if-match", "\"1\"")
            .send()
            .await
            .assert_error(412, "PRECONDITION_FAILED");
    }
    assert_eq!(current(&app, &owner, &user).await["version"], 2);
    assert_eq!(current(&app, &owner, &project).await["version"], 2);
}

#[tokio::test]
async fn an_idempotency_key_that_cannot_be_read_gets_400_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let too_long = "k".repeat(256);
    let keys: [&[u8]; 3] = [b"key-\xff", b"", too_long.as_bytes()];

    for key in keys {
        let project = app
            .as_user(&owner)
            .post("/v1/projects")
            .header_bytes("idempotency-key", key)
            .json(json!({"name": "Apollo"}))
            .send()
            .await;
        assert_invalid_header(&project, "Idempotency-Key");
        let user = app
            .as_user(&owner)
            .post("/v1/users")
            .header_bytes("idempotency-key", key)
            .json(json!({"email": "new@acme.test", "display_name": "New", "password": "long enough 1"}))
            .send()
            .await;
        assert_invalid_header(&user, "Idempotency-Key");
    }

    let projects = app.as_user(&owner).get("/v1/projects").send().await;
    assert_eq!(projects.body["items"], json!([]), "no project was created");
    let users = app.as_user(&owner).get("/v1/users").send().await;
    assert_eq!(
        users.body["items"].as_array().map(Vec::len),
        Some(1),
        "only the owner exists"
    );
}

#[tokio::test]
async fn an_authorization_header_that_cannot_be_read_gets_400_not_401() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let mut non_ascii = format!("Bearer {}", owner.token).into_bytes();
    non_ascii.push(0xff);

    let resp = app
        .get("/v1/me")
        .header_bytes("authorization", &non_ascii)
        .send()
        .await;
    assert_invalid_header(&resp, "Authorization");
    for value in ["Bearer a b", "Bearer to=ken", "B@d scheme"] {
        let resp = app
            .get("/v1/me")
            .header("authorization", value)
            .send()
            .await;
        assert_invalid_header(&resp, "Authorization");
    }
    // Well-formed credentials that do not authenticate stay 401.
    app.get("/v1/me")
        .header("authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .assert_error(401, "UNAUTHENTICATED");
    app.get("/v1/me")
        .header("authorization", "Bearer not.a.token")
        .send()
        .await
        .assert_error(401, "TOKEN_INVALID");
}

#[tokio::test]
async fn a_content_type_that_cannot_be_read_gets_400_but_another_media_type_415() {
    let app = TestApp::spawn().await;
    let body = br#"{"org_slug": "acme", "email": "a@acme.test", "password": "whatever!"}"#;

    for value in [&b"application/json\xff"[..], b"application/", b"json"] {
        let resp = app
            .post("/v1/auth/login")
            .header_bytes("content-type", value)
            .raw_body(body.to_vec())
            .send()
            .await;
        assert_invalid_header(&resp, "Content-Type");
    }
    app.post("/v1/auth/login")
        .raw("text/plain", body.to_vec())
        .send()
        .await
        .assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
}

#[tokio::test]
async fn a_malformed_request_id_gets_400_answered_under_a_fresh_id() {
    let app = TestApp::spawn().await;
    let long = "x".repeat(129);
    let values: [&[u8]; 4] = [long.as_bytes(), b"a b", b"<script>", b"id-\xff"];

    for value in values {
        let resp = app
            .get("/healthz")
            .header_bytes("x-request-id", value)
            .send()
            .await;
        assert_invalid_header(&resp, "X-Request-Id");
        let fresh = resp.header("x-request-id").expect("a request id");
        assert!(
            uuid::Uuid::parse_str(fresh).is_ok(),
            "a fresh UUID: {fresh}"
        );
    }
    let kept = app
        .get("/healthz")
        .header("x-request-id", "trace-abc.123")
        .send()
        .await;
    kept.assert_status(200);
    assert_eq!(kept.header("x-request-id"), Some("trace-abc.123"));
}

#[tokio::test]
async fn a_user_agent_with_bytes_outside_visible_ascii_gets_400() {
    let app = TestApp::spawn().await;

    let resp = app
        .post("/v1/auth/signup")
        .header_bytes("user-agent", b"Mozilla/5.0 \xe9t\xe9")
        .json(
            json!({"org_name": "Acme", "org_slug": "acme", "email": "o@acme.test",
                     "display_name": "O", "password": "long enough 1"}),
        )
        .send()
        .await;

    assert_invalid_header(&resp, "User-Agent");
    app.login("acme", "o@acme.test", "long enough 1")
        .await
        .assert_error(401, "INVALID_CREDENTIALS");
}

#[tokio::test]
async fn a_header_the_api_reads_sent_twice_gets_400_naming_it() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let (_, project) = moved_on(&app, &owner).await;

    let twice_if_match = app
        .as_user(&owner)
        .patch(&project)
        .header("if-match", "\"2\"")
        .header("if-match", "\"1\"")
        .json(json!({"description": "x"}))
        .send()
        .await;
    assert_invalid_header(&twice_if_match, "If-Match");
    let twice_key = app
        .as_user(&owner)
        .post("/v1/projects")
        .header("idempotency-key", "a")
        .header("idempotency-key", "b")
        .json(json!({"name": "Twice"}))
        .send()
        .await;
    assert_invalid_header(&twice_key, "Idempotency-Key");
    let twice_auth = app
        .as_user(&owner)
        .get("/v1/me")
        .bearer(&owner.token)
        .send()
        .await;
    assert_invalid_header(&twice_auth, "Authorization");
    assert_eq!(current(&app, &owner, &project).await["version"], 2);
}
