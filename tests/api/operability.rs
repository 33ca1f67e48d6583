//! Observability and limits: metrics, readiness, logs without secrets, and every timeout
//! answering the envelope without leaving a connection in a bad state.

use serde_json::json;
use tenantry::db::Sql;

use crate::support::process::ServiceProcess;
use crate::support::{PASSWORD, TEST_JWT_SECRET, TestApp, TestDb, TestResponse, settings_for};

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_outcome() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    app.as_user(&owner)
        .get(&format!("/v1/users/{}", owner.user_id))
        .send()
        .await
        .assert_status(200);
    app.login("acme", &owner.email, PASSWORD)
        .await
        .assert_status(200);

    let resp = app.get("/metrics").send().await;

    resp.assert_status(200);
    let text = &resp.text;
    assert!(
        text.contains(
            r#"tenantry_http_requests_total{method="GET",route="/v1/users/{id}",status="200"}"#
        ),
        "{text}"
    );
    assert!(
        text.contains("tenantry_http_request_duration_seconds_bucket"),
        "latency histogram"
    );
    assert!(
        text.contains("tenantry_db_transaction_duration_seconds_count"),
        "transactions"
    );
    assert!(
        text.contains(r#"tenantry_login_attempts_total{outcome="success"}"#),
        "logins"
    );
    assert!(
        !text.contains(&owner.user_id),
        "no raw paths or ids in labels"
    );
}

/// The value of an unlabelled metric in an OpenMetrics text.
fn metric(text: &str, name: &str) -> i64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
}

async fn pool_figures(app: &TestApp) -> (i64, i64, i64) {
    let text = app.get("/metrics").send().await.text;
    (
        metric(&text, "tenantry_db_pool_size"),
        metric(&text, "tenantry_db_pool_available"),
        metric(&text, "tenantry_db_pool_waiting"),
    )
}

#[tokio::test]
async fn the_pool_metrics_follow_connections_held_and_requests_waiting() {
    let db = TestDb::new().await;
    let mut settings = settings_for(&db);
    settings.db_pool_size = 3;
    settings.db_acquire_timeout_ms = 10_000;
    let app = TestApp::spawn_with(db, settings).await;
    let owner = app.signup("acme").await;
    let principal = app.principal(&owner);
    let (size, available, waiting) = pool_figures(&app).await;
    assert_eq!(
        (available, waiting),
        (size, 0),
        "idle: every open connection is available"
    );

    // Every connection held inside an open transaction, and one request waiting for one.
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut tx = app.state.db.tenant_tx(&principal).await.expect("tx");
        tx.query(&Sql::new("select 1"), &[]).await.expect("query");
        held.push(tx);
    }
    let waiter = tokio::spawn({
        let (http, url, token) = (app.http.clone(), app.url("/v1/me"), owner.token.clone());
        async move {
            http.get(url)
                .bearer_auth(token)
                .send()
                .await
                .map(|r| r.status())
        }
    });
    let mut busy = pool_figures(&app).await;
    for _ in 0..50 {
        if busy.2 == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        busy = pool_figures(&app).await;
    }
    assert_eq!(
        busy,
        (3, 0, 1),
        "loaded: three connections open, none available, one waiting"
    );

    for tx in held {
        tx.commit().await.expect("commit");
    }
    let served = waiter
        .await
        .expect("the waiting request")
        .expect("a response");
    assert_eq!(served.as_u16(), 200, "the waiting request got a connection");
    let (size, available, waiting) = pool_figures(&app).await;
    assert_eq!(
        (size, available, waiting),
        (3, 3, 0),
        "released: all available again"
    );
}

#[tokio::test]
async fn a_metrics_token_guards_the_metrics() {
    let db = TestDb::new().await;
    let mut settings = settings_for(&db);
    settings.metrics_token = Some(secrecy::SecretString::from("scrape-me-please".to_owned()));
    let app = TestApp::spawn_with(db, settings).await;

    app.get("/metrics")
        .send()
        .await
        .assert_error(401, "UNAUTHENTICATED");
    app.get("/metrics")
        .bearer("wrong")
        .send()
        .await
        .assert_error(401, "UNAUTHENTICATED");
    app.get("/metrics")
        .bearer("scrape-me-please")
        .send()
        .await
        .assert_status(200);
}

#[tokio::test]
async fn readiness_fails_while_migrations_are_pending() {
    let app = TestApp::spawn().await;
    app.get("/readyz").send().await.assert_status(200);

    app.db
        .superuser()
        .await
        .batch_execute("delete from refinery_schema_history where version = (select max(version) from refinery_schema_history)")
        .await
        .expect("forget the newest migration");

    app.get("/readyz")
        .send()
        .await
        .assert_error(503, "MIGRATIONS_PENDING");
}

