//! Changing one's own credentials (password or email) needs the current password, so a
//! stolen access token cannot become a permanent account takeover. Owners and admins who
//! reset someone else's password do not need that person's password.

use serde_json::json;

use crate::support::{Member, PASSWORD, TestApp, TestDb, settings_for};

async fn limited_app(per_account: u32) -> TestApp {
    let db = TestDb::new().await;
    let mut settings = settings_for(&db);
    settings.account_attempts_per_minute = per_account;
    TestApp::spawn_with(db, settings).await
}

fn me(member: &Member) -> String {
    format!("/v1/users/{}", member.user_id)
}

#[tokio::test]
async fn changing_ones_own_password_or_email_needs_the_current_password() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;

    for change in [
        json!({"password": "a new password 1"}),
        json!({"email": "new@acme.test"}),
        json!({"email": "new@acme.test", "display_name": "New"}),
    ] {
        app.as_user(&owner)
            .patch(&me(&owner))
            .json(change)
            .send()
            .await
            .assert_error(403, "REAUTHENTICATION_REQUIRED");
    }
    app.as_user(&owner)
        .patch(&me(&owner))
        .json(json!({"password": "a new password 1", "current_password": "not my password"}))
        .send()
        .await
        .assert_error(403, "INVALID_CURRENT_PASSWORD");
    let unchanged = app.as_user(&owner).get(&me(&owner)).send().await;
    assert_eq!(
        unchanged.body["version"], 1,
        "nothing changed: {}",
        unchanged.text
    );

    // Other fields, and the email it already has, need nothing.
    app.as_user(&owner)
        .patch(&me(&owner))
        .json(json!({"display_name": "Renamed", "email": "OWNER@acme.test"}))
        .send()
        .await
        .assert_status(200);
    app.as_user(&owner)
        .patch(&me(&owner))
        .json(json!({"password": "a new password 1", "current_password": PASSWORD}))
        .send()
        .await
        .assert_status(200);
    let moved = app
        .as_user(&owner)
        .patch(&me(&owner))
        .json(json!({"email": "new@acme.test", "current_password": "a new password 1"}))
        .send()
        .await;
    moved.assert_status(200);
    // The new address is the user's once verified (tests/api/email.rs follows the link).
    assert_eq!(moved.body["email"], "owner@acme.test");
    app.login("acme", "owner@acme.test", "a new password 1")
        .await
        .assert_status(200);
}

#[tokio::test]
async fn an_admin_resets_someone_elses_password_without_knowing_it() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let admin = app.add_user(&owner, "admin@acme.test", "admin").await;
    let member = app.add_user(&owner, "m@acme.test", "member").await;

    app.as_user(&admin)
        .patch(&me(&member))
        .json(json!({"password": "reset by the admin", "email": "moved@acme.test"}))
        .send()
        .await
        .assert_status(200);

    // The password at once; the address once its owner verifies it.
    app.login("acme", "m@acme.test", "reset by the admin")
        .await
        .assert_status(200);
}

#[tokio::test]
async fn a_stolen_access_token_cannot_change_the_password_or_email_or_guess_without_limit() {
    let app = limited_app(3).await;
    let owner = app.signup("acme").await;
    let victim = app.add_user(&owner, "victim@acme.test", "admin").await;
    // The attacker holds the victim's access token, and nothing else.
    let stolen = victim.clone();

    for change in [
        json!({"password": "attacker's password"}),
        json!({"email": "attacker@evil.test"}),
    ] {
        app.as_user(&stolen)
            .patch(&me(&victim))
            .json(change)
            .send()
            .await
            .assert_error(403, "REAUTHENTICATION_REQUIRED");
    }
    for guess in ["password1", "123456789", "letmein!!"] {
        app.as_user(&stolen)
            .patch(&me(&victim))
            .json(json!({"password": "attacker's password", "current_password": guess}))
            .send()
            .await
            .assert_error(403, "INVALID_CURRENT_PASSWORD");
    }
    let limited = app
        .as_user(&stolen)
        .patch(&me(&victim))
        .json(json!({"password": "attacker's password", "current_password": PASSWORD}))
        .send()
        .await;
    limited.assert_error(429, "RATE_LIMITED");
    assert!(limited.header("retry-after").is_some(), "Retry-After");

    // The account is still the victim's.
    let read = app.as_user(&owner).get(&me(&victim)).send().await;
    assert_eq!(read.body["email"], "victim@acme.test");
    app.login("acme", "victim@acme.test", PASSWORD)
        .await
        .assert_status(200);
    app.login("acme", "victim@acme.test", "attacker's password")
        .await
        .assert_error(401, "INVALID_CREDENTIALS");
}
