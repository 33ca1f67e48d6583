//! Sessions and refresh tokens: rotation, reuse detection, revocation that takes effect on the
//! very next request, and roles read from the database rather than from the token.

use serde_json::json;

use crate::support::{Member, PASSWORD, TestApp, TestDb, settings_for};

/// `member` with the tokens of a login/refresh response.
fn with_tokens(member: &Member, resp: &crate::support::TestResponse) -> Member {
    Member {
        token: resp.str("/access_token"),
        refresh_token: resp.str("/refresh_token"),
        ..member.clone()
    }
}

#[tokio::test]
async fn a_refresh_rotates_the_tokens_and_keeps_the_session_expiry() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let login = app.login("acme", &owner.email, PASSWORD).await;
    login.assert_status(200);
    assert!(
        login.str("/refresh_token").len() >= 43,
        "at least 256 random bits"
    );

    let refreshed = app.refresh(&login.str("/refresh_token")).await;

    refreshed.assert_status(200);
    assert_ne!(refreshed.str("/refresh_token"), login.str("/refresh_token"));
    assert_eq!(
        refreshed.body["session_expires_at"], login.body["session_expires_at"],
        "rotation does not extend the session"
    );
    let member = with_tokens(&owner, &refreshed);
    app.me(&member).await.assert_status(200);
    let again = app.refresh(&refreshed.str("/refresh_token")).await;
    again.assert_status(200);
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_the_whole_session() {
    let db = TestDb::new().await;
    let mut settings = settings_for(&db);
    settings.refresh_grace_secs = 0;
    let app = TestApp::spawn_with(db, settings).await;
    let owner = app.signup("acme").await;
    let first = app.refresh(&owner.refresh_token).await;
    first.assert_status(200);
    let current = with_tokens(&owner, &first);

    // An attacker replays the stolen, already-rotated token.
    let replay = app.refresh(&owner.refresh_token).await;

    replay.assert_error(401, "REFRESH_TOKEN_REUSED");
    // The legitimate holder's newer tokens die with the family.
    app.refresh(&current.refresh_token)
        .await
        .assert_error(401, "REFRESH_TOKEN_INVALID");
    app.me(&current).await.assert_error(401, "SESSION_REVOKED");
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_cannot_both_succeed_outside_the_grace_window() {
    let db = TestDb::new().await;
    let mut settings = settings_for(&db);
    settings.refresh_grace_secs = 0;
    let app = TestApp::spawn_with(db, settings).await;
    let owner = app.signup("acme").await;

    let attempts =
        futures_util::future::join_all((0..8).map(|_| app.refresh(&owner.refresh_token))).await;

    let successes = attempts.iter().filter(|r| r.status == 200).count();
    assert_eq!(successes, 1, "exactly one refresh wins the row lock");
    // The first loser detects the reuse and revokes the session; later ones find it revoked.
    let codes: Vec<&str> = attempts
        .iter()
        .filter(|r| r.status != 200)
        .map(|r| {
            assert_eq!(r.status, 401, "{}", r.text);
            r.body["error"]["code"].as_str().expect("code")
        })
        .collect();
    assert!(codes.contains(&"REFRESH_TOKEN_REUSED"), "{codes:?}");
    assert!(
        codes
            .iter()
            .all(|c| *c == "REFRESH_TOKEN_REUSED" || *c == "REFRESH_TOKEN_INVALID"),
        "{codes:?}"
    );
}

/// The race behind the test above, made deterministic: a refresh whose transaction began
/// before a concurrent rotation, and waited for that rotation's row lock, must not count the
/// rotation as inside a grace window of 0. (Measured from the transaction's start, the rotation
/// looked newer than "now", and both refreshes succeeded.)
#[tokio::test]
async fn a_refresh_that_began_before_a_concurrent_rotation_is_reuse_with_no_grace_window() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let rotator = app.db.superuser().await;
    let late = app.db.superuser().await;
    let session = rotator
        .query_one(
            "select org_id, id, current_hashes[1] as presented from app.sessions",
            &[],
        )
        .await
        .expect("the sign-up's session");
    let org_id: uuid::Uuid = session.get("org_id");
    let session_id: uuid::Uuid = session.get("id");
    let presented: Vec<u8> = session.get("presented");
    // Both callers present the same token, so both derive the same successor.
    let successor = vec![7u8; 32];
    let rotate = "select outcome from app.rotate_refresh_token($1, $2, $3, $4, interval '0')";

    // The late refresh's transaction starts first...
    late.batch_execute("begin").await.expect("begin");
    late.query_one("select now()", &[])
        .await
        .expect("the transaction's start");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    // ...then another refresh rotates the token and commits...
    let first: String = rotator
        .query_one(rotate, &[&org_id, &session_id, &presented, &successor])
        .await
        .expect("the first rotation")
        .get(0);
    assert_eq!(first, "rotated");
    // ...and only then does the late one present the same, now replaced, token.
    let second: String = late
        .query_one(rotate, &[&org_id, &session_id, &presented, &successor])
        .await
        .expect("the late rotation")
        .get(0);
    late.batch_execute("commit").await.expect("commit");

    assert_eq!(
        second, "reused",
        "outside a window of 0, a replaced token is reuse"
    );
    app.refresh(&owner.refresh_token)
        .await
        .assert_error(401, "REFRESH_TOKEN_INVALID");
}