/// Sends a JSON request to the child process.
async fn call(
    service: &ServiceProcess,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> TestResponse {
    let mut req = reqwest::Client::new().request(method, service.url(path));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    TestResponse::read(req.send().await.expect("request")).await
}

#[tokio::test]
async fn logs_carry_request_ids_and_callers_but_never_secrets() {
    // The real binary at the most verbose level a user can ask for.
    let db = TestDb::new().await;
    let mut service = ServiceProcess::spawn(&db.url(), &[("RUST_LOG", "trace")]);
    service.wait_ready().await;
    use reqwest::Method;

    let signup = call(
        &service,
        Method::POST,
        "/v1/auth/signup",
        None,
        Some(json!({
            "org_name": "Acme", "org_slug": "acme", "email": "owner@acme.test",
            "display_name": "Owner", "password": PASSWORD,
        })),
    )
    .await;
    signup.assert_status(201);
    let owner_token = signup.str("/access_token");
    let org_id = signup.str("/organization/id");
    let bob = call(
        &service,
        Method::POST,
        "/v1/users",
        Some(&owner_token),
        Some(json!({
            "email": "bob@acme.test", "display_name": "Bob", "password": "bobs first secret",
        })),
    )
    .await;
    bob.assert_status(201);
    let bob_id = bob.str("/id");
    call(
        &service,
        Method::PATCH,
        &format!("/v1/users/{bob_id}"),
        Some(&owner_token),
        Some(json!({"password": "a whole new secret"})),
    )
    .await
    .assert_status(200);
    let login = call(
        &service,
        Method::POST,
        "/v1/auth/login",
        None,
        Some(json!({
            "org_slug": "acme", "email": "bob@acme.test", "password": "a whole new secret",
        })),
    )
    .await;
    login.assert_status(200);
    let bob_token = login.str("/access_token");
    call(&service, Method::GET, "/v1/me", Some(&bob_token), None)
        .await
        .assert_status(200);
    call(
        &service,
        Method::POST,
        "/v1/auth/login",
        None,
        Some(json!({
            "org_slug": "acme", "email": "bob@acme.test", "password": "wrong password!",
        })),
    )
    .await
    .assert_status(401);
    call(
        &service,
        Method::GET,
        "/v1/me",
        Some("eyJhbGciOiJIUzI1NiJ9.forged.token"),
        None,
    )
    .await
    .assert_status(401);
    let created_key = call(
        &service,
        Method::POST,
        "/v1/api-keys",
        Some(&owner_token),
        Some(json!({"name": "CI", "role": "member"})),
    )
    .await;
    created_key.assert_status(201);
    let api_key = created_key.str("/key");
    let api_key_id = created_key.str("/id");
    call(&service, Method::GET, "/v1/me", Some(&api_key), None)
        .await
        .assert_status(200);
    // A key whose secret part was changed (any rejected key is logged alike).
    let wrong_key = format!("{}0{}", &api_key[..60], &api_key[61..]);
    call(&service, Method::GET, "/v1/me", Some(&wrong_key), None)
        .await
        .assert_status(401);
    let stored_hash: String = db
        .superuser()
        .await
        .query_one(
            "select password_hash from app.users where email = 'bob@acme.test'",
            &[],
        )
        .await
        .expect("hash")
        .get(0);
    let key_hash: String = db
        .superuser()
        .await
        .query_one("select encode(secret_hash, 'hex') from app.api_keys", &[])
        .await
        .expect("key hash")
        .get(0);
    let logs = service.logs();

    assert!(
        logs.lines().count() >= 10,
        "the scenario was logged:\n{logs}"
    );
    for secret in [
        PASSWORD,
        "bobs first secret",
        "a whole new secret",
        "wrong password!",
        TEST_JWT_SECRET,
        owner_token.as_str(),
        bob_token.as_str(),
        "forged.token",
        stored_hash.as_str(),
        "$argon2id$",
        api_key.as_str(),
        // The key's secret part (its 44 characters after the two ids) and its hash.
        &api_key[4 + 44..4 + 88],
        wrong_key.as_str(),
        key_hash.as_str(),
    ] {
        assert!(
            !logs.contains(secret),
            "a secret appears in the logs: {secret:.12}..."
        );
    }
    let request_lines: Vec<serde_json::Value> = logs
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|line| line["target"] == "tenantry::http")
        .collect();
    assert!(request_lines.len() >= 7, "one line per request:\n{logs}");
    for line in &request_lines {
        assert!(
            line["span"]["request_id"].is_string(),
            "request id in {line}"
        );
        assert!(
            line["route"].is_string() && line["status"].is_number(),
            "{line}"
        );
        assert!(line["latency_ms"].is_number(), "{line}");
    }
    assert!(
        request_lines.iter().any(|l| l["route"] == "/v1/me"
            && l["status"] == 200
            && l["org_id"] == org_id.as_str()
            && l["actor_type"] == "user"
            && l["actor_id"] == bob_id.as_str()),
        "authenticated request lines name the caller:\n{logs}"
    );
    assert!(
        request_lines.iter().any(|l| l["route"] == "/v1/me"
            && l["status"] == 200
            && l["org_id"] == org_id.as_str()
            && l["actor_type"] == "api_key"
            && l["actor_id"] == api_key_id.as_str()),
        "a key's request lines name the key:\n{logs}"
    );
}

