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
