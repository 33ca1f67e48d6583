//! Faults, tested rather than hoped for: conflicts that need a retry, a database that drops
//! every connection under load, SIGTERM with requests in flight, and start-up without a
//! database.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::json;

use crate::support::process::ServiceProcess;
use crate::support::{PASSWORD, TestApp, TestDb, TestResponse};

/// Makes the next `failures` updates of `app.users` fail with `sqlstate` (counting every
/// attempt in the sequence `public.test_attempts`).
async fn failing_updates(app: &TestApp, sqlstate: &str, failures: i64) {
    app.db
        .superuser()
        .await
        .batch_execute(&format!(
            "create sequence public.test_attempts;
             create function public.test_conflict() returns trigger
                 language plpgsql security definer set search_path = pg_catalog as $$
             begin
                 if nextval('public.test_attempts') <= {failures} then
                     raise exception 'simulated conflict' using errcode = '{sqlstate}';
                 end if;
                 return new;
             end $$;
             create trigger test_conflict before update on app.users
                 for each row execute function public.test_conflict();"
        ))
        .await
        .expect("install the conflict trigger");
}

async fn attempts(app: &TestApp) -> i64 {
    app.db
        .superuser()
        .await
        .query_one("select last_value from public.test_attempts", &[])
        .await
        .expect("attempts")
        .get(0)
}

#[tokio::test]
async fn serialization_failures_and_deadlocks_are_retried_until_they_pass() {
    for sqlstate in ["40001", "40P01"] {
        let app = TestApp::spawn().await;
        let owner = app.signup("acme").await;
        failing_updates(&app, sqlstate, 2).await;

        let resp = app
            .as_user(&owner)
            .patch(&format!("/v1/users/{}", owner.user_id))
            .json(json!({"display_name": "Persistent"}))
            .send()
            .await;

        resp.assert_status(200);
        assert_eq!(resp.body["display_name"], "Persistent");
        assert_eq!(
            attempts(&app).await,
            3,
            "{sqlstate}: two failures, then success"
        );
    }
}

