//! Emails through a real SMTP server (tests/api/support/smtp.rs): invitations, password
//! resets, email verification. Each flow is followed end to end: the email is read from the
//! server, its link's token extracted and the flow completed through the API.

use serde_json::{Value, json};

use crate::support::smtp::{SmtpSink, free_addr};
use crate::support::{Member, PASSWORD, TestApp, TestDb, settings_for, without_request_id};

/// A service that sends through `smtp`, retrying after 50 ms at first.
async fn app_with(smtp_url: &str, tune: impl FnOnce(&mut tenantry::config::Settings)) -> TestApp {
    let db = TestDb::new().await;
    let mut settings = settings_for(&db);
    settings.smtp_url = Some(secrecy::SecretString::from(smtp_url.to_owned()));
    settings.mail_from = Some("Tenantry <no-reply@tenantry.test>".into());
    settings.public_url = Some("https://app.example.test".into());
    settings.mail_poll_ms = 50;
    settings.mail_retry_base_ms = 50;
    settings.mail_worker = true;
    tune(&mut settings);
    TestApp::spawn_with(db, settings).await
}

async fn invite(app: &TestApp, by: &Member, email: &str, role: &str) -> Value {
    let resp = app
        .as_user(by)
        .post("/v1/invitations")
        .json(json!({"email": email, "role": role}))
        .send()
        .await;
    resp.assert_status(201);
    resp.body.clone()
}

async fn accept(app: &TestApp, token: &str) -> crate::support::TestResponse {
    app.post("/v1/invitations/accept")
        .json(json!({"token": token, "display_name": "New Person", "password": PASSWORD}))
        .send()
        .await
}

/// The outbox rows of the test's database: (kind, recipient, status, attempts, data,
/// last_error).
async fn outbox(app: &TestApp) -> Vec<(String, String, String, i32, Value, Option<String>)> {
    let client = app.db.superuser().await;
    client
        .query(
            "select kind, recipient, status, attempts, data, last_error
             from app.outbound_emails order by created_at, id",
            &[],
        )
        .await
        .expect("outbox")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
        .collect()
}

