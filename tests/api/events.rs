//! Events (the outbox, migration V20): every change records one event in its own transaction,
//! its payload is the response body, nothing is recorded for a change that rolled back, and
//! events of one organization become visible in commit (`seq`) order, so a consumer polling
//! `seq > last` never misses one.

use std::time::Duration;

use serde_json::{Value, json};
use tokio_postgres::Client;
use uuid::Uuid;

use crate::support::{Member, TestApp};

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
/// committed either (no change without its event). The event is made to fail by a check that
/// no row passes, added `not valid` (existing rows are not checked), which Citus also applies
/// to every shard.
#[tokio::test]
async fn a_change_whose_event_cannot_be_written_is_rolled_back() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let db = app.db.superuser().await;
    db.batch_execute(
        "alter table app.events add constraint ck_events_refused_by_the_test
             check (false) not valid",
    )
    .await
    .expect("a check that fails every new event");

    let resp = create_project(&app, &owner, "Lost").await;

    // An unknown check is a validation error for the mapping; what matters is that nothing
    // was created.
    resp.assert_error(422, "VALIDATION_FAILED");
    let projects: i64 = db
        .query_one("select count(*) from app.projects where name = 'Lost'", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(projects, 0, "the project rolled back with its event");
    let events: i64 = db
        .query_one(
            "select count(*) from app.events where type = 'project.created'",
            &[],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(events, 0, "and no event was written");
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

/// Every event of the organization through the API, all pages.
async fn all_events(app: &TestApp, by: &Member, query: &str) -> Vec<Value> {
    let mut events = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/v1/events?limit=100{query}");
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&cursor={cursor}"));
        }
        let resp = app.as_user(by).get(&path).send().await;
        resp.assert_status(200);
        events.extend(
            resp.body["items"]
                .as_array()
                .expect("items")
                .iter()
                .cloned(),
        );
        if resp.body["has_more"] != true {
            return events;
        }
        cursor = Some(resp.str("/next_cursor"));
    }
}

/// The events recorded since `from` (a count of events seen before).
async fn events_since(app: &TestApp, by: &Member, from: usize) -> Vec<Value> {
    all_events(app, by, "").await.split_off(from)
}

