//! Limits on what an unauthenticated client can make the service do: sign-ups per client
//! address, one bounded queue for every password hash, and refreshes counted against a
//! session only once its token verifies, failures against the client address.

use serde_json::json;
use tenantry::auth::refresh::RefreshToken;
use tenantry::config::Settings;

use crate::support::{PASSWORD, TestApp, TestDb, settings_for};

async fn app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let db = TestDb::new().await;
    let mut settings = settings_for(&db);
    adjust(&mut settings);
    TestApp::spawn_with(db, settings).await
}

/// A token that names `genuine`'s organization and session (readable from any of its
/// tokens) with random secret bits of its own.
fn forged_like(genuine: &str) -> String {
    let parsed = RefreshToken::parse(genuine).expect("a refresh token");
    RefreshToken::generate(parsed.org_id, parsed.session_id).encode()
}

#[tokio::test]
async fn forged_refresh_tokens_naming_a_session_do_not_spend_its_refresh_budget() {
    let app = app_with(|s| s.account_attempts_per_minute = 10).await;
    let victim = app.signup("acme").await;

    for _ in 0..15 {
        app.refresh(&forged_like(&victim.refresh_token))
            .await
            .assert_error(401, "REFRESH_TOKEN_INVALID");
    }

    app.refresh(&victim.refresh_token).await.assert_status(200);
}

#[tokio::test]
async fn a_client_presenting_refresh_tokens_that_do_not_verify_is_rate_limited() {
    let app = app_with(|s| s.refresh_failures_per_minute = 3).await;
    let owner = app.signup("acme").await;
    let garbage = "A".repeat(86);

    for token in [
        garbage.as_str(),
        "short",
        &forged_like(&owner.refresh_token),
    ] {
        app.refresh(token)
            .await
            .assert_error(401, "REFRESH_TOKEN_INVALID");
    }
    let limited = app.refresh(&forged_like(&owner.refresh_token)).await;

    limited.assert_error(429, "RATE_LIMITED");
    let retry_after: u64 = limited
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    // Failures are counted, not attempts: a token that verifies still refreshes.
    app.refresh(&owner.refresh_token).await.assert_status(200);
}

#[tokio::test]
async fn a_refresh_refused_by_the_session_limit_leaves_the_presented_token_current() {
    let app = app_with(|s| s.account_attempts_per_minute = 1).await;
    let owner = app.signup("acme").await;
    let first = app.refresh(&owner.refresh_token).await;
    first.assert_status(200);
    let current = first.str("/refresh_token");

    app.refresh(&current)
        .await
        .assert_error(429, "RATE_LIMITED");

    // The refused refresh was rolled back: the token is still the session's current one, not
    // a retired one whose next use would end the session.
    let parsed = RefreshToken::parse(&current).expect("a refresh token");
    let row = app
        .db
        .superuser()
        .await
        .query_one(
            "select current_hashes, retired_hashes, revoked_at is null as live from app.sessions where id = $1",
            &[parsed.session_id.as_uuid()],
        )
        .await
        .expect("the session");
    let current_hashes: Vec<Vec<u8>> = row.get("current_hashes");
    let retired_hashes: Vec<Vec<u8>> = row.get("retired_hashes");
    assert_eq!(current_hashes, vec![parsed.hash()]);
    assert!(!retired_hashes.contains(&parsed.hash()));
    assert!(row.get::<_, bool>("live"));
}

#[tokio::test]
async fn signing_up_from_one_address_too_often_is_rate_limited_for_the_hour() {
    let app = app_with(|s| s.signups_per_hour = 2).await;
    app.signup("first").await;
    app.signup("second").await;

    let third = app
        .post("/v1/auth/signup")
        .json(
            json!({"org_name": "Third", "org_slug": "third", "email": "o@third.test",
                     "display_name": "O", "password": PASSWORD}),
        )
        .send()
        .await;

    third.assert_error(429, "RATE_LIMITED");
    let retry_after: u64 = third
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((60..=3600).contains(&retry_after), "{retry_after}");
    let orgs: i64 = app
        .db
        .superuser()
        .await
        .query_one("select count(*) from app.organizations", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(orgs, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_work_beyond_the_queue_is_refused_with_503_and_retry_after() {
    let app = app_with(|s| {
        s.password_hash_concurrency = Some(1);
        s.password_hash_queue = 0;
    })
    .await;
    app.signup("acme").await;

    // Twelve log-ins at once, each a verification: one runs, none may wait.
    let attempts = (0..12).map(|i| {
        app.login(
            "acme",
            "owner@acme.test",
            if i == 0 { PASSWORD } else { "wrong password" },
        )
    });
    let responses = futures_util::future::join_all(attempts).await;

    let refused: Vec<_> = responses.iter().filter(|r| r.status == 503).collect();
    let served = responses
        .iter()
        .filter(|r| [200, 401].contains(&r.status))
        .count();
    assert_eq!(refused.len() + served, 12, "only 200, 401 and 503");
    assert!(!refused.is_empty(), "a full queue refuses");
    assert!(served >= 1, "the one that ran was answered");
    for resp in refused {
        resp.assert_error(503, "OVERLOADED");
        assert_eq!(resp.header("retry-after"), Some("1"));
    }
}
