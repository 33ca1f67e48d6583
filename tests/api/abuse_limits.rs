//! Limits on what an unauthenticated client can make the service do: sign-ups per client
//! address and one bounded queue for every password hash.

use serde_json::json;
use tenantry::config::Settings;

use crate::support::{PASSWORD, TestApp, TestDb, settings_for};

async fn app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let db = TestDb::new().await;
    let mut settings = settings_for(&db);
    adjust(&mut settings);
    TestApp::spawn_with(db, settings).await
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