#[tokio::test]
async fn each_change_records_its_event_with_the_response_body_as_data() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let start = all_events(&app, &owner, "").await;
    assert_eq!(
        start.iter().map(|e| e["type"].clone()).collect::<Vec<_>>(),
        vec![json!("user.created")],
        "sign-up records its owner"
    );
    assert_eq!(start[0]["data"]["id"], owner.user_id.as_str());
    let as_owner = app.as_user(&owner);
    let mut expected: Vec<(&str, Value)> = Vec::new();

    // Users: create, update, role change, delete, restore.
    let user = as_owner
        .post("/v1/users")
        .json(json!({"email": "bob@acme.test", "display_name": "Bob",
                     "password": "bobs password 1", "role": "member"}))
        .send()
        .await;
    user.assert_status(201);
    expected.push(("user.created", user.body.clone()));
    let user_id = user.str("/id");
    let renamed = as_owner
        .patch(&format!("/v1/users/{user_id}"))
        .json(json!({"display_name": "Robert"}))
        .send()
        .await;
    renamed.assert_status(200);
    expected.push(("user.updated", renamed.body.clone()));
    let promoted = as_owner
        .patch(&format!("/v1/users/{user_id}"))
        .json(json!({"role": "admin"}))
        .send()
        .await;
    promoted.assert_status(200);
    expected.push(("user.role_changed", promoted.body.clone()));
    as_owner
        .delete(&format!("/v1/users/{user_id}"))
        .send()
        .await
        .assert_status(204);
    expected.push(("user.deleted", Value::Null));
    let restored = as_owner
        .post(&format!("/v1/users/{user_id}/restore"))
        .send()
        .await;
    restored.assert_status(200);
    expected.push(("user.restored", restored.body.clone()));

    // Projects: create, update, delete, restore.
    let project = create_project(&app, &owner, "Apollo").await;
    project.assert_status(201);
    expected.push(("project.created", project.body.clone()));
    let project_id = project.str("/id");
    let archived = as_owner
        .patch(&format!("/v1/projects/{project_id}"))
        .json(json!({"status": "archived"}))
        .send()
        .await;
    archived.assert_status(200);
    expected.push(("project.updated", archived.body.clone()));
    as_owner
        .delete(&format!("/v1/projects/{project_id}"))
        .send()
        .await
        .assert_status(204);
    expected.push(("project.deleted", Value::Null));
    let back = as_owner
        .post(&format!("/v1/projects/{project_id}/restore"))
        .send()
        .await;
    back.assert_status(200);
    expected.push(("project.restored", back.body.clone()));

    // API keys: create, revoke (the key's text is never in an event).
    let key = as_owner
        .post("/v1/api-keys")
        .json(json!({"name": "CI", "role": "member"}))
        .send()
        .await;
    key.assert_status(201);
    let key_id = key.str("/id");
    let key_body = as_owner.get(&format!("/v1/api-keys/{key_id}")).send().await;
    expected.push(("api_key.created", key_body.body.clone()));
    as_owner
        .delete(&format!("/v1/api-keys/{key_id}"))
        .send()
        .await
        .assert_status(204);
    expected.push(("api_key.revoked", key_body.body.clone()));

    // Sessions: ending one.
    let second = app
        .login("acme", &owner.email, crate::support::PASSWORD)
        .await;
    second.assert_status(200);
    let sessions = as_owner.get("/v1/me/sessions").send().await;
    let other = sessions.body["items"]
        .as_array()
        .expect("sessions")
        .iter()
        .find(|s| s["current"] == false)
        .expect("the second session")
        .clone();
    as_owner
        .delete(&format!(
            "/v1/me/sessions/{}",
            other["id"].as_str().expect("id")
        ))
        .send()
        .await
        .assert_status(204);
    expected.push(("session.revoked", Value::Null));

    let events = events_since(&app, &owner, start.len()).await;
    let types: Vec<&str> = events
        .iter()
        .map(|e| e["type"].as_str().expect("type"))
        .collect();
    assert_eq!(
        types.clone(),
        expected.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
        "one event per change, in order"
    );
    for (event, (event_type, body)) in events.iter().zip(&expected) {
        if !body.is_null() {
            assert_eq!(
                &event["data"], body,
                "{event_type}: data is the response body"
            );
        }
        assert_eq!(event["subject_id"], event["data"]["id"], "{event_type}");
        assert_eq!(
            event["actor"],
            json!({"type": "user", "id": owner.user_id}),
            "{event_type}"
        );
        assert!(
            !event.to_string().contains(&key.str("/key")),
            "{event_type}: no key text"
        );
        assert!(
            !event.to_string().contains("argon2"),
            "{event_type}: no hash"
        );
    }
    let removed_user = &events[3]["data"];
    assert!(
        removed_user["deleted_at"].is_string(),
        "user.deleted carries the removal"
    );
    let removed_project = &events[7]["data"];
    assert!(
        removed_project["deleted_at"].is_string(),
        "project.deleted carries the removal"
    );
    assert_eq!(events[11]["data"]["id"], other["id"], "the ended session");
    assert_eq!(events[11]["data"]["current"], false);
    let seqs: Vec<i64> = events
        .iter()
        .map(|e| e["seq"].as_i64().expect("seq"))
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "consecutive seqs: {seqs:?}"
    );
}

#[tokio::test]
async fn a_new_password_and_a_removal_revoke_sessions_with_events() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let bob = app.add_user(&owner, "bob@acme.test", "member").await;
    let start = all_events(&app, &owner, "").await.len();

    app.as_user(&owner)
        .delete(&format!("/v1/users/{}", bob.user_id))
        .send()
        .await
        .assert_status(204);

    let events = events_since(&app, &owner, start).await;
    let types: Vec<&str> = events
        .iter()
        .map(|e| e["type"].as_str().expect("type"))
        .collect();
    assert_eq!(types, vec!["user.deleted", "session.revoked"], "{events:?}");
}

