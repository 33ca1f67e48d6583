//! Events (the outbox, migration V20): every change records one event in its own transaction,
//! its payload is the response body, nothing is recorded for a change that rolled back, and
//! events of one organization become visible in commit (`seq`) order, so a consumer polling
//! `seq > last` never misses one.

use std::time::Duration;

use serde_json::{Value, json};
use tokio_postgres::Client;
use uuid::Uuid;

use crate::support::{Member, TestApp, db};

/// The organization's events as the superuser reads them, in seq order.
async fn stored_events(db: &Client, org_id: &str) -> Vec<Value> {
    db.query(
        "select jsonb_build_object('id', id, 'seq', seq, 'type', type, 'subject_id', subject_id,
                                   'actor_type', actor_type, 'actor_id', actor_id,
                                   'request_id', request_id, 'payload', payload)
         from app.events where org_id = $1::text::uuid order by seq",
        &[&org_id],
    )
    .await
    .expect("events")
    .iter()
    .map(|row| row.get(0))
    .collect()
}

async fn create_project(app: &TestApp, by: &Member, name: &str) -> crate::support::TestResponse {
    app.as_user(by)
        .post("/v1/projects")
        .json(json!({"name": name}))
        .send()
        .await
}

#[tokio::test]
async fn creating_a_project_records_one_event_whose_payload_is_the_response_body() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let db = app.db.superuser().await;
    let before = stored_events(&db, &owner.org_id).await.len();

    let resp = app
        .as_user(&owner)
        .post("/v1/projects")
        .header("x-request-id", "req-create-apollo")
        .json(json!({"name": "Apollo"}))
        .send()
        .await;

    resp.assert_status(201);
    let events = stored_events(&db, &owner.org_id).await;
    assert_eq!(
        events.len(),
        before + 1,
        "exactly one new event: {events:?}"
    );
    let event = events.last().expect("the event");
    assert_eq!(event["type"], "project.created");
    assert_eq!(event["subject_id"], resp.body["id"]);
    assert_eq!(event["payload"], resp.body, "the payload is the 201 body");
    assert_eq!(event["actor_type"], "user");
    assert_eq!(event["actor_id"], owner.user_id.as_str());
    assert_eq!(event["request_id"], "req-create-apollo");
    let id = Uuid::parse_str(event["id"].as_str().expect("id")).expect("uuid");
    assert_eq!(id.get_version_num(), 7, "event ids are UUIDv7");
}

#[tokio::test]
async fn an_api_key_is_the_actor_of_the_events_of_its_changes() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let key = app.create_key(&owner, "admin").await;
    let db = app.db.superuser().await;

    let resp = app
        .as_key(&key)
        .post("/v1/projects")
        .json(json!({"name": "Keyed", "owner_id": owner.user_id}))
        .send()
        .await;

    resp.assert_status(201);
    let events = stored_events(&db, &owner.org_id).await;
    let event = events.last().expect("an event");
    assert_eq!(event["type"], "project.created");
    assert_eq!(event["actor_type"], "api_key");
    assert_eq!(event["actor_id"], key.id.as_str());
}

#[tokio::test]
async fn a_change_that_fails_records_no_event() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    create_project(&app, &owner, "Apollo")
        .await
        .assert_status(201);
    let db = app.db.superuser().await;
    let before = stored_events(&db, &owner.org_id).await;

    create_project(&app, &owner, "apollo")
        .await
        .assert_error(409, "PROJECT_NAME_TAKEN");

    assert_eq!(
        stored_events(&db, &owner.org_id).await,
        before,
        "no event for a create that rolled back"
    );
}