/// Makes updates of users whose display name starts with `slow` sleep for `seconds`.
async fn slow_updates(app: &TestApp, seconds: f64) {
    let admin = app.db.superuser().await;
    // One statement per call (Citus forwards a statement's text to the workers), and on Citus
    // a trigger on a distributed table must be declared safe: it is.
    for statement in [
        "set citus.enable_unsafe_triggers = on".to_owned(),
        format!(
            "create function app.test_slow() returns trigger language plpgsql as $$
             begin perform pg_sleep({seconds}); return new; end $$"
        ),
        "create trigger test_slow before update on app.users for each row
             when (new.display_name like 'slow%') execute function app.test_slow()"
            .to_owned(),
    ] {
        admin
            .batch_execute(&statement)
            .await
            .expect("install the slow trigger");
    }
}

/// The backend ids of the service's pooled connections to `db`.
async fn pooled_backends(app: &TestApp) -> Vec<i32> {
    app.db
        .superuser()
        .await
        .query(
            "select pid from pg_stat_activity
             where datname = current_database() and application_name = 'tenantry'
             order by pid",
            &[],
        )
        .await
        .expect("pg_stat_activity")
        .iter()
        .map(|row| row.get(0))
        .collect()
}

#[tokio::test]
async fn a_request_over_its_timeout_is_a_503_rolled_back_and_its_connection_replaced() {
    let db = TestDb::new().await;
    // Signed up through a service without the short timeout (argon2 on a loaded machine can
    // take longer than it), which then stops and closes its pool.
    let setup = TestApp::spawn_with(TestDb::attach(&db.url()), settings_for(&db)).await;
    let owner = setup.signup("acme").await;
    slow_updates(&setup, 5.0).await;
    drop(setup);
    let mut settings = settings_for(&db);
    settings.request_timeout_ms = 1000;
    settings.db_pool_size = 1;
    let app = TestApp::spawn_with(db, settings).await;
    let mut before = pooled_backends(&app).await;
    for _ in 0..100 {
        if before.len() == 1 {
            break;
        }
        app.me(&owner).await.assert_status(200);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        before = pooled_backends(&app).await;
    }
    assert_eq!(
        before.len(),
        1,
        "premise: the pool's one connection is open: {before:?}"
    );

    let started = std::time::Instant::now();
    let resp = app
        .as_user(&owner)
        .patch(&format!("/v1/users/{}", owner.user_id))
        .json(json!({"display_name": "slow change"}))
        .send()
        .await;

    resp.assert_error(503, "TIMEOUT");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "answered at the timeout, not after the 5 s statement"
    );
    // Its statement was cancelled and its connection closed (a cancel arrives asynchronously
    // and could hit the next statement on a reused connection): the backend goes away.
    let mut backends = pooled_backends(&app).await;
    for _ in 0..100 {
        if !backends.contains(&before[0]) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        backends = pooled_backends(&app).await;
    }
    assert!(
        !backends.contains(&before[0]),
        "the abandoned connection was closed"
    );
    // A new connection serves the next request, and the change was rolled back.
    let me = app.me(&owner).await;
    me.assert_status(200);
    assert_eq!(me.body["display_name"], "Owner");
    let after = pooled_backends(&app).await;
    assert_eq!(after.len(), 1, "{after:?}");
    assert_ne!(after, before, "a new connection");
}

#[tokio::test]
async fn a_statement_over_the_statement_timeout_is_a_503() {
    let db = TestDb::new().await;
    let mut settings = settings_for(&db);
    settings.db_statement_timeout_ms = 200;
    let app = TestApp::spawn_with(db, settings).await;
    let owner = app.signup("acme").await;
    slow_updates(&app, 2.0).await;

    let resp = app
        .as_user(&owner)
        .patch(&format!("/v1/users/{}", owner.user_id))
        .json(json!({"display_name": "slow change"}))
        .send()
        .await;

    resp.assert_error(503, "TIMEOUT");
    app.me(&owner).await.assert_status(200);
}

#[tokio::test]
async fn an_exhausted_pool_answers_503_after_the_acquire_timeout() {
    let db = TestDb::new().await;
    let mut settings = settings_for(&db);
    settings.db_pool_size = 1;
    settings.db_acquire_timeout_ms = 200;
    let app = TestApp::spawn_with(db, settings).await;
    let owner = app.signup("acme").await;
    let principal = app.principal(&owner);

    // Hold the only connection inside an open transaction.
    let mut held = app.state.db.tenant_tx(&principal).await.expect("tx");
    held.query(&Sql::new("select 1"), &[]).await.expect("query");
    let resp = app.me(&owner).await;
    resp.assert_error(503, "DATABASE_UNAVAILABLE");
    held.commit().await.expect("commit");

    app.me(&owner).await.assert_status(200);
}