/// Several tabs refreshing with one token inside the grace window all get the same successor:
/// however many and however concurrent, none of them revokes the session.
#[tokio::test]
async fn eight_concurrent_refreshes_of_one_token_in_the_grace_window_all_get_one_successor() {
    let app = TestApp::spawn().await; // default grace: 10 s
    let owner = app.signup("acme").await;

    let attempts =
        futures_util::future::join_all((0..8).map(|_| app.refresh(&owner.refresh_token))).await;

    for attempt in &attempts {
        attempt.assert_status(200);
    }
    let successor = attempts[0].str("/refresh_token");
    assert!(
        attempts
            .iter()
            .all(|a| a.str("/refresh_token") == successor),
        "one successor for all"
    );
    for attempt in &attempts {
        app.me(&with_tokens(&owner, attempt))
            .await
            .assert_status(200);
    }
    // Later in the window, still the same successor.
    let again = app.refresh(&owner.refresh_token).await;
    again.assert_status(200);
    assert_eq!(again.str("/refresh_token"), successor);

    // Once the successor itself is exchanged, the old token is reuse: the session ends.
    let next = app.refresh(&successor).await;
    next.assert_status(200);
    app.refresh(&owner.refresh_token)
        .await
        .assert_error(401, "REFRESH_TOKEN_REUSED");
    app.refresh(&next.str("/refresh_token"))
        .await
        .assert_error(401, "REFRESH_TOKEN_INVALID");
}

/// After the grace window, presenting the replaced token is reuse and ends the session.
#[tokio::test]
async fn the_replaced_token_after_the_grace_window_revokes_the_session() {
    let db = TestDb::new().await;
    let mut settings = settings_for(&db);
    settings.refresh_grace_secs = 1;
    let app = TestApp::spawn_with(db, settings).await;
    let owner = app.signup("acme").await;
    let first = app.refresh(&owner.refresh_token).await;
    first.assert_status(200);
    let current = with_tokens(&owner, &first);

    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;

    app.refresh(&owner.refresh_token)
        .await
        .assert_error(401, "REFRESH_TOKEN_REUSED");
    app.me(&current).await.assert_error(401, "SESSION_REVOKED");
}

#[tokio::test]
async fn logout_ends_the_session_on_the_very_next_request() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let other_device = with_tokens(&owner, &app.login("acme", &owner.email, PASSWORD).await);

    app.as_user(&owner)
        .post("/v1/auth/logout")
        .send()
        .await
        .assert_status(204);

    app.me(&owner).await.assert_error(401, "SESSION_REVOKED");
    app.refresh(&owner.refresh_token)
        .await
        .assert_error(401, "REFRESH_TOKEN_INVALID");
    app.me(&other_device).await.assert_status(200);
}

#[tokio::test]
async fn logout_all_ends_every_session_of_the_user_only() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let colleague = app.add_user(&owner, "c@acme.test", "member").await;
    let second = with_tokens(&owner, &app.login("acme", &owner.email, PASSWORD).await);

    app.as_user(&owner)
        .post("/v1/auth/logout-all")
        .send()
        .await
        .assert_status(204);

    for member in [&owner, &second] {
        app.me(member).await.assert_error(401, "SESSION_REVOKED");
    }
    app.me(&colleague).await.assert_status(200);
}

#[tokio::test]
async fn users_list_and_end_their_own_sessions_only() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let laptop_login = app
        .post("/v1/auth/login")
        .header("user-agent", "Laptop/1.0")
        .json(json!({"org_slug": "acme", "email": owner.email, "password": PASSWORD}))
        .send()
        .await;
    let laptop = with_tokens(&owner, &laptop_login);
    let colleague = app.add_user(&owner, "c@acme.test", "admin").await;

    let list = app.as_user(&owner).get("/v1/me/sessions").send().await;
    list.assert_status(200);
    let items = list.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    assert_eq!(items.iter().filter(|s| s["current"] == true).count(), 1);
    let laptop_session = items
        .iter()
        .find(|s| s["user_agent"] == "Laptop/1.0")
        .expect("the laptop session is listed");
    assert_eq!(laptop_session["client_addr"], "127.0.0.1");
    assert!(laptop_session.get("current_hashes").is_none() && !list.text.contains("hash"));
    let laptop_id = laptop_session["id"].as_str().expect("id").to_owned();

    // A colleague (even an admin) cannot end someone else's session: it is not found.
    app.as_user(&colleague)
        .delete(&format!("/v1/me/sessions/{laptop_id}"))
        .send()
        .await
        .assert_error(404, "NOT_FOUND");
    app.me(&laptop).await.assert_status(200);

    app.as_user(&owner)
        .delete(&format!("/v1/me/sessions/{laptop_id}"))
        .send()
        .await
        .assert_status(204);
    app.me(&laptop).await.assert_error(401, "SESSION_REVOKED");
    app.me(&owner).await.assert_status(200);
}