#[tokio::test]
async fn a_conflict_that_persists_gives_503_after_a_bounded_number_of_attempts() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    failing_updates(&app, "40001", 1_000).await;

    let resp = app
        .as_user(&owner)
        .patch(&format!("/v1/users/{}", owner.user_id))
        .json(json!({"display_name": "Never"}))
        .send()
        .await;

    resp.assert_error(503, "DATABASE_BUSY");
    assert_eq!(
        attempts(&app).await,
        i64::from(tenantry::service::MAX_ATTEMPTS)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_connections_give_fast_503s_then_recover_and_lose_no_acknowledged_write() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let admin = app.db.superuser().await;
    let database = app.db.name.clone();

    // Kill every other backend of this database every 50 ms for 1.5 s.
    let killer = tokio::spawn(async move {
        let stop = Instant::now() + Duration::from_millis(1500);
        let mut kills = 0u64;
        while Instant::now() < stop {
            let killed: i64 = admin
                .query_one(
                    "select count(pg_terminate_backend(pid)) from pg_stat_activity
                      where datname = $1 and pid <> pg_backend_pid()",
                    &[&database],
                )
                .await
                .expect("terminate")
                .get(0);
            kills += killed as u64;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        kills
    });
    // Project creates (a write without an argon2 hash, whose queue would blur "fast") are
    // sent throughout the fault, eight at a time.
    let stop = Instant::now() + Duration::from_millis(1500);
    let app_ref = &app;
    let owner_ref = &owner;
    let results: Vec<(String, TestResponse, Duration)> = futures_util::stream::iter(0..5000)
        .take_while(|_| std::future::ready(Instant::now() < stop))
        .map(|i| async move {
            let name = format!("w{i}");
            let started = Instant::now();
            let resp = app_ref
                .as_user(owner_ref)
                .post("/v1/projects")
                .json(json!({"name": name}))
                .send()
                .await;
            (name, resp, started.elapsed())
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let kills = killer.await.expect("killer");

    assert!(kills > 0, "the fault was injected");
    let mut acknowledged = HashSet::new();
    let mut unavailable = 0;
    for (name, resp, took) in &results {
        assert!(
            resp.status == 201 || resp.status == 503,
            "only success or 503 under faults, got {}: {}",
            resp.status,
            resp.text
        );
        assert!(
            *took < Duration::from_secs(5),
            "a request hung for {took:?}"
        );
        if resp.status == 201 {
            acknowledged.insert(name.clone());
        } else {
            resp.assert_error(503, "DATABASE_UNAVAILABLE");
            unavailable += 1;
        }
    }
    assert!(
        unavailable > 0,
        "requests met the fault ({kills} backends killed)"
    );

    // Within two seconds of the last kill, requests succeed again without a restart.
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let resp = app.me(&owner).await;
        if resp.status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "no recovery: {}", resp.text);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stored: HashSet<String> = app
        .db
        .superuser()
        .await
        .query("select name from app.projects where name like 'w%'", &[])
        .await
        .expect("stored")
        .iter()
        .map(|row| row.get(0))
        .collect();
    let lost: Vec<_> = acknowledged.difference(&stored).collect();
    assert!(lost.is_empty(), "acknowledged writes were lost: {lost:?}");
}

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish_then_exits_zero() {
    let db = TestDb::new().await;
    let mut service = ServiceProcess::spawn(&db.url(), &[("TENANTRY_SHUTDOWN_GRACE_MS", "10000")]);
    service.wait_ready().await;
    let client = reqwest::Client::new();
    let signup = client
        .post(service.url("/v1/auth/signup"))
        .json(
            &json!({"org_name": "Acme", "org_slug": "acme", "email": "o@acme.test",
                      "display_name": "O", "password": PASSWORD}),
        )
        .send()
        .await
        .expect("signup");
    let signup = TestResponse::read(signup).await;
    signup.assert_status(201);
    let token = signup.str("/access_token");
    // Inserting this user takes a second.
    let admin = db.superuser().await;
    // One statement per call (Citus forwards a statement's text to the workers), and on Citus
    // a trigger on a distributed table must be declared safe: it is.
    for statement in [
        "set citus.enable_unsafe_triggers = on",
        "create function app.test_slow() returns trigger language plpgsql as $$
         begin perform pg_sleep(1); return new; end $$",
        "create trigger test_slow before insert on app.users for each row
             when (new.email like 'slow%') execute function app.test_slow()",
    ] {
        admin.batch_execute(statement).await.expect("slow trigger");
    }

    let in_flight = tokio::spawn({
        let client = client.clone();
        let url = service.url("/v1/users");
        let token = token.clone();
        async move {
            let resp = client
                .post(url)
                .bearer_auth(token)
                .json(
                    &json!({"email": "slow@acme.test", "display_name": "S", "password": PASSWORD}),
                )
                .send()
                .await
                .expect("the in-flight request completes");
            TestResponse::read(resp).await
        }
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    service.sigterm();

    let resp = in_flight.await.expect("task");
    resp.assert_status(201);
    let status = service
        .wait_exit(Duration::from_secs(10))
        .await
        .expect("the process exits after draining");
    assert!(
        status.success(),
        "exit status {status}:\n{}",
        service.logs()
    );
    assert!(service.logs().contains("shutdown signal received"));
    let stored: i64 = db
        .superuser()
        .await
        .query_one(
            "select count(*) from app.users where email = 'slow@acme.test'",
            &[],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(stored, 1);
}

#[tokio::test]
async fn start_up_without_a_database_retries_with_backoff_then_exits_non_zero() {
    let started = Instant::now();
    let mut service = ServiceProcess::spawn(
        "postgres://postgres@127.0.0.1:1/tenantry",
        &[
            ("TENANTRY_DB_STARTUP_TIMEOUT_MS", "1500"),
            ("TENANTRY_DB_CONNECT_TIMEOUT_MS", "500"),
        ],
    );

    let status = service
        .wait_exit(Duration::from_secs(15))
        .await
        .expect("the process gives up");

    assert!(!status.success(), "a non-zero exit");
    let logs = service.logs();
    assert!(
        logs.matches("database unreachable at start-up; retrying")
            .count()
            >= 2,
        "each retry is logged:\n{logs}"
    );
    assert!(
        logs.contains("stayed unreachable"),
        "a clear final message:\n{logs}"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "it waited before giving up"
    );
}
