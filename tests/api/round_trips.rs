//! The cost of the tenant context and of the session check, in database round trips, counted
//! by a proxy between the service and PostgreSQL: setting the role, the tenant settings,
//! checking the session and, for a read, committing travel in the same round trip as the
//! request's query.

use std::time::Duration;

use crate::support::proxy::delaying_proxy;
use crate::support::{TestApp, TestDb, settings_for};

const ONE_WAY: Duration = Duration::from_millis(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_authenticated_read_costs_one_round_trip_session_check_and_commit_included() {
    let db = TestDb::new().await;
    let mut settings = settings_for(&db);
    let real_port = db.config.get_ports().first().copied().unwrap_or(5432);
    let upstream = format!("127.0.0.1:{real_port}").parse().expect("addr");
    let proxy = delaying_proxy(upstream, ONE_WAY).await;
    let mut via_proxy = tokio_postgres::Config::new();
    via_proxy
        .host("127.0.0.1")
        .port(proxy.addr.port())
        .user(db.config.get_user().unwrap_or("postgres"))
        .dbname(&db.name);
    if let Some(password) = db.config.get_password() {
        via_proxy.password(password);
    }
    settings.database_url = via_proxy;
    settings.db_pool_size = 1; // one connection: its prepared statements are reused
    let app = TestApp::spawn_with(db, settings).await;
    let owner = app.signup("acme").await;
    for _ in 0..3 {
        app.me(&owner).await.assert_status(200); // warm-up
    }

    let before = proxy.round_trips();
    let reads = 7;
    for _ in 0..reads {
        app.me(&owner).await.assert_status(200);
    }
    let per_read = (proxy.round_trips() - before) as f64 / f64::from(reads);
    println!("GET /v1/me: {per_read:.2} database round trips");

    // One round trip: BEGIN, SET LOCAL ROLE, SELECT app.enter() (context, session check,
    // role), the query and COMMIT are written before any answer is read. Counted by the
    // proxy (the client sending again after an answer), not timed.
    assert_eq!(
        per_read, 1.0,
        "a read must cost one round trip, session check and commit included"
    );
}

/// A create writes its event without an extra round trip: the context and the insert travel
/// together, then the event and COMMIT (the event is queued for COMMIT's round trip).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_and_its_event_cost_two_round_trips() {
    let db = TestDb::new().await;
    let mut settings = settings_for(&db);
    let real_port = db.config.get_ports().first().copied().unwrap_or(5432);
    let upstream = format!("127.0.0.1:{real_port}").parse().expect("addr");
    let proxy = delaying_proxy(upstream, ONE_WAY).await;
    let mut via_proxy = tokio_postgres::Config::new();
    via_proxy
        .host("127.0.0.1")
        .port(proxy.addr.port())
        .user(db.config.get_user().unwrap_or("postgres"))
        .dbname(&db.name);
    if let Some(password) = db.config.get_password() {
        via_proxy.password(password);
    }
    settings.database_url = via_proxy;
    settings.db_pool_size = 1; // one connection: its prepared statements are reused
    let app = TestApp::spawn_with(db, settings).await;
    let owner = app.signup("acme").await;
    let create = |name: String| {
        app.as_user(&owner)
            .post("/v1/projects")
            .json(serde_json::json!({ "name": name }))
            .send()
    };
    for i in 0..3 {
        create(format!("warm-up {i}")).await.assert_status(201);
    }

    let before = proxy.round_trips();
    let creates = 7;
    for i in 0..creates {
        create(format!("p{i}")).await.assert_status(201);
    }
    let per_create = (proxy.round_trips() - before) as f64 / f64::from(creates);
    println!("POST /v1/projects: {per_create:.2} database round trips");

    assert_eq!(
        per_create, 2.0,
        "the context with the insert, then the event with COMMIT: no round trip for the event"
    );
    let events: i64 = app
        .db
        .superuser()
        .await
        .query_one(
            "select count(*) from app.events where type = 'project.created'",
            &[],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(events, 10, "every create wrote its event");
}
