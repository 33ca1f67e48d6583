//! What the service says to PostgreSQL around a failed request, read off the wire: a request
//! on an ended session (401 `SESSION_REVOKED`) closes its transaction exactly once, so the
//! server logs no "there is no transaction in progress" warning and the connection is reused.

use crate::support::proxy::tapping_proxy;
use crate::support::{TestApp, TestDb, settings_for};

#[tokio::test]
async fn requests_on_an_ended_session_send_no_extra_rollback_and_draw_no_warning() {
    let db = TestDb::new().await;
    let mut settings = settings_for(&db);
    let real_port = db.config.get_ports().first().copied().unwrap_or(5432);
    let upstream = format!("127.0.0.1:{real_port}").parse().expect("addr");
    let (proxy, tapped) = tapping_proxy(upstream).await;
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
    settings.db_pool_size = 1; // one connection: every request reuses it
    let app = TestApp::spawn_with(db, settings).await;
    let owner = app.signup("acme").await;
    let other = app.add_user(&owner, "other@acme.test", "member").await;
    app.as_user(&owner)
        .post("/v1/auth/logout")
        .send()
        .await
        .assert_status(204);
    let clear = |t: &mut crate::support::proxy::Tapped| {
        t.queries.clear();
        t.notices.clear();
        t.connections
    };
    // Start-up opened connections of its own (the reachability probe): count from here.
    let connections = clear(&mut tapped.lock().expect("tap"));

    // Reads pipeline their COMMIT: the server ends the (failed) transaction itself.
    for _ in 0..3 {
        app.me(&owner).await.assert_error(401, "SESSION_REVOKED");
    }
    app.me(&other).await.assert_status(200);

    {
        let seen = tapped.lock().expect("tap");
        assert_eq!(seen.notices, Vec::<String>::new(), "no warnings");
        assert!(
            !seen.queries.iter().any(|q| q == "ROLLBACK"),
            "no ROLLBACK after a pipelined COMMIT: {:?}",
            seen.queries
        );
        assert_eq!(
            seen.connections, connections,
            "the one connection was reused"
        );
    }
    clear(&mut tapped.lock().expect("tap"));

    // A write has no COMMIT in flight when its session check fails: one ROLLBACK ends it.
    app.as_user(&owner)
        .post("/v1/auth/logout-all")
        .send()
        .await
        .assert_error(401, "SESSION_REVOKED");
    app.me(&other).await.assert_status(200);

    let seen = tapped.lock().expect("tap");
    assert_eq!(seen.notices, Vec::<String>::new(), "no warnings");
    assert_eq!(
        seen.queries.iter().filter(|q| *q == "ROLLBACK").count(),
        1,
        "{:?}",
        seen.queries
    );
    assert_eq!(
        seen.connections, connections,
        "the one connection was reused"
    );
}
