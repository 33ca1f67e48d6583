//! Sign-up and log-in.

use serde_json::json;

use crate::support::{PASSWORD, TestApp, without_request_id};

#[tokio::test]
async fn signup_creates_the_organization_and_its_owner_and_returns_a_token() {
    let app = TestApp::spawn().await;

    let resp = app
        .post("/v1/auth/signup")
        .json(json!({
            "org_name": "Acme Inc.",
            "org_slug": "acme",
            "email": "Alice@Acme.TEST",
            "display_name": "Alice",
            "password": PASSWORD,
        }))
        .send()
        .await;

    resp.assert_status(201);
    assert_eq!(resp.body["organization"]["slug"], "acme");
    assert_eq!(resp.body["organization"]["name"], "Acme Inc.");
    assert_eq!(resp.body["user"]["email"], "alice@acme.test");
    assert_eq!(resp.body["user"]["role"], "owner");
    assert_eq!(resp.body["token_type"], "Bearer");
    assert!(resp.body.get("password_hash").is_none() && !resp.text.contains("argon2"));
    let token = resp.str("/access_token");
    let me = app.get("/v1/me").bearer(&token).send().await;
    me.assert_status(200);
    assert_eq!(me.body["id"], resp.body["user"]["id"]);
}

#[tokio::test]
async fn signup_with_a_taken_slug_returns_409_and_creates_nothing() {
    let app = TestApp::spawn().await;
    app.signup("acme").await;

    let resp = app
        .post("/v1/auth/signup")
        .json(json!({
            "org_name": "Other", "org_slug": "acme", "email": "eve@evil.test",
            "display_name": "Eve", "password": PASSWORD,
        }))
        .send()
        .await;

    resp.assert_error(409, "ORG_SLUG_TAKEN");
    let db = app.db.superuser().await;
    let users: i64 = db
        .query_one(
            "select count(*) from app.users where email = 'eve@evil.test'",
            &[],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(users, 0, "the failed sign-up's user must not exist");
}

#[tokio::test]
async fn each_invalid_field_is_named_in_the_details() {
    let app = TestApp::spawn().await;
    let valid = json!({
        "org_name": "Acme", "org_slug": "acme", "email": "a@acme.test",
        "display_name": "A", "password": PASSWORD,
    });
    for (field, bad) in [
        ("org_name", json!("   ")),
        ("org_slug", json!("Not A Slug")),
        ("email", json!("not-an-email")),
        ("email", json!("a@b@c")),
        ("display_name", json!("tab\there")),
        ("password", json!("short")),
    ] {
        let mut body = valid.clone();
        body[field] = bad.clone();
        let resp = app.post("/v1/auth/signup").json(body).send().await;
        resp.assert_error(422, "VALIDATION_FAILED");
        assert_eq!(resp.detail_fields(), [field], "{field} = {bad}");
    }
}

#[tokio::test]
async fn login_accepts_the_email_in_any_case() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;

    let resp = app
        .login("acme", &owner.email.to_uppercase(), PASSWORD)
        .await;

    resp.assert_status(200);
    let token = resp.str("/access_token");
    let me = app.get("/v1/me").bearer(&token).send().await;
    assert_eq!(me.body["id"], owner.user_id.as_str());
}

#[tokio::test]
async fn the_same_email_logs_into_each_of_its_organizations_separately() {
    let app = TestApp::spawn().await;
    let acme = app.signup("acme").await;
    let globex = app.signup("globex").await;
    app.add_user(&acme, "bob@shared.test", "member").await;
    let bob_globex = app.add_user(&globex, "bob@shared.test", "admin").await;

    let resp = app
        .login("globex", "bob@shared.test", crate::support::PASSWORD)
        .await;

    resp.assert_status(200);
    let me = app
        .get("/v1/me")
        .bearer(&resp.str("/access_token"))
        .send()
        .await;
    assert_eq!(me.body["id"], bob_globex.user_id.as_str());
    assert_eq!(me.body["role"], "admin");
    let org = app
        .get("/v1/org")
        .bearer(&resp.str("/access_token"))
        .send()
        .await;
    assert_eq!(org.body["slug"], "globex");
}

#[tokio::test]
async fn wrong_org_email_or_password_are_indistinguishable() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    app.signup("globex").await;

    let cases = [
        (
            "unknown organization",
            "nope",
            owner.email.as_str(),
            PASSWORD,
        ),
        (
            "another organization",
            "globex",
            owner.email.as_str(),
            PASSWORD,
        ),
        ("unknown email", "acme", "nobody@acme.test", PASSWORD),
        (
            "wrong password",
            "acme",
            owner.email.as_str(),
            "wrong password!",
        ),
        (
            "malformed slug",
            "NOT A SLUG",
            owner.email.as_str(),
            PASSWORD,
        ),
    ];
    let mut bodies = Vec::new();
    for (case, slug, email, password) in cases {
        let resp = app.login(slug, email, password).await;
        resp.assert_error(401, "INVALID_CREDENTIALS");
        bodies.push((case, without_request_id(&resp.body)));
    }
    for (case, body) in &bodies {
        assert_eq!(body, &bodies[0].1, "{case} differs from {}", bodies[0].0);
    }
}