#[tokio::test]
async fn changing_ones_password_ends_the_other_sessions() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let elsewhere = with_tokens(&owner, &app.login("acme", &owner.email, PASSWORD).await);
    let bob = app.add_user(&owner, "bob@acme.test", "member").await;

    app.as_user(&owner)
        .patch(&format!("/v1/users/{}", owner.user_id))
        .json(json!({"password": "my new password", "current_password": PASSWORD}))
        .send()
        .await
        .assert_status(200);

    app.me(&owner).await.assert_status(200);
    app.me(&elsewhere)
        .await
        .assert_error(401, "SESSION_REVOKED");
    // An admin resetting someone's password ends all of that user's sessions.
    app.as_user(&owner)
        .patch(&format!("/v1/users/{}", bob.user_id))
        .json(json!({"password": "reset by the owner"}))
        .send()
        .await
        .assert_status(200);
    app.me(&bob).await.assert_error(401, "SESSION_REVOKED");
}

#[tokio::test]
async fn a_demoted_admin_loses_admin_rights_on_the_very_next_request() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let admin = app.add_user(&owner, "admin@acme.test", "admin").await;
    let new_user = |email: &str| json!({"email": email, "display_name": "N", "password": PASSWORD});
    app.as_user(&admin)
        .post("/v1/users")
        .json(new_user("first@acme.test"))
        .send()
        .await
        .assert_status(201);

    app.as_user(&owner)
        .patch(&format!("/v1/users/{}", admin.user_id))
        .json(json!({"role": "member"}))
        .send()
        .await
        .assert_status(200);

    // Same access token, which still says "admin": the database's role wins.
    let resp = app
        .as_user(&admin)
        .post("/v1/users")
        .json(new_user("second@acme.test"))
        .send()
        .await;
    resp.assert_error(403, "FORBIDDEN");
    let db = app.db.superuser().await;
    let created: i64 = db
        .query_one(
            "select count(*) from app.users where email = 'second@acme.test'",
            &[],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(created, 0, "the refused insert was rolled back");
    // And a promoted member gains the rights at once, without a new token.
    let member = app.add_user(&owner, "m@acme.test", "member").await;
    app.as_user(&owner)
        .patch(&format!("/v1/users/{}", member.user_id))
        .json(json!({"role": "admin"}))
        .send()
        .await
        .assert_status(200);
    app.as_user(&member)
        .post("/v1/users")
        .json(new_user("third@acme.test"))
        .send()
        .await
        .assert_status(201);
}

#[tokio::test]
async fn an_expired_session_neither_authenticates_nor_refreshes() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    app.db
        .superuser()
        .await
        .batch_execute("update app.sessions set expires_at = now() - interval '1 second'")
        .await
        .expect("expire");

    app.me(&owner).await.assert_error(401, "SESSION_REVOKED");
    app.refresh(&owner.refresh_token)
        .await
        .assert_error(401, "REFRESH_TOKEN_INVALID");
}

#[tokio::test]
async fn malformed_or_forged_refresh_tokens_are_invalid() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let mut forged = owner.refresh_token.clone();
    // Same org and session, different secret bits.
    forged.replace_range(
        80..86,
        if &forged[80..86] == "AAAAAA" {
            "BBBBBB"
        } else {
            "AAAAAA"
        },
    );

    for token in ["", "short", &"A".repeat(86), &forged] {
        let resp = app.refresh(token).await;
        assert_eq!(resp.status, 401, "{token:.12}: {}", resp.text);
        resp.assert_error(401, "REFRESH_TOKEN_INVALID");
    }
    // The genuine token still works: a forgery is not a reuse.
    app.refresh(&owner.refresh_token).await.assert_status(200);
}

#[tokio::test]
async fn tokens_signed_with_a_previous_key_keep_working_after_a_rotation() {
    let db = TestDb::new().await;
    let old = settings_for(&db);
    let url = db.url();
    let app = TestApp::spawn_with(db, old.clone()).await;
    let owner = app.signup("acme").await;

    // A second instance on the same database, after the key rotation.
    let mut rotated = old.clone();
    rotated.jwt_secret = Some(secrecy::SecretString::from(
        "a-brand-new-signing-key-0123456789".to_owned(),
    ));
    rotated.jwt_previous_secrets = old.jwt_secret.iter().cloned().collect();
    let new_app = TestApp::spawn_with(crate::support::TestDb::attach(&url), rotated.clone()).await;
    new_app.me(&owner).await.assert_status(200);
    let fresh = with_tokens(&owner, &new_app.login("acme", &owner.email, PASSWORD).await);
    new_app.me(&fresh).await.assert_status(200);

    // Once the old key is retired, its tokens are refused.
    let mut retired = rotated.clone();
    retired.jwt_previous_secrets = Vec::new();
    let strict = TestApp::spawn_with(crate::support::TestDb::attach(&url), retired).await;
    strict.me(&owner).await.assert_error(401, "TOKEN_INVALID");
    strict.me(&fresh).await.assert_status(200);
}