#[tokio::test]
async fn only_owners_admins_and_admin_keys_read_events() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let admin = app.add_user(&owner, "admin@acme.test", "admin").await;
    let member = app.add_user(&owner, "member@acme.test", "member").await;
    let admin_key = app.create_key(&owner, "admin").await;
    let member_key = app.create_key(&owner, "member").await;

    for (who, token) in [
        ("owner", &owner.token),
        ("admin", &admin.token),
        ("admin key", &admin_key.key),
    ] {
        let resp = app.with_bearer(token).get("/v1/events").send().await;
        resp.assert_status(200);
        assert!(
            !resp.body["items"].as_array().expect("items").is_empty(),
            "{who} reads the events"
        );
    }
    for token in [&member.token, &member_key.key] {
        app.with_bearer(token)
            .get("/v1/events")
            .send()
            .await
            .assert_error(403, "FORBIDDEN");
    }
}

#[tokio::test]
async fn a_bad_filter_or_cursor_is_400() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let as_owner = app.as_user(&owner);
    let page = as_owner.get("/v1/events?type=user.created").send().await;
    page.assert_status(200);
    let cursor = page.str("/next_cursor");

    for query in [
        "type=user.exploded",
        "subject_id=not-a-uuid",
        "created_after=yesterday",
        "limit=0",
        "limit=101",
    ] {
        let resp = as_owner.get(&format!("/v1/events?{query}")).send().await;
        resp.assert_error(422, "VALIDATION_FAILED");
        assert!(!resp.detail_fields().is_empty(), "{query}: names the field");
    }
    // A cursor is bound to its filters.
    as_owner
        .get(&format!("/v1/events?cursor={cursor}"))
        .send()
        .await
        .assert_error(400, "INVALID_CURSOR");
}

#[tokio::test]
async fn a_consumer_keeps_the_last_cursor_and_gets_only_what_was_committed_since() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let first = app.as_user(&owner).get("/v1/events").send().await;
    first.assert_status(200);
    assert_eq!(first.body["has_more"], false);
    let cursor = first.str("/next_cursor");

    let empty = app
        .as_user(&owner)
        .get(&format!("/v1/events?cursor={cursor}"))
        .send()
        .await;
    empty.assert_status(200);
    assert_eq!(empty.body["items"], json!([]));
    assert_eq!(
        empty.str("/next_cursor"),
        cursor,
        "an empty page keeps the position"
    );
    let project = create_project(&app, &owner, "Later").await;
    project.assert_status(201);

    let next = app
        .as_user(&owner)
        .get(&format!("/v1/events?cursor={cursor}"))
        .send()
        .await;

    next.assert_status(200);
    let items = next.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{}", next.text);
    assert_eq!(items[0]["type"], "project.created");
    assert_eq!(items[0]["data"], project.body);
}

