//! Authorization comes before expensive work. The role that decides is the caller's role as
//! the database has it (read when the transaction enters the tenant context), and a caller
//! it does not allow is refused before any password is hashed and before any idempotency key
//! is looked up, so a refusal costs nothing and reveals nothing.

use serde_json::{Value, json};

use crate::support::process::ServiceProcess;
use crate::support::{PASSWORD, TestApp, TestDb, TestResponse};

/// Sends a JSON request to the child process.
async fn call(
    service: &ServiceProcess,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> TestResponse {
    let mut req = reqwest::Client::new()
        .request(method, service.url(path))
        .json(&body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    TestResponse::read(req.send().await.expect("request")).await
}

/// Password hashes and verifications the process has computed, from its `/metrics`.
async fn password_work(service: &ServiceProcess) -> u64 {
    let text = reqwest::get(service.url("/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let samples: Vec<u64> = text
        .lines()
        .filter(|l| l.starts_with("tenantry_password_hash_computations_total"))
        .filter_map(|l| l.rsplit(' ').next()?.parse().ok())
        .collect();
    assert!(!samples.is_empty(), "the counter is exported:\n{text}");
    samples.iter().sum()
}

#[tokio::test]
async fn a_member_adding_a_user_or_setting_anothers_password_is_refused_before_any_hashing() {
    let db = TestDb::new().await;
    let mut service = ServiceProcess::spawn(&db.url(), &[]);
    service.wait_ready().await;
    use reqwest::Method;
    let signup = call(
        &service,
        Method::POST,
        "/v1/auth/signup",
        None,
        json!({"org_name": "Acme", "org_slug": "acme", "email": "owner@acme.test",
               "display_name": "Owner", "password": PASSWORD}),
    )
    .await;
    signup.assert_status(201);
    let owner_token = signup.str("/access_token");
    let owner_id = signup.str("/user/id");
    call(
        &service,
        Method::POST,
        "/v1/users",
        Some(&owner_token),
        json!({"email": "m@acme.test", "display_name": "M", "password": PASSWORD}),
    )
    .await
    .assert_status(201);
    let login = call(
        &service,
        Method::POST,
        "/v1/auth/login",
        None,
        json!({"org_slug": "acme", "email": "m@acme.test", "password": PASSWORD}),
    )
    .await;
    login.assert_status(200);
    let member_token = login.str("/access_token");
    let before = password_work(&service).await;

    call(
        &service,
        Method::POST,
        "/v1/users",
        Some(&member_token),
        json!({"email": "x@acme.test", "display_name": "X", "password": PASSWORD}),
    )
    .await
    .assert_error(403, "FORBIDDEN");
    call(
        &service,
        Method::PATCH,
        &format!("/v1/users/{owner_id}"),
        Some(&member_token),
        json!({"password": "taken over 123"}),
    )
    .await
    .assert_error(403, "FORBIDDEN");

    assert_eq!(
        password_work(&service).await,
        before,
        "no password was hashed"
    );
    // The counter does count: the owner's add costs one hash.
    call(
        &service,
        Method::POST,
        "/v1/users",
        Some(&owner_token),
        json!({"email": "y@acme.test", "display_name": "Y", "password": PASSWORD}),
    )
    .await
    .assert_status(201);
    assert_eq!(password_work(&service).await, before + 1);
}

#[tokio::test]
async fn a_member_reusing_an_idempotency_key_to_add_a_user_gets_403_not_422() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let member = app.add_user(&owner, "m@acme.test", "member").await;
    let body = json!({"email": "once@acme.test", "display_name": "Once", "password": PASSWORD});
    app.as_user(&owner)
        .post("/v1/users")
        .header("idempotency-key", "k1")
        .json(body.clone())
        .send()
        .await
        .assert_status(201);

    let other_body = app
        .as_user(&member)
        .post("/v1/users")
        .header("idempotency-key", "k1")
        .json(json!({"email": "twice@acme.test", "display_name": "T", "password": PASSWORD}))
        .send()
        .await;
    let same_body = app
        .as_user(&member)
        .post("/v1/users")
        .header("idempotency-key", "k1")
        .json(body)
        .send()
        .await;
    let new_key = app
        .as_user(&member)
        .post("/v1/users")
        .header("idempotency-key", "k2")
        .json(json!({"email": "new@acme.test", "display_name": "N", "password": PASSWORD}))
        .send()
        .await;

    // Whether a key exists, and for which body, is not the member's business.
    other_body.assert_error(403, "FORBIDDEN");
    same_body.assert_error(403, "FORBIDDEN");
    new_key.assert_error(403, "FORBIDDEN");
    let keys: i64 = app
        .db
        .superuser()
        .await
        .query_one(
            "select count(*) from app.idempotency_keys where key = 'k2'",
            &[],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(keys, 0, "a refused request claims no key");
}

#[tokio::test]
async fn a_replayed_project_create_is_authorized_like_a_fresh_one() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let mallory = app.add_user(&owner, "mallory@acme.test", "member").await;
    let bob = app.add_user(&owner, "bob@acme.test", "member").await;
    // The owner creates a project for Bob: only owners and admins may name another owner.
    let body = json!({"name": "For Bob", "owner_id": bob.user_id});
    let first = app
        .as_user(&owner)
        .post("/v1/projects")
        .header("idempotency-key", "p1")
        .json(body.clone())
        .send()
        .await;
    first.assert_status(201);

    let fresh = app
        .as_user(&mallory)
        .post("/v1/projects")
        .json(json!({"name": "Also for Bob", "owner_id": bob.user_id}))
        .send()
        .await;
    let replayed = app
        .as_user(&mallory)
        .post("/v1/projects")
        .header("idempotency-key", "p1")
        .json(body.clone())
        .send()
        .await;
    let other_body = app
        .as_user(&mallory)
        .post("/v1/projects")
        .header("idempotency-key", "p1")
        .json(json!({"name": "Mine"}))
        .send()
        .await;

    fresh.assert_error(403, "FORBIDDEN");
    replayed.assert_error(403, "FORBIDDEN");
    // Her own project is hers to create: the key's reuse is then the answer.
    other_body.assert_error(422, "IDEMPOTENCY_KEY_REUSED");
    // Bob may send that very request: he would be its owner, so the replay is his.
    let bobs = app
        .as_user(&bob)
        .post("/v1/projects")
        .header("idempotency-key", "p1")
        .json(body)
        .send()
        .await;
    bobs.assert_status(201);
    assert_eq!(bobs.body, first.body);
}