#[tokio::test]
async fn an_invitation_is_emailed_and_its_link_creates_the_member_once() {
    let smtp = SmtpSink::start().await;
    let app = app_with(&smtp.url(), |_| {}).await;
    let owner = app.signup("acme").await;

    let invitation = invite(&app, &owner, "New.Person@Example.test", "admin").await;
    assert_eq!(invitation["email"], "new.person@example.test");
    assert_eq!(invitation["status"], "pending");
    let email = smtp.nth("new.person@example.test", 1).await;
    assert!(email.subject().contains("Org acme"), "{}", email.subject());
    assert!(email.data.contains("Owner invited you"), "{}", email.data);
    assert_eq!(email.from, "no-reply@tenantry.test");
    let token = email.token("inv");

    let accepted = accept(&app, &token).await;
    accepted.assert_status(201);
    assert_eq!(accepted.body["user"]["role"], "admin");
    assert_eq!(accepted.body["user"]["email"], "new.person@example.test");
    assert!(accepted.body["user"]["email_verified_at"].is_string());
    let me = app
        .with_bearer(&accepted.str("/access_token"))
        .get("/v1/me")
        .send()
        .await;
    me.assert_status(200);
    assert_eq!(me.body["role"], "admin");
    assert_eq!(me.body["id"], accepted.body["user"]["id"]);

    accept(&app, &token).await.assert_error(400, "TOKEN_USED");
    // Sent emails keep no link (and so no token).
    let rows = outbox(&app).await;
    let sent = rows
        .iter()
        .find(|r| r.0 == "invitation")
        .expect("the invitation's row");
    assert_eq!(sent.2, "sent");
    assert!(sent.4.get("link").is_none(), "{:?}", sent.4);
    assert!(!sent.4.to_string().contains(&token[4..40]));
    // The list shows pending invitations only.
    let list = app.as_user(&owner).get("/v1/invitations").send().await;
    list.assert_status(200);
    assert_eq!(list.body["items"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn twenty_concurrent_acceptances_of_one_invitation_create_one_user() {
    let smtp = SmtpSink::start().await;
    let app = app_with(&smtp.url(), |_| {}).await;
    let owner = app.signup("acme").await;
    invite(&app, &owner, "race@acme.test", "member").await;
    let token = smtp.nth("race@acme.test", 1).await.token("inv");

    let attempts = (0..20).map(|_| accept(&app, &token));
    let results = futures_util::future::join_all(attempts).await;

    let created = results.iter().filter(|r| r.status == 201).count();
    assert_eq!(
        created,
        1,
        "{:?}",
        results.iter().map(|r| &r.text).collect::<Vec<_>>()
    );
    for refused in results.iter().filter(|r| r.status != 201) {
        refused.assert_error(400, "TOKEN_USED");
    }
    let users = app.as_user(&owner).get("/v1/users").send().await;
    assert_eq!(users.body["items"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn refused_invitations_have_distinct_codes() {
    let smtp = SmtpSink::start().await;
    let app = app_with(&smtp.url(), |_| {}).await;
    let owner = app.signup("acme").await;
    let admin = app.add_user(&owner, "admin@acme.test", "admin").await;

    // Revoked.
    let revoked = invite(&app, &owner, "revoked@acme.test", "member").await;
    let token = smtp.nth("revoked@acme.test", 1).await.token("inv");
    app.as_user(&owner)
        .delete(&format!(
            "/v1/invitations/{}",
            revoked["id"].as_str().expect("id")
        ))
        .send()
        .await
        .assert_status(204);
    accept(&app, &token)
        .await
        .assert_error(400, "INVITATION_REVOKED");

    // Expired.
    invite(&app, &owner, "late@acme.test", "member").await;
    let token = smtp.nth("late@acme.test", 1).await.token("inv");
    app.db
        .superuser()
        .await
        .execute(
            "update app.invitations set expires_at = now() - interval '1 second'
             where email = 'late@acme.test'",
            &[],
        )
        .await
        .expect("expire");
    accept(&app, &token)
        .await
        .assert_error(400, "TOKEN_EXPIRED");

    // Resent: the earlier link stops working, the new one works.
    let resend = invite(&app, &owner, "again@acme.test", "member").await;
    let first = smtp.nth("again@acme.test", 1).await.token("inv");
    app.as_user(&owner)
        .post(&format!(
            "/v1/invitations/{}/resend",
            resend["id"].as_str().expect("id")
        ))
        .send()
        .await
        .assert_status(200);
    let second = smtp.nth("again@acme.test", 2).await.token("inv");
    assert_ne!(first, second);
    accept(&app, &first)
        .await
        .assert_error(400, "TOKEN_INVALID");

    // The address became a member meanwhile.
    app.add_user(&owner, "again@acme.test", "member").await;
    accept(&app, &second)
        .await
        .assert_error(409, "EMAIL_ALREADY_EXISTS");

    // Tampered and malformed tokens.
    let mut tampered = second.clone();
    tampered.replace_range(60..61, if &second[60..61] == "A" { "B" } else { "A" });
    accept(&app, &tampered)
        .await
        .assert_error(400, "TOKEN_INVALID");
    accept(&app, "inv_short")
        .await
        .assert_error(400, "TOKEN_INVALID");

    // Inviting a member, twice the same address, or an owner as an admin.
    app.as_user(&owner)
        .post("/v1/invitations")
        .json(json!({"email": "admin@acme.test"}))
        .send()
        .await
        .assert_error(409, "ALREADY_A_MEMBER");
    invite(&app, &owner, "twice@acme.test", "member").await;
    app.as_user(&owner)
        .post("/v1/invitations")
        .json(json!({"email": "TWICE@acme.test"}))
        .send()
        .await
        .assert_error(409, "INVITATION_PENDING");
    app.as_user(&admin)
        .post("/v1/invitations")
        .json(json!({"email": "boss@acme.test", "role": "owner"}))
        .send()
        .await
        .assert_error(403, "FORBIDDEN");
    let member = app.add_user(&owner, "member@acme.test", "member").await;
    app.as_user(&member)
        .post("/v1/invitations")
        .json(json!({"email": "friend@acme.test"}))
        .send()
        .await
        .assert_error(403, "FORBIDDEN");
    app.as_user(&member)
        .get("/v1/invitations")
        .send()
        .await
        .assert_error(403, "FORBIDDEN");
}

#[tokio::test]
async fn an_organization_sending_too_many_invitations_is_rate_limited() {
    let smtp = SmtpSink::start().await;
    let app = app_with(&smtp.url(), |s| s.invitations_per_hour = 2).await;
    let owner = app.signup("acme").await;
    let other = app.signup("other").await;
    invite(&app, &owner, "a@acme.test", "member").await;
    invite(&app, &owner, "b@acme.test", "member").await;

    let limited = app
        .as_user(&owner)
        .post("/v1/invitations")
        .json(json!({"email": "c@acme.test"}))
        .send()
        .await;

    limited.assert_error(429, "RATE_LIMITED");
    assert!(limited.header("retry-after").is_some());
    invite(&app, &other, "a@other.test", "member").await;
}

#[tokio::test]
async fn a_password_reset_is_emailed_and_its_link_sets_the_password_once() {
    let smtp = SmtpSink::start().await;
    let app = app_with(&smtp.url(), |_| {}).await;
    let owner = app.signup("acme").await;
    let email = owner.email.clone();

    let requested = app
        .post("/v1/auth/password-reset")
        .json(json!({"org_slug": "acme", "email": email.to_uppercase()}))
        .send()
        .await;
    requested.assert_status(202);
    let reset = smtp
        .wait_for(&email, 2)
        .await
        .into_iter()
        .find(|m| m.subject().starts_with("Reset"))
        .expect("a reset email");
    assert!(reset.subject().contains("Org acme"));
    let token = reset.token("rst");

    let confirm = |password: &'static str| {
        let token = token.clone();
        let app = &app;
        async move {
            app.post("/v1/auth/password-reset/confirm")
                .json(json!({"token": token, "password": password}))
                .send()
                .await
        }
    };
    confirm("a brand new password").await.assert_status(204);

    // Every session ended; the new password logs in, the old one does not.
    app.me(&owner).await.assert_status(401);
    app.refresh(&owner.refresh_token).await.assert_status(401);
    app.login("acme", &email, PASSWORD)
        .await
        .assert_error(401, "INVALID_CREDENTIALS");
    app.login("acme", &email, "a brand new password")
        .await
        .assert_status(200);
    // A notice of the change, and the link works once.
    let notice = smtp.nth(&email, 3).await;
    assert!(
        notice.subject().contains("password was changed"),
        "{}",
        notice.subject()
    );
    confirm("yet another password")
        .await
        .assert_error(400, "TOKEN_USED");
    app.login("acme", &email, "yet another password")
        .await
        .assert_error(401, "INVALID_CREDENTIALS");
}

#[tokio::test]
async fn a_password_reset_answers_the_same_whether_or_not_the_account_exists() {
    let smtp = SmtpSink::start().await;
    let app = app_with(&smtp.url(), |_| {}).await;
    let owner = app.signup("acme").await;
    smtp.wait_for(&owner.email, 1).await; // the sign-up's verification email

    let mut answers = Vec::new();
    for (org, email) in [
        ("acme", owner.email.as_str()),
        ("acme", "nobody@acme.test"),
        ("no-such-org", owner.email.as_str()),
        ("acme", "not an email"),
    ] {
        let resp = app
            .post("/v1/auth/password-reset")
            .json(json!({"org_slug": org, "email": email}))
            .send()
            .await;
        answers.push((resp.status, without_request_id(&resp.body)));
    }

    for answer in &answers[1..] {
        assert_eq!(answer, &answers[0]);
    }
    assert_eq!(answers[0].0, 202);
    smtp.wait_for(&owner.email, 2).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        smtp.received().len(),
        2,
        "one reset email, for the account that exists"
    );
    assert!(smtp.to("nobody@acme.test").is_empty());
}

#[tokio::test]
async fn password_resets_are_rate_limited_per_account_alike_for_unknown_accounts() {
    let smtp = SmtpSink::start().await;
    let app = app_with(&smtp.url(), |s| s.password_resets_per_hour = 2).await;
    let owner = app.signup("acme").await;

    for email in [owner.email.as_str(), "nobody@acme.test"] {
        for _ in 0..2 {
            app.post("/v1/auth/password-reset")
                .json(json!({"org_slug": "acme", "email": email}))
                .send()
                .await
                .assert_status(202);
        }
        let limited = app
            .post("/v1/auth/password-reset")
            .json(json!({"org_slug": "acme", "email": email.to_uppercase()}))
            .send()
            .await;
        limited.assert_error(429, "RATE_LIMITED");
    }
}

#[tokio::test]
async fn twenty_concurrent_uses_of_one_reset_link_set_one_password() {
    let smtp = SmtpSink::start().await;
    let app = app_with(&smtp.url(), |_| {}).await;
    let owner = app.signup("acme").await;
    app.post("/v1/auth/password-reset")
        .json(json!({"org_slug": "acme", "email": owner.email}))
        .send()
        .await
        .assert_status(202);
    let token = smtp.nth(&owner.email, 2).await.token("rst");

    let attempts = (0..20).map(|i| {
        app.post("/v1/auth/password-reset/confirm")
            .json(json!({"token": token, "password": format!("new password number {i}")}))
            .send()
    });
    let results = futures_util::future::join_all(attempts).await;

    let mut winners = Vec::new();
    for (i, result) in results.into_iter().enumerate() {
        if result.status == 204 {
            winners.push(i);
        } else {
            result.assert_error(400, "TOKEN_USED");
        }
    }
    assert_eq!(winners.len(), 1);
    app.login(
        "acme",
        &owner.email,
        &format!("new password number {}", winners[0]),
    )
    .await
    .assert_status(200);
}

#[tokio::test]
async fn an_expired_reset_link_is_refused() {
    let smtp = SmtpSink::start().await;
    let app = app_with(&smtp.url(), |_| {}).await;
    let owner = app.signup("acme").await;
    app.post("/v1/auth/password-reset")
        .json(json!({"org_slug": "acme", "email": owner.email}))
        .send()
        .await
        .assert_status(202);
    let token = smtp.nth(&owner.email, 2).await.token("rst");
    app.db
        .superuser()
        .await
        .execute(
            "update app.user_tokens set expires_at = now() - interval '1 second'
             where kind = 'password_reset'",
            &[],
        )
        .await
        .expect("expire");

    app.post("/v1/auth/password-reset/confirm")
        .json(json!({"token": token, "password": "a brand new password"}))
        .send()
        .await
        .assert_error(400, "TOKEN_EXPIRED");
    app.login("acme", &owner.email, PASSWORD)
        .await
        .assert_status(200);
}

#[tokio::test]
async fn sign_up_sends_a_verification_link_that_verifies_the_address() {
    let smtp = SmtpSink::start().await;
    let app = app_with(&smtp.url(), |_| {}).await;
    let owner = app.signup("acme").await;
    assert!(app.me(&owner).await.body["email_verified_at"].is_null());
    let token = smtp.nth(&owner.email, 1).await.token("vrf");

    let verified = app
        .post("/v1/auth/verify-email")
        .json(json!({"token": token}))
        .send()
        .await;

    verified.assert_status(200);
    assert!(verified.body["email_verified_at"].is_string());
    assert!(app.me(&owner).await.body["email_verified_at"].is_string());
    app.post("/v1/auth/verify-email")
        .json(json!({"token": token}))
        .send()
        .await
        .assert_error(400, "TOKEN_USED");
    app.as_user(&owner)
        .post("/v1/me/verify-email")
        .send()
        .await
        .assert_error(409, "EMAIL_ALREADY_VERIFIED");
}

#[tokio::test]
async fn an_unverified_user_cannot_log_in_when_verification_is_required() {
    let smtp = SmtpSink::start().await;
    let app = app_with(&smtp.url(), |s| s.require_verified_email = Some(true)).await;
    let owner = app.signup("acme").await;

    app.login("acme", &owner.email, PASSWORD)
        .await
        .assert_error(403, "EMAIL_NOT_VERIFIED");
    // A new link, on request; the first email's link works too.
    app.as_user(&owner)
        .post("/v1/me/verify-email")
        .send()
        .await
        .assert_status(202);
    let token = smtp.nth(&owner.email, 2).await.token("vrf");
    app.post("/v1/auth/verify-email")
        .json(json!({"token": token}))
        .send()
        .await
        .assert_status(200);

    app.login("acme", &owner.email, PASSWORD)
        .await
        .assert_status(200);
}

#[tokio::test]
async fn emails_wait_while_smtp_is_down_and_are_delivered_when_it_comes_back() {
    let addr = free_addr();
    let app = app_with(&format!("smtp://{addr}"), |_| {}).await;
    let owner = app.signup("acme").await;
    invite(&app, &owner, "later@acme.test", "member").await;

    // Attempts fail and are recorded, with their error, while nothing listens.
    let mut waited = 0;
    loop {
        let rows = outbox(&app).await;
        let invitation = rows
            .iter()
            .find(|r| r.0 == "invitation")
            .expect("row")
            .clone();
        if invitation.3 >= 2 {
            assert_eq!(invitation.2, "queued");
            assert!(invitation.5.is_some(), "last_error recorded");
            assert!(
                invitation.4.get("link").is_some(),
                "the link waits with the email"
            );
            break;
        }
        waited += 1;
        assert!(waited < 100, "no retries recorded: {rows:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let smtp = SmtpSink::start_on(addr).await;
    let email = smtp.nth("later@acme.test", 1).await;
    accept(&app, &email.token("inv")).await.assert_status(201);
    smtp.wait_for(&owner.email, 1).await;
}

#[tokio::test]
async fn a_permanent_smtp_refusal_is_recorded_and_not_retried() {
    let smtp = SmtpSink::start().await;
    smtp.refuse("bounce@acme.test");
    let app = app_with(&smtp.url(), |_| {}).await;
    let owner = app.signup("acme").await;
    invite(&app, &owner, "bounce@acme.test", "member").await;

    let mut failed = None;
    for _ in 0..100 {
        let rows = outbox(&app).await;
        if let Some(row) = rows.iter().find(|r| r.0 == "invitation" && r.2 == "failed") {
            failed = Some(row.clone());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let failed = failed.expect("the invitation's email failed");
    assert_eq!(failed.3, 1, "one attempt only");
    let error = failed.5.expect("the refusal is recorded");
    assert!(error.contains("550"), "{error}");
    assert!(
        failed.4.get("link").is_none(),
        "a failed email keeps no link"
    );
    let metrics = app.get("/metrics").send().await;
    assert!(
        metrics
            .text
            .contains("tenantry_emails_failed_total{kind=\"invitation\",reason=\"rejected\"}"),
        "{}",
        metrics.text
    );
}

/// The real binary at the most verbose level a user can ask for: no token of any email (nor
/// its secret part) appears in its logs, whatever the flow.
#[tokio::test]
async fn tokens_never_appear_in_the_logs() {
    use crate::support::process::ServiceProcess;
    let smtp = SmtpSink::start().await;
    let db = TestDb::new().await;
    let smtp_url = smtp.url();
    let mut service = ServiceProcess::spawn(
        &db.url(),
        &[
            ("RUST_LOG", "trace"),
            ("TENANTRY_SMTP_URL", smtp_url.as_str()),
            ("TENANTRY_MAIL_POLL_MS", "50"),
        ],
    );
    service.wait_ready().await;
    let http = reqwest::Client::new();
    let post = |path: &str, token: Option<&str>, body: Value| {
        let mut req = http.post(service.url(path)).json(&body);
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        async move {
            let resp = req.send().await.expect("answer");
            let status = resp.status().as_u16();
            (status, resp.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, signup) = post(
        "/v1/auth/signup",
        None,
        json!({"org_name": "Acme", "org_slug": "acme", "email": "owner@acme.test",
               "display_name": "Owner", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 201);
    let owner = signup["access_token"].as_str().expect("token").to_owned();
    let mut tokens = vec![smtp.nth("owner@acme.test", 1).await.token("vrf")];
    assert_eq!(
        post("/v1/auth/verify-email", None, json!({"token": tokens[0]}))
            .await
            .0,
        200
    );
    let (status, _) = post(
        "/v1/invitations",
        Some(&owner),
        json!({"email": "new@acme.test", "role": "member"}),
    )
    .await;
    assert_eq!(status, 201);
    tokens.push(smtp.nth("new@acme.test", 1).await.token("inv"));
    let (status, _) = post(
        "/v1/invitations/accept",
        None,
        json!({"token": tokens[1], "display_name": "New", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _) = post(
        "/v1/auth/password-reset",
        None,
        json!({"org_slug": "acme", "email": "new@acme.test"}),
    )
    .await;
    assert_eq!(status, 202);
    tokens.push(smtp.nth("new@acme.test", 2).await.token("rst"));
    let (status, _) = post(
        "/v1/auth/password-reset/confirm",
        None,
        json!({"token": tokens[2], "password": "a brand new password"}),
    )
    .await;
    assert_eq!(status, 204);
    // Used once more, so that refusals are logged too.
    assert_eq!(
        post(
            "/v1/auth/password-reset/confirm",
            None,
            json!({"token": tokens[2], "password": "another new password"})
        )
        .await
        .0,
        400
    );
    smtp.wait_for("new@acme.test", 3).await; // the notice

    let logs = service.logs();
    assert!(
        logs.contains("email sent"),
        "the worker logs its sends: {logs}"
    );
    for token in &tokens {
        // The secret is the token's last 43 characters (32 bytes in base64url).
        let secret = &token[token.len() - 43..];
        assert!(!logs.contains(secret), "a token's secret is in the logs");
    }
}

#[tokio::test]
async fn a_new_address_becomes_the_users_once_verified_and_the_old_one_is_told() {
    let smtp = SmtpSink::start().await;
    let app = app_with(&smtp.url(), |_| {}).await;
    let owner = app.signup("acme").await;
    let bob = app.add_user(&owner, "bob@acme.test", "member").await;

    let changed = app
        .as_user(&bob)
        .patch(&format!("/v1/users/{}", bob.user_id))
        .json(json!({"email": "Robert@Acme.test", "current_password": PASSWORD}))
        .send()
        .await;

    changed.assert_status(200);
    assert_eq!(
        changed.body["email"], "bob@acme.test",
        "the old address stays"
    );
    let notice = smtp.nth("bob@acme.test", 1).await;
    assert!(
        notice.subject().contains("email address is changing"),
        "{}",
        notice.subject()
    );
    assert!(notice.data.contains("robert@acme.test"));
    let token = smtp.nth("robert@acme.test", 1).await.token("vrf");
    app.login("acme", "robert@acme.test", PASSWORD)
        .await
        .assert_error(401, "INVALID_CREDENTIALS");

    let verified = app
        .post("/v1/auth/verify-email")
        .json(json!({"token": token}))
        .send()
        .await;

    verified.assert_status(200);
    assert_eq!(verified.body["email"], "robert@acme.test");
    assert!(verified.body["email_verified_at"].is_string());
    app.login("acme", "robert@acme.test", PASSWORD)
        .await
        .assert_status(200);
    app.login("acme", "bob@acme.test", PASSWORD)
        .await
        .assert_error(401, "INVALID_CREDENTIALS");
}

#[tokio::test]
async fn a_pending_address_taken_meanwhile_is_not_given_twice() {
    let smtp = SmtpSink::start().await;
    let app = app_with(&smtp.url(), |_| {}).await;
    let owner = app.signup("acme").await;
    let bob = app.add_user(&owner, "bob@acme.test", "member").await;
    app.as_user(&bob)
        .patch(&format!("/v1/users/{}", bob.user_id))
        .json(json!({"email": "shared@acme.test", "current_password": PASSWORD}))
        .send()
        .await
        .assert_status(200);
    let token = smtp.nth("shared@acme.test", 1).await.token("vrf");
    app.add_user(&owner, "shared@acme.test", "member").await;

    app.post("/v1/auth/verify-email")
        .json(json!({"token": token}))
        .send()
        .await
        .assert_error(409, "EMAIL_ALREADY_EXISTS");
}

/// `tenantry relay` (no HTTP server) sends the outbox too: an email queued by a service whose
/// own worker is off reaches the SMTP server through the relay process.
#[tokio::test]
async fn the_relay_process_sends_the_outbox() {
    let smtp = SmtpSink::start().await;
    let app = app_with(&smtp.url(), |s| s.mail_worker = false).await;
    let owner = app.signup("acme").await;
    invite(&app, &owner, "relayed@acme.test", "member").await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        smtp.received().is_empty(),
        "nothing is sent without a worker"
    );

    let mut relay = std::process::Command::new(env!("CARGO_BIN_EXE_tenantry"));
    for (name, _) in std::env::vars() {
        if name.starts_with("TENANTRY_") || name == "RUST_LOG" {
            relay.env_remove(name);
        }
    }
    let mut relay = relay
        .arg("relay")
        .env("TENANTRY_DATABASE_URL", app.db.url())
        .env("TENANTRY_JWT_SECRET", crate::support::TEST_JWT_SECRET)
        .env("TENANTRY_CREATE_DATABASE", "false")
        .env("TENANTRY_MIGRATE_ON_START", "false")
        .env("TENANTRY_SMTP_URL", smtp.url())
        .env("TENANTRY_MAIL_POLL_MS", "50")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("tenantry relay starts");

    let email = smtp.nth("relayed@acme.test", 1).await;
    let _ = relay.kill();
    let _ = relay.wait();
    accept(&app, &email.token("inv")).await.assert_status(201);
}