/// A small deterministic generator (xorshift), so the property test needs no seed file.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Property: for random filters and page sizes, following the cursors yields exactly the
/// events of the unfiltered list that match the filters, in seq order, each once.
#[tokio::test]
async fn paging_with_any_filters_and_limit_yields_exactly_the_matching_events_in_order() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let admin = app.add_user(&owner, "admin@acme.test", "admin").await;
    let mut projects = Vec::new();
    for i in 0..6 {
        let by = if i % 2 == 0 { &owner } else { &admin };
        let resp = create_project(&app, by, &format!("p{i}")).await;
        resp.assert_status(201);
        projects.push(resp.str("/id"));
    }
    for (i, id) in projects.iter().enumerate().take(4) {
        let by = if i % 3 == 0 { &admin } else { &owner };
        app.as_user(by)
            .patch(&format!("/v1/projects/{id}"))
            .json(json!({"description": format!("edit {i}")}))
            .send()
            .await
            .assert_status(200);
    }
    app.as_user(&owner)
        .delete(&format!("/v1/projects/{}", projects[5]))
        .send()
        .await
        .assert_status(204);
    let all = all_events(&app, &owner, "").await;
    assert_eq!(all.len(), 13, "premise: every change listed");
    let times: Vec<String> = all
        .iter()
        .map(|e| e["created_at"].as_str().expect("time").to_owned())
        .collect();
    let types = [
        "user.created",
        "project.created",
        "project.updated",
        "project.deleted",
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);

    for case in 0..25 {
        let mut query = String::new();
        let mut wanted_types = Vec::new();
        for t in types {
            if rng.below(3) == 0 {
                wanted_types.push(t);
                query.push_str(&format!("&type={t}"));
            }
        }
        let subject = (rng.below(3) == 0).then(|| projects[rng.below(6) as usize].clone());
        if let Some(s) = &subject {
            query.push_str(&format!("&subject_id={s}"));
        }
        let actor = match rng.below(3) {
            0 => Some(owner.user_id.clone()),
            1 => Some(admin.user_id.clone()),
            _ => None,
        };
        if let Some(a) = &actor {
            query.push_str(&format!("&actor_id={a}"));
        }
        let after =
            (rng.below(3) == 0).then(|| times[rng.below(times.len() as u64) as usize].clone());
        if let Some(t) = &after {
            query.push_str(&format!("&created_after={}", t.replace('+', "%2B")));
        }
        let before =
            (rng.below(3) == 0).then(|| times[rng.below(times.len() as u64) as usize].clone());
        if let Some(t) = &before {
            query.push_str(&format!("&created_before={}", t.replace('+', "%2B")));
        }
        let limit = 1 + rng.below(7);
        let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).expect("time");
        let expected: Vec<Value> = all
            .iter()
            .filter(|e| {
                wanted_types.is_empty() || wanted_types.contains(&e["type"].as_str().expect("t"))
            })
            .filter(|e| {
                subject
                    .as_ref()
                    .is_none_or(|s| e["subject_id"] == s.as_str())
            })
            .filter(|e| {
                actor
                    .as_ref()
                    .is_none_or(|a| e["actor"]["id"] == a.as_str())
            })
            .filter(|e| {
                after
                    .as_ref()
                    .is_none_or(|t| parse(e["created_at"].as_str().expect("t")) >= parse(t))
            })
            .filter(|e| {
                before
                    .as_ref()
                    .is_none_or(|t| parse(e["created_at"].as_str().expect("t")) < parse(t))
            })
            .cloned()
            .collect();

        let mut got = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..100 {
            let mut path = format!("/v1/events?limit={limit}{query}");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let resp = app.as_user(&owner).get(&path).send().await;
            resp.assert_status(200);
            let items = resp.body["items"].as_array().expect("items");
            assert!(
                items.len() as u64 <= limit,
                "case {case}: page over the limit"
            );
            got.extend(items.iter().cloned());
            if resp.body["has_more"] != true {
                break;
            }
            cursor = Some(resp.str("/next_cursor"));
        }
        assert_eq!(got, expected, "case {case}: {query} limit {limit}");
    }
}

#[tokio::test]
async fn owners_rename_the_organization_and_it_records_organization_updated() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let admin = app.add_user(&owner, "admin@acme.test", "admin").await;
    let member = app.add_user(&owner, "member@acme.test", "member").await;
    let admin_key = app.create_key(&owner, "admin").await;
    let start = all_events(&app, &owner, "").await.len();

    for token in [&admin.token, &member.token, &admin_key.key] {
        app.with_bearer(token)
            .patch("/v1/org")
            .json(json!({"name": "Taken over"}))
            .send()
            .await
            .assert_error(403, "FORBIDDEN");
    }
    app.as_user(&owner)
        .patch("/v1/org")
        .json(json!({"name": "bad\u{202e}name"}))
        .send()
        .await
        .assert_error(422, "VALIDATION_FAILED");
    let renamed = app
        .as_user(&owner)
        .patch("/v1/org")
        .json(json!({"name": "Acme Corporation"}))
        .send()
        .await;

    renamed.assert_status(200);
    assert_eq!(renamed.body["name"], "Acme Corporation");
    assert_eq!(renamed.body["slug"], "acme", "the slug does not change");
    let org = app.as_user(&member).get("/v1/org").send().await;
    assert_eq!(org.body, renamed.body, "everyone reads the new name");
    let events = events_since(&app, &owner, start).await;
    assert_eq!(
        events.len(),
        1,
        "refused renames record nothing: {events:?}"
    );
    assert_eq!(events[0]["type"], "organization.updated");
    assert_eq!(events[0]["subject_id"], owner.org_id.as_str());
    assert_eq!(events[0]["data"], renamed.body);
}
