//! Log-in hardening: rate limits with `Retry-After`, indistinguishable failures (same body,
//! same work: one password verification each, counted rather than timed), and bounded input
//! refused before any hashing.

use serde_json::json;

use crate::support::{PASSWORD, TestApp, TestDb, settings_for, without_request_id};

async fn limited_app(per_account: u32, per_client: u32) -> TestApp {
    let db = TestDb::new().await;
    let mut settings = settings_for(&db);
    settings.account_attempts_per_minute = per_account;
    settings.client_attempts_per_minute = per_client;
    TestApp::spawn_with(db, settings).await
}

#[tokio::test]
async fn an_account_under_attack_is_rate_limited_with_retry_after() {
    let app = limited_app(3, 1000).await;
    let owner = app.signup("acme").await;

    for _ in 0..3 {
        app.login("acme", &owner.email, "guess guess guess")
            .await
            .assert_error(401, "INVALID_CREDENTIALS");
    }
    let limited = app
        .login("acme", &owner.email.to_uppercase(), PASSWORD)
        .await;

    limited.assert_error(429, "RATE_LIMITED");
    let verified = app.state.hasher.verifications();
    app.login("acme", &owner.email, PASSWORD)
        .await
        .assert_error(429, "RATE_LIMITED");
    assert_eq!(
        app.state.hasher.verifications(),
        verified,
        "a limited attempt costs no verification"
    );
    let retry_after: u64 = limited
        .header("retry-after")
        .expect("a Retry-After header")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    // Other accounts are unaffected.
    app.add_user(&owner, "other@acme.test", "member").await;
}

/// The account budget is keyed by the database's key of the email (the one log-in matches
/// with), so spellings that reach one account share one budget, and an unknown account is
/// limited exactly like a known one (the limit reveals nothing).
#[tokio::test]
async fn every_spelling_of_an_email_shares_one_account_budget_when_guessing() {
    let app = limited_app(3, 1000).await;
    let owner = app.signup("acme").await;
    app.as_user(&owner)
        .post("/v1/users")
        .json(json!({"email": "ασ@acme.test", "display_name": "As", "password": PASSWORD}))
        .send()
        .await
        .assert_status(201);

    for (account, spellings) in [
        ("known", ["ΑΣ@acme.test", "ασ@acme.test"]),
        ("unknown", ["ΝΟΣ@acme.test", "νοσ@acme.test"]),
    ] {
        for attempt in 0..3 {
            app.login("acme", spellings[attempt % 2], "guess guess guess")
                .await
                .assert_error(401, "INVALID_CREDENTIALS");
        }
        let limited = app.login("acme", spellings[1], "guess guess guess").await;
        assert_eq!(limited.status, 429, "{account}: {}", limited.text);
    }
}

#[tokio::test]
async fn one_client_address_is_rate_limited_across_accounts() {
    let app = limited_app(1000, 4).await;
    // Sign-up has a budget of its own; log-in and refresh share the per-address budget.
    let owner = app.signup("acme").await;
    for i in 0..3 {
        app.login("acme", &format!("nobody{i}@acme.test"), "whatever!")
            .await
            .assert_error(401, "INVALID_CREDENTIALS");
    }
    app.refresh(&owner.refresh_token).await.assert_status(200);

    app.login("acme", &owner.email, PASSWORD)
        .await
        .assert_error(429, "RATE_LIMITED");
}

#[tokio::test]
async fn refreshing_one_session_too_often_is_rate_limited() {
    let app = limited_app(2, 1000).await;
    let owner = app.signup("acme").await;
    let first = app.refresh(&owner.refresh_token).await;
    first.assert_status(200);
    let second = app.refresh(&first.str("/refresh_token")).await;
    second.assert_status(200);

    app.refresh(&second.str("/refresh_token"))
        .await
        .assert_error(429, "RATE_LIMITED");
}

#[tokio::test]
async fn over_long_passwords_are_refused_before_hashing() {
    let app = TestApp::spawn().await;
    app.signup("acme").await;
    let before = app.state.hasher.verifications();

    let resp = app
        .post("/v1/auth/login")
        .json(json!({"org_slug": "acme", "email": "owner@acme.test", "password": "x".repeat(5000)}))
        .send()
        .await;

    resp.assert_error(422, "VALIDATION_FAILED");
    assert_eq!(resp.detail_fields(), ["password"]);
    assert_eq!(
        app.state.hasher.verifications(),
        before,
        "no verification ran"
    );
}

#[tokio::test]
async fn unknown_org_unknown_email_and_wrong_password_cost_one_verification_and_answer_alike() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let cases = [
        (
            "unknown organization",
            "nope",
            owner.email.clone(),
            PASSWORD,
        ),
        (
            "unknown email",
            "acme",
            "nobody@acme.test".to_owned(),
            PASSWORD,
        ),
        (
            "malformed email",
            "acme",
            "not an email".to_owned(),
            PASSWORD,
        ),
        (
            "wrong password",
            "acme",
            owner.email.clone(),
            "wrong password!",
        ),
        ("right password", "acme", owner.email.clone(), PASSWORD),
    ];
    let mut bodies = Vec::new();

    for (name, slug, email, password) in &cases {
        let before = app.state.hasher.verifications();
        let resp = app.login(slug, email, password).await;
        let cost = app.state.hasher.verifications() - before;

        // The time a log-in takes is dominated by its argon2id verification (tens of ms
        // against about one for the rest): one each, whatever the case, is what makes the
        // cases indistinguishable by timing.
        assert_eq!(cost, 1, "{name}: {cost} password verifications");
        if *name == "right password" {
            resp.assert_status(200);
        } else {
            resp.assert_error(401, "INVALID_CREDENTIALS");
            bodies.push(without_request_id(&resp.body));
        }
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "identical bodies: {bodies:?}"
    );
}