/// The event is written last, with COMMIT: if it cannot be written, the change is not
/// committed either (no change without its event).
#[tokio::test]
async fn a_change_whose_event_cannot_be_written_is_rolled_back() {
    if db::citus() {
        return; // the failing trigger lives on the coordinator; the insert runs on a worker
    }
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let db = app.db.superuser().await;
    db.batch_execute(
        "create function app.refuse_events() returns trigger language plpgsql as $$
         begin raise exception 'events refused by the test' using errcode = 'XX000'; end $$;
         create trigger refuse_events before insert on app.events
             for each row execute function app.refuse_events();",
    )
    .await
    .expect("a trigger that fails every event");

    let resp = create_project(&app, &owner, "Lost").await;

    resp.assert_error(500, "INTERNAL_ERROR");
    let projects: i64 = db
        .query_one("select count(*) from app.projects where name = 'Lost'", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(projects, 0, "the project rolled back with its event");
}

/// A transaction in `org`'s tenant context as `user` (an owner), on its own connection, as
/// the service opens them: the runtime role, forwarded settings, the context.
async fn tenant_connection(app: &TestApp, org: &str, user: &str) -> Client {
    let client = app.db.superuser().await;
    client
        .batch_execute(&format!(
            "begin; set local role tenantry_app;
             set local citus.propagate_set_commands = 'local';
             set local app.org_id = '{org}'; set local app.user_id = '{user}';
             set local app.role = 'owner';"
        ))
        .await
        .expect("a tenant transaction");
    client
}

async fn emit(client: &Client, org: &str, id: Uuid) -> i64 {
    client
        .query_one(
            "select app.emit_event($1::text::uuid, $2, 'project.updated', $2, 'req', '{}'::jsonb)",
            &[&org, &id],
        )
        .await
        .expect("emit")
        .get(0)
}

/// The seqs a consumer sees after `last`, as the service reads them (as the owner, under RLS).
async fn poll(app: &TestApp, owner: &Member, last: i64) -> Vec<(i64, Uuid)> {
    let reader = tenant_connection(app, &owner.org_id, &owner.user_id).await;
    let rows = reader
        .query(
            "select seq, id from app.events where org_id = $1::text::uuid and seq > $2 order by seq",
            &[&owner.org_id, &last],
        )
        .await
        .expect("poll");
    reader.batch_execute("commit").await.expect("commit");
    rows.iter().map(|r| (r.get(0), r.get(1))).collect()
}

/// Two transactions of one organization: the one that took its event id first commits last.
/// Ordered by id, a consumer would read the later id first and then never see the earlier one;
/// ordered by seq, the second transaction waits for the first's commit before it takes its seq,
/// so the consumer sees both, in order.
#[tokio::test]
async fn a_consumer_polling_by_seq_never_misses_an_event_committed_later() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let start = poll(&app, &owner, 0).await.last().map_or(0, |e| e.0);
    let (early_id, late_id) = (Uuid::now_v7(), Uuid::now_v7());
    assert!(early_id < late_id);

    // The transaction with the later id writes its event first ...
    let first = tenant_connection(&app, &owner.org_id, &owner.user_id).await;
    let first_seq = emit(&first, &owner.org_id, late_id).await;
    // ... the one with the earlier id writes second: it waits for the first's counter lock.
    let second = tenant_connection(&app, &owner.org_id, &owner.user_id).await;
    let org = owner.org_id.clone();
    let second_emit = tokio::spawn(async move {
        let seq = emit(&second, &org, early_id).await;
        (second, seq)
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !second_emit.is_finished(),
        "the second event waits while the first transaction is open"
    );
    assert_eq!(poll(&app, &owner, start).await, vec![], "nothing committed");

    first.batch_execute("commit").await.expect("commit first");
    let (second, second_seq) = second_emit.await.expect("second emit");
    assert_eq!(
        second_seq,
        first_seq + 1,
        "the later commit takes the next seq"
    );
    let seen = poll(&app, &owner, start).await;
    assert_eq!(seen, vec![(first_seq, late_id)], "only the committed event");
    let cursor = seen[0].0;
    second.batch_execute("commit").await.expect("commit second");

    let next = poll(&app, &owner, cursor).await;
    assert_eq!(
        next,
        vec![(second_seq, early_id)],
        "the cursor finds the event committed later, though its id is earlier"
    );
}

/// Events of different organizations do not wait for each other.
#[tokio::test]
async fn the_counter_lock_is_per_organization() {
    let app = TestApp::spawn().await;
    let acme = app.signup("acme").await;
    let globex = app.signup("globex").await;
    let a = tenant_connection(&app, &acme.org_id, &acme.user_id).await;
    emit(&a, &acme.org_id, Uuid::now_v7()).await;

    let g = tenant_connection(&app, &globex.org_id, &globex.user_id).await;
    let other = tokio::time::timeout(
        Duration::from_secs(5),
        emit(&g, &globex.org_id, Uuid::now_v7()),
    )
    .await;

    assert!(
        other.is_ok(),
        "another organization's event does not wait for acme's open transaction"
    );
    a.batch_execute("rollback").await.expect("rollback");
    g.batch_execute("rollback").await.expect("rollback");
}

/// Many concurrent creates while a consumer polls by seq: the consumer sees every event once,
/// in seq order, without a gap, and each request's event.
#[tokio::test]
async fn concurrent_changes_reach_a_polling_consumer_in_order_without_gaps() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let start = poll(&app, &owner, 0).await.last().map_or(0, |e| e.0);
    const CREATES: usize = 40;

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let consumer = {
        let (app, owner, stop) = (&app, &owner, stop.clone());
        async move {
            let mut seen: Vec<(i64, Uuid)> = Vec::new();
            let mut last = start;
            loop {
                let done = stop.load(std::sync::atomic::Ordering::SeqCst);
                let page = poll(app, owner, last).await;
                if let Some(&(seq, _)) = page.last() {
                    last = seq;
                }
                seen.extend(page);
                if done {
                    return seen;
                }
            }
        }
    };
    let producers = async {
        let names: Vec<String> = (0..CREATES).map(|i| format!("p{i}")).collect();
        let creates = names.iter().map(|name| create_project(&app, &owner, name));
        let responses = futures_util::future::join_all(creates).await;
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        responses
    };
    let (seen, responses) = tokio::join!(consumer, producers);

    for resp in &responses {
        resp.assert_status(201);
    }
    let seqs: Vec<i64> = seen.iter().map(|e| e.0).collect();
    let expected: Vec<i64> = (start + 1..=start + CREATES as i64).collect();
    assert_eq!(seqs, expected, "every seq once, in order, no gap");
}
