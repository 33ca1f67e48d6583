//! The cost of the tenant context and of the session check, in database round trips,
//! measured through a proxy that delays every packet: setting the role, the tenant settings,
//! checking the session and, for a read, committing travel in the same round trip as the
//! request's query.

use std::time::{Duration, Instant};

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
        .port(proxy.port())
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

    let mut samples = Vec::new();
    for _ in 0..7 {
        let started = Instant::now();
        app.me(&owner).await.assert_status(200);
        samples.push(started.elapsed());
    }
    samples.sort();
    let median = samples[samples.len() / 2];
    let round_trip = ONE_WAY * 2;
    let round_trips = median.as_secs_f64() / round_trip.as_secs_f64();
    println!("GET /v1/me: median {median:?} = {round_trips:.2} database round trips");

    // One round trip: BEGIN, SET LOCAL ROLE, SELECT app.enter() (context, session check,
    // role), the query and COMMIT are written before any answer is read.
    assert!(
        round_trips >= 0.9,
        "the proxy must make round trips visible ({round_trips:.2})"
    );
    assert!(
        round_trips < 1.6,
        "a read must cost one round trip, session check and commit included ({round_trips:.2})"
    );
}
