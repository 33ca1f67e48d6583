//! On a Citus cluster: the distributed schema, the routing of every statement to one shard,
//! the error mapping on real shard errors, readiness that sees the workers, and an
//! organization moved to another worker while it is being served.
//!
//! These tests need the cluster: they are ignored by a plain `cargo test` and run by
//! `scripts/citus` (`TENANTRY_TEST_CITUS=1 ... cargo test -- --include-ignored`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sha2::Digest as _;
use tokio_postgres::Client;
use tokio_postgres::types::ToSql;

use crate::explain::{Bindings, assert_every_query_is_covered, query_text, seed};
use crate::support::db::{citus, nodes};
use crate::support::{Member, PASSWORD, TestApp, TestDb, settings_for};

fn require_citus() {
    assert!(
        citus(),
        "this test runs on a Citus cluster: TENANTRY_TEST_CITUS=1 with \
         TENANTRY_TEST_DATABASE_URL naming the coordinator (scripts/citus)"
    );
}

/// Citus's routing counters of this database: (single-shard, multi-shard) statements run so far.
async fn routing_counters(client: &Client) -> (i64, i64) {
    let row = client
        .query_one(
            "select query_execution_single_shard, query_execution_multi_shard
             from citus_stat_counters((select oid from pg_database where datname = current_database()))",
            &[],
        )
        .await
        .expect("citus_stat_counters");
    (row.get(0), row.get(1))
}

/// Runs a query that calls a function recording an event (the organization's counter, then
/// the event) and returns the (single-shard, multi-shard) statements it sent: a function's
/// statements are not in the caller's plan.
async fn count_event_statements(
    client: &Client,
    counters: &Client,
    file: &str,
    params: &[&(dyn ToSql + Sync)],
) -> (i64, i64) {
    let before = routing_counters(counters).await;
    client
        .query_one(&query_text(file), params)
        .await
        .unwrap_or_else(|err| {
            panic!(
                "{file}: {err}: {:?}",
                err.as_db_error().map(|e| e.message())
            )
        });
    let after = routing_counters(counters).await;
    (after.0 - before.0, after.1 - before.1)
}

/// Queries that call a plpgsql function which reads tenant tables (routed by its parameters):
/// their statements are counted, not explained.
const REDEEMING_FUNCTIONS: &[&str] = &["invitations/redeem.sql", "user_tokens/redeem.sql"];

/// Every `Task Count` of a Citus plan, depth first.
fn task_counts(plan: &Value, out: &mut Vec<i64>) {
    match plan {
        Value::Object(map) => {
            for (key, value) in map {
                if key == "Task Count" {
                    out.extend(value.as_i64());
                }
                task_counts(value, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| task_counts(item, out)),
        _ => {}
    }
}

#[tokio::test]
#[ignore = "needs a Citus cluster: run scripts/citus"]
async fn every_repository_query_and_the_session_check_target_one_shard() {
    require_citus();
    let db = TestDb::new().await;
    let client = db.superuser().await;
    let ids = seed(&client, 50).await;
    let (org, user, session, _) = ids;
    let bindings = Bindings::new(ids);
    let cases = bindings.cases();
    client
        .batch_execute("set citus.enable_stat_counters = on")
        .await
        .expect("counters");
    let counters = db.superuser().await;
    counters
        .batch_execute("set citus.enable_stat_counters = on")
        .await
        .expect("counters");

    // A tenant transaction as the service opens it, where any statement that would run on more
    // than one shard is an error.
    client
        .batch_execute(
            "begin;
             set local role tenantry_app;
             set local citus.propagate_set_commands = 'local';
             set local citus.multi_task_query_log_level = 'error';",
        )
        .await
        .expect("begin");
    let before = routing_counters(&counters).await;
    client
        .query_one("select app.enter($1, $2, $3)", &[&org, &user, &session])
        .await
        .expect("app.enter opens the context");
    let after = routing_counters(&counters).await;
    assert_eq!(
        (after.0 - before.0, after.1 - before.1),
        (1, 0),
        "app.enter runs exactly one distributed statement (the session check), on one shard"
    );

    let mut problems = Vec::new();
    for (file, params) in &cases {
        if REDEEMING_FUNCTIONS.contains(file) {
            // A plpgsql function's statements are not in the caller's plan: run it (it finds
            // no such token and changes nothing), and count what it sent, as for app.enter.
            client
                .batch_execute("savepoint redeem")
                .await
                .expect("savepoint");
            let before = routing_counters(&counters).await;
            client
                .query(&query_text(file), params)
                .await
                .unwrap_or_else(|err| panic!("{file}: {err}"));
            let after = routing_counters(&counters).await;
            client
                .batch_execute("rollback to savepoint redeem")
                .await
                .expect("rollback to savepoint");
            if after.0 - before.0 < 1 || after.1 != before.1 {
                problems.push(format!(
                    "{file}: {} single-shard and {} multi-shard statements",
                    after.0 - before.0,
                    after.1 - before.1
                ));
            }
            continue;
        }
        if *file == "events/emit.sql" {
            // A function call: its plan does not show the statements inside. Run it and count
            // them: the organization's counter and the event, each on its shard.
            let sent = count_event_statements(&client, &counters, file, params).await;
            if sent != (2, 0) {
                problems.push(format!(
                    "{file}: {sent:?} single- and multi-shard statements, expected (2, 0)"
                ));
            }
            continue;
        }
        let explained = client
            .query_one(
                &format!("explain (format json) {}", query_text(file)),
                params,
            )
            .await
            .unwrap_or_else(|err| {
                panic!(
                    "{file}: {err}: {:?}",
                    err.as_db_error().map(|e| e.message())
                )
            });
        let plan: Value = explained.get(0);
        let mut counts = Vec::new();
        task_counts(&plan, &mut counts);
        if counts != [1] {
            problems.push(format!("{file}: task counts {counts:?}, expected [1]"));
        }
    }
    client.batch_execute("rollback").await.expect("rollback");

    // The relay's queries, as the relay runs them: tenantry_relay, in one organization. Its two
    // polling reads (app.webhook_due_orgs, app.webhook_backlog) are the only statements meant
    // to read every shard; entering runs no distributed statement.
    let relay_cases = bindings.relay_cases();
    client
        .batch_execute(
            "begin;
             set local role tenantry_relay;
             set local citus.propagate_set_commands = 'local';",
        )
        .await
        .expect("begin");
    client
        .query_one("select app.relay_enter($1)", &[&org])
        .await
        .expect("the relay's context");
    for (file, params) in &relay_cases {
        if ["relay/enter.sql", "relay/due_orgs.sql", "relay/backlog.sql"].contains(file) {
            continue;
        }
        if *file == "events/emit.sql" {
            // As for the request above, as the relay: the counter and the event.
            let sent = count_event_statements(&client, &counters, file, params).await;
            if sent != (2, 0) {
                problems.push(format!(
                    "{file}: {sent:?} single- and multi-shard statements, expected (2, 0)"
                ));
            }
            continue;
        }
        let explained = client
            .query_one(
                &format!("explain (format json) {}", query_text(file)),
                params,
            )
            .await
            .unwrap_or_else(|err| {
                panic!(
                    "{file}: {err}: {:?}",
                    err.as_db_error().map(|e| e.message())
                )
            });
        let plan: Value = explained.get(0);
        let mut counts = Vec::new();
        task_counts(&plan, &mut counts);
        if counts.is_empty() || counts.iter().any(|&n| n != 1) {
            problems.push(format!("{file}: task counts {counts:?}, expected 1 each"));
        }
    }
    client.batch_execute("rollback").await.expect("rollback");
    let mut all_cases = cases;
    all_cases.extend(relay_cases);
    assert_every_query_is_covered(&all_cases);
    assert!(
        problems.is_empty(),
        "queries that are not single-shard router queries:\n{}",
        problems.join("\n")
    );

    // An API key's context: the key's look-up and its first use's record, each on one shard.
    client
        .batch_execute(
            "begin;
             set local role tenantry_app;
             set local citus.propagate_set_commands = 'local';
             set local citus.multi_task_query_log_level = 'error';",
        )
        .await
        .expect("begin");
    let before = routing_counters(&counters).await;
    let hash: Vec<u8> = sha2::Sha256::digest(b"secret-1").to_vec();
    let role: String = client
        .query_one(
            "select app.enter_key($1, $2, $3)",
            &[&org, &crate::explain::seeded_api_key(), &hash],
        )
        .await
        .expect("app.enter_key opens the context")
        .get(0);
    let after = routing_counters(&counters).await;
    client.batch_execute("rollback").await.expect("rollback");
    assert_eq!(role, "member");
    assert_eq!(
        (after.0 - before.0, after.1 - before.1),
        (2, 0),
        "app.enter_key runs two distributed statements (the look-up, the first use's record), each on one shard"
    );

    // The counters do see fan-outs: log-in's lookup by slug and email reads every shard.
    let before = routing_counters(&counters).await;
    client
        .query(
            "select * from app.login_lookup('org-42', 'u1@org42.test')",
            &[],
        )
        .await
        .expect("login lookup");
    let after = routing_counters(&counters).await;
    assert_eq!(after.1 - before.1, 1, "a fan-out is counted");
}

#[tokio::test]
#[ignore = "needs a Citus cluster: run scripts/citus"]
async fn authenticated_requests_run_only_single_shard_statements() {
    require_citus();
    let db = TestDb::new().await;
    db.superuser()
        .await
        .batch_execute(&format!(
            "alter database \"{}\" set citus.enable_stat_counters = on",
            db.name
        ))
        .await
        .expect("enable the counters for the service's connections");
    let settings = settings_for(&db);
    let app = TestApp::spawn_with(db, settings).await;
    let owner = app.signup("acme").await;
    let member = app.add_user(&owner, "bob@acme.test", "member").await;
    let counters = app.db.superuser().await;
    let before = routing_counters(&counters).await;

    // A tour of every authenticated operation family, reads and writes.
    let mut requests = 0u32;
    let mut expect = |resp: crate::support::TestResponse, status: u16| {
        resp.assert_status(status);
        requests += 1;
        resp
    };
    expect(app.me(&owner).await, 200);
    expect(app.as_user(&owner).get("/v1/org").send().await, 200);
    expect(app.as_user(&owner).get("/v1/users").send().await, 200);
    let bob = format!("/v1/users/{}", member.user_id);
    expect(app.as_user(&owner).get(&bob).send().await, 200);
    expect(
        app.as_user(&owner)
            .patch(&bob)
            .json(json!({"display_name": "Bob B."}))
            .send()
            .await,
        200,
    );
    let created = expect(
        app.as_user(&owner)
            .post("/v1/projects")
            .header("idempotency-key", "tour-1")
            .json(json!({"name": "Tour"}))
            .send()
            .await,
        201,
    );
    let project = format!("/v1/projects/{}", created.str("/id"));
    expect(app.as_user(&owner).get(&project).send().await, 200);
    expect(
        app.as_user(&owner)
            .patch(&project)
            .json(json!({"description": "on one shard"}))
            .send()
            .await,
        200,
    );
    for query in [
        "",
        "?sort=name",
        "?sort=-created&status=active",
        "?name_prefix=to",
    ] {
        expect(
            app.as_user(&owner)
                .get(&format!("/v1/projects{query}"))
                .send()
                .await,
            200,
        );
    }
    expect(app.as_user(&owner).delete(&project).send().await, 204);
    expect(
        app.as_user(&owner)
            .post(&format!("{project}/restore"))
            .send()
            .await,
        200,
    );
    expect(
        app.as_user(&member).get("/v1/me/sessions").send().await,
        200,
    );
    expect(app.as_user(&owner).delete(&bob).send().await, 204);
    expect(
        app.as_user(&owner)
            .post(&format!("{bob}/restore"))
            .send()
            .await,
        200,
    );
    expect(
        app.as_user(&owner).post("/v1/auth/logout").send().await,
        204,
    );

    let after = routing_counters(&counters).await;
    let (single, multi) = (after.0 - before.0, after.1 - before.1);
    println!(
        "{requests} authenticated requests: {single} single-shard statements ({:.1} per request), {multi} multi-shard",
        f64::from(u32::try_from(single).unwrap_or(0)) / f64::from(requests)
    );
    assert_eq!(multi, 0, "no authenticated request may fan out");
    assert!(
        single >= i64::from(requests) * 2,
        "each request ran its session check and its query on a shard ({single} for {requests})"
    );

    // The service's own connections are counted: a log-in (lookup by slug and email) fans out.
    app.login(&member.org_slug, &member.email, PASSWORD)
        .await
        .assert_status(200);
    assert_eq!(routing_counters(&counters).await.1 - after.1, 1);
}

#[tokio::test]
#[ignore = "needs a Citus cluster: run scripts/citus"]
async fn duplicate_emails_and_project_names_keep_their_409_codes_on_shard_errors() {
    require_citus();
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;

    // Premise: Citus names the violated index of the shard, with its shard id appended, and
    // leaves the constraint field empty.
    let db = app.db.superuser().await;
    let err = db
        .execute(
            "insert into app.users (org_id, id, email, display_name, password_hash, role)
             values ($1::text::uuid, gen_random_uuid(), $2, 'Dup', '$argon2id$x', 'member')",
            &[&owner.org_id, &owner.email],
        )
        .await
        .expect_err("a duplicate email");
    let db_err = err.as_db_error().expect("a database error");
    assert_eq!(db_err.code().code(), "23505");
    assert_eq!(db_err.constraint(), None, "{db_err:?}");
    assert!(
        regex_like_shard_suffix(db_err.message(), "uq_users_org_id_email"),
        "{}",
        db_err.message()
    );

    app.as_user(&owner)
        .post("/v1/users")
        .json(json!({"email": owner.email, "display_name": "Dup", "password": PASSWORD}))
        .send()
        .await
        .assert_error(409, "EMAIL_ALREADY_EXISTS");
    for _ in 0..2 {
        let resp = app
            .as_user(&owner)
            .post("/v1/projects")
            .json(json!({"name": "Apollo"}))
            .send()
            .await;
        if resp.status != 201 {
            resp.assert_error(409, "PROJECT_NAME_TAKEN");
        }
    }
    app.as_user(&owner)
        .post("/v1/projects")
        .json(json!({"name": "APOLLO"}))
        .send()
        .await
        .assert_error(409, "PROJECT_NAME_TAKEN");
    app.post("/v1/auth/signup")
        .json(json!({
            "org_name": "Other", "org_slug": "acme", "email": "x@other.test",
            "display_name": "X", "password": PASSWORD,
        }))
        .send()
        .await
        .assert_error(409, "ORG_SLUG_TAKEN");
}

/// `message` names `constraint` followed by `_<digits>` (a shard suffix).
fn regex_like_shard_suffix(message: &str, constraint: &str) -> bool {
    message.match_indices(constraint).any(|(at, _)| {
        let rest = &message[at + constraint.len()..];
        rest.strip_prefix('_')
            .is_some_and(|digits| digits.chars().next().is_some_and(|c| c.is_ascii_digit()))
    })
}

#[tokio::test]
#[ignore = "needs a Citus cluster: run scripts/citus"]
async fn readiness_fails_while_a_worker_is_unreachable_and_recovers() {
    require_citus();
    let app = TestApp::spawn().await;
    app.get("/readyz").send().await.assert_status(200);

    // This test database's metadata points one worker at a closed port (the cluster itself
    // and the other tests' databases are untouched).
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let db = app.db.superuser().await;
    let worker: (i32, String, i32) = db
        .query_one(
            "select nodeid, nodename, nodeport from pg_dist_node where groupid <> 0
             order by groupid limit 1",
            &[],
        )
        .await
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .expect("a worker");
    db.execute(
        "select citus_update_node($1, '127.0.0.1', $2)",
        &[&worker.0, &i32::from(closed)],
    )
    .await
    .expect("point the worker at a closed port");

    app.get("/readyz")
        .send()
        .await
        .assert_error(503, "DATABASE_UNAVAILABLE");

    db.execute(
        "select citus_update_node($1, $2, $3)",
        &[&worker.0, &worker.1, &worker.2],
    )
    .await
    .expect("restore the worker");
    app.get("/readyz").send().await.assert_status(200);
}

#[tokio::test]
#[ignore = "needs a Citus cluster: run scripts/citus"]
async fn a_table_added_by_a_later_migration_is_distributed_by_that_migration() {
    require_citus();
    let db = TestDb::new().await;
    let client = db.superuser().await;
    // What a future migration adds, in the migration session the service uses.
    client
        .batch_execute(
            "set citus.enable_local_reference_table_foreign_keys = off;
             set citus.enable_unsafe_triggers = on;
             begin;
             create table app.notes (
                 org_id uuid not null default app.current_org_id(),
                 id uuid not null,
                 user_id uuid not null,
                 body text not null,
                 created_at timestamptz not null default now(),
                 updated_at timestamptz not null default now(),
                 created_by uuid,
                 created_by_type text,
                 updated_by uuid,
                 updated_by_type text,
                 constraint pk_notes primary key (org_id, id),
                 constraint fk_notes_org_id foreign key (org_id)
                     references app.organizations (id) on delete cascade,
                 constraint fk_notes_user foreign key (org_id, user_id)
                     references app.users (org_id, id)
             );
             create trigger stamp_timestamps before insert or update on app.notes
                 for each row execute function app.stamp_timestamps();
             alter table app.notes enable row level security;
             alter table app.notes force row level security;
             create policy notes_select on app.notes for select to tenantry_app
                 using (org_id = app.current_org_id());
             create policy notes_insert on app.notes for insert to tenantry_app
                 with check (org_id = app.current_org_id());
             grant select, insert on app.notes to tenantry_app;
             select app.distribute_table('app.notes');
             commit;",
        )
        .await
        .expect("the migration applies on Citus");

    let colocated: bool = client
        .query_one(
            "select n.colocationid = u.colocationid and n.partmethod = 'h'
             from pg_dist_partition n, pg_dist_partition u
             where n.logicalrelid = 'app.notes'::regclass and u.logicalrelid = 'app.users'::regclass",
            &[],
        )
        .await
        .expect("metadata")
        .get(0);
    assert!(
        colocated,
        "app.notes is distributed by org_id, colocated with app.users"
    );
    let again: bool = client
        .query_one("select app.distribute_table('app.notes')", &[])
        .await
        .expect("idempotent")
        .get(0);
    assert!(!again, "a distributed table is left as it is");

    // RLS holds on its shards: organization A's note is invisible in B's context.
    let (a, b) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    client
        .batch_execute(&format!(
            "insert into app.organizations (id, slug, name) values ('{a}', 'notes-a', 'A'), ('{b}', 'notes-b', 'B');
             insert into app.users (org_id, id, email, display_name, password_hash, role)
                 values ('{a}', '{a}', 'a@a.test', 'A', '$argon2id$x', 'owner');
             insert into app.notes (org_id, id, user_id, body) values ('{a}', gen_random_uuid(), '{a}', 'secret');"
        ))
        .await
        .expect("seed");
    let visible = |org: uuid::Uuid| {
        let client = &client;
        async move {
            client
                .batch_execute(&format!(
                    "begin; set local role tenantry_app;
                     set local citus.propagate_set_commands = 'local';
                     set local app.org_id = '{org}';"
                ))
                .await
                .expect("context");
            let count: i64 = client
                .query_one("select count(*) from app.notes", &[])
                .await
                .expect("count")
                .get(0);
            client.batch_execute("rollback").await.expect("rollback");
            count
        }
    };
    assert_eq!(visible(a).await, 1, "A sees its note");
    assert_eq!(visible(b).await, 0, "B sees nothing of A's");
}

/// A NOLOGIN role created for one test, dropped (on every node) afterwards.
struct TestRole(String);

impl Drop for TestRole {
    fn drop(&mut self) {
        crate::support::db::run_admin_blocking(format!("drop role if exists {}", self.0));
    }
}

#[tokio::test]
#[ignore = "needs a Citus cluster: run scripts/citus"]
async fn a_role_added_later_is_found_in_the_catalog_and_may_then_log_in_to_the_workers() {
    require_citus();
    let db = TestDb::new().await;
    let client = db.superuser().await;
    let role = TestRole(format!("t_role_{}", uuid::Uuid::now_v7().simple()));
    // Like a later migration adding a narrow role: NOLOGIN, usage on the schema.
    client
        .batch_execute(&format!(
            "create role {0} nologin; grant usage on schema app to {0};",
            role.0
        ))
        .await
        .expect("a new role");

    let settings = settings_for(&db);
    let refused = match tenantry::app::prepare(&settings).await {
        Ok(_) => panic!("the self-check must refuse a role that cannot reach the workers"),
        Err(err) => err.to_string(),
    };
    assert!(
        refused.contains(&role.0) && refused.contains("tenantry distribute"),
        "{refused}"
    );

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tenantry"))
        .arg("distribute")
        .env("TENANTRY_DATABASE_URL", db.url())
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(&role.0), "{stdout}");
    assert!(
        !stdout.contains("distributed by org_id"),
        "an already distributed schema is left as it is: {stdout}"
    );

    tenantry::app::prepare(&settings)
        .await
        .expect("the self-check passes once the role may log in to the workers");
    let logins: Vec<(i32, bool)> = {
        let mut out = Vec::new();
        for node in nodes().await {
            let row = crate::support::db::connect(node)
                .await
                .query_one(
                    "select rolcanlogin from pg_roles where rolname = $1",
                    &[&role.0],
                )
                .await
                .expect("the role exists on every node");
            out.push((i32::from(node.get_ports()[0]), row.get(0)));
        }
        out
    };
    assert!(!logins[0].1, "the coordinator keeps it NOLOGIN: {logins:?}");
    assert!(
        logins[1..].iter().all(|(_, login)| *login),
        "every worker lets it log in: {logins:?}"
    );
    client
        .batch_execute(&format!("revoke usage on schema app from {}", role.0))
        .await
        .expect("revoke");
}

/// Where one organization's rows live: (shard id of its users, node id, node port).
async fn placement(client: &Client, org: &str) -> (i64, i32, i32) {
    let row = client
        .query_one(
            "select s.shardid, n.nodeid, n.nodeport
             from pg_dist_shard s
             join pg_dist_placement p on p.shardid = s.shardid
             join pg_dist_node n on n.groupid = p.groupid
             where s.shardid = get_shard_id_for_distribution_column('app.users', $1::text::uuid)",
            &[&org],
        )
        .await
        .expect("placement");
    (row.get(0), row.get(1), row.get(2))
}

/// Runs a shard operation again when Citus chose it as the victim of a distributed deadlock
/// (40P01): with writes held back, a request's transaction that already locked a row of the
/// moving shards and then waits for the operation closes a cycle. The operation is
/// transactional (a cancelled attempt leaves the shards as they were), so an operator simply
/// runs it again; the service retries its own side of the deadlock.
async fn with_deadlock_retries<T, F, Fut>(mut operation: F) -> Result<T, tokio_postgres::Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, tokio_postgres::Error>>,
{
    let mut attempt = 1;
    loop {
        match operation().await {
            Err(err) if attempt < 5 && err.code().is_some_and(|c| c.code() == "40P01") => {
                println!("attempt {attempt}: a distributed deadlock victim, running it again");
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// What the clients saw while the tenant moved.
#[derive(Default)]
struct Load {
    ok: AtomicU64,
    failed: AtomicU64,
    during_move: AtomicU64,
    worst_micros: AtomicU64,
}

/// One client of the moving tenant: reads and writes until `stop`.
async fn serve_tenant(
    app: Arc<TestApp>,
    member: Member,
    project: String,
    worker: usize,
    moving: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    load: Arc<Load>,
) -> Vec<String> {
    let mut failures = Vec::new();
    let mut i = 0u32;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let started = Instant::now();
        let during = moving.load(Ordering::Relaxed);
        let resp = match i % 4 {
            0 => {
                app.as_user(&member)
                    .post("/v1/projects")
                    .json(json!({"name": format!("during move {worker}-{i}")}))
                    .send()
                    .await
            }
            1 => {
                app.as_user(&member)
                    .patch(&project)
                    .json(json!({"description": format!("edit {worker}-{i}")}))
                    .send()
                    .await
            }
            2 => app.as_user(&member).get(&project).send().await,
            _ => app.me(&member).await,
        };
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        load.worst_micros.fetch_max(micros, Ordering::Relaxed);
        if during {
            load.during_move.fetch_add(1, Ordering::Relaxed);
        }
        if (200..300).contains(&resp.status) {
            load.ok.fetch_add(1, Ordering::Relaxed);
        } else {
            load.failed.fetch_add(1, Ordering::Relaxed);
            failures.push(format!("{}: {}", resp.status, resp.text));
        }
    }
    failures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Citus cluster: run scripts/citus"]
async fn a_large_tenant_is_isolated_and_moved_to_another_worker_while_it_is_served() {
    require_citus();
    let db = TestDb::new().await;
    let mut settings = settings_for(&db);
    // Requests to the moving tenant wait while its shards are copied: the statement timeout
    // must outlast the copy (seconds on this shared machine), as in production.
    settings.db_statement_timeout_ms = 30_000;
    let app = Arc::new(TestApp::spawn_with(db, settings).await);
    let big = app.signup("big").await;
    let neighbour = app.signup("neighbour").await;
    let db = app.db.superuser().await;
    // A large tenant: 20,000 projects.
    db.execute(
        "insert into app.projects (org_id, id, name, owner_id)
         select $1::text::uuid, gen_random_uuid(), 'Project ' || i, $2::text::uuid
         from generate_series(1, 20000) i",
        &[&big.org_id, &big.user_id],
    )
    .await
    .expect("seed the large tenant");
    let project = app
        .as_user(&big)
        .post("/v1/projects")
        .json(json!({"name": "Flagship"}))
        .send()
        .await;
    project.assert_status(201);
    let project = format!("/v1/projects/{}", project.str("/id"));
    let (shared_shard, _, _) = placement(&db, &big.org_id).await;

    let (moving, stop, load) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
        Arc::new(Load::default()),
    );
    let clients: Vec<_> = (0..4)
        .map(|worker| {
            tokio::spawn(serve_tenant(
                app.clone(),
                big.clone(),
                project.clone(),
                worker,
                moving.clone(),
                stop.clone(),
                load.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Act: its own shard (split), then that shard onto the other worker (move). Both copy with
    // writes to the tenant's shards held back ('block_writes'): on PostgreSQL 15 the logical
    // ('force_logical') transfer cannot replay concurrent writes into tables with forced RLS
    // (docs/scaling.md, "Moving a tenant"). Reads go on; held writes wait, none may fail.
    moving.store(true, Ordering::Relaxed);
    let started = Instant::now();
    let tenant: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&big.org_id];
    let isolated: i64 = with_deadlock_retries(|| {
        db.query_one(
            "select isolate_tenant_to_new_shard('app.users', $1::text::uuid, 'CASCADE',
                                                shard_transfer_mode => 'block_writes')",
            &tenant,
        )
    })
    .await
    .expect("isolate the tenant")
    .get(0);
    let split = started.elapsed();
    let (shard, from_node, from_port) = placement(&db, &big.org_id).await;
    let (to_node, to_port): (i32, i32) = db
        .query_one(
            "select nodeid, nodeport from pg_dist_node
             where groupid <> 0 and noderole = 'primary' and nodeid <> $1 order by nodeid limit 1",
            &[&from_node],
        )
        .await
        .map(|row| (row.get(0), row.get(1)))
        .expect("another worker");
    let move_params: [&(dyn tokio_postgres::types::ToSql + Sync); 3] =
        [&shard, &from_node, &to_node];
    with_deadlock_retries(|| {
        db.execute(
            "select citus_move_shard_placement($1, $2, $3, 'block_writes')",
            &move_params,
        )
    })
    .await
    .expect("move the shard");
    let took = started.elapsed();
    moving.store(false, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let mut failures = Vec::new();
    for client in clients {
        failures.extend(client.await.expect("a client task"));
    }

    let (ok, failed, during, worst) = (
        load.ok.load(Ordering::Relaxed),
        load.failed.load(Ordering::Relaxed),
        load.during_move.load(Ordering::Relaxed),
        Duration::from_micros(load.worst_micros.load(Ordering::Relaxed)),
    );
    println!(
        "isolate {split:?} + move {:?}; {ok} requests succeeded ({during} started during the \
         split and move), {failed} failed; worst latency {worst:?}",
        took - split
    );
    assert_eq!(shard, isolated, "the tenant lives in the shard made for it");
    assert_ne!(shard, shared_shard);
    assert_eq!(
        placement(&db, &big.org_id).await,
        (shard, to_node, to_port),
        "the shard moved from port {from_port} to port {to_port}"
    );
    let tenants_in_shard: i64 = db
        .query_one(
            "select count(*) from pg_dist_shard
             where shardid = $1 and shardminvalue = shardmaxvalue",
            &[&shard],
        )
        .await
        .expect("shard range")
        .get(0);
    assert_eq!(
        tenants_in_shard, 1,
        "the shard holds one hash value: one tenant"
    );
    assert!(during > 0, "requests ran during the move");
    assert!(
        failures.is_empty(),
        "{failed} requests failed during the move: {:?}",
        &failures[..failures.len().min(5)]
    );
    let projects: i64 = db
        .query_one(
            "select count(*) from app.projects where org_id = $1::text::uuid",
            &[&big.org_id],
        )
        .await
        .expect("count")
        .get(0);
    assert!(projects > 20_000, "no row lost ({projects})");
    // The service keeps serving both organizations afterwards.
    app.me(&big).await.assert_status(200);
    app.me(&neighbour).await.assert_status(200);
}

#[tokio::test]
#[ignore = "needs a Citus cluster: run scripts/citus"]
async fn the_workers_deny_public_what_the_coordinator_denies() {
    require_citus();
    let db = TestDb::new().await;
    let client = db.superuser().await;
    let checks = "select pg_catalog.has_database_privilege('tenantry_app', \
                  pg_catalog.current_database(), 'TEMP') \
                  or pg_catalog.has_function_privilege('tenantry_app', \
                  'pg_catalog.pg_notify(text, text)', 'EXECUTE') \
                  or pg_catalog.has_function_privilege('tenantry_app', \
                  'pg_catalog.lo_import(text)', 'EXECUTE') \
                  or pg_catalog.has_function_privilege('tenantry_app', \
                  'pg_catalog.pg_advisory_lock(bigint)', 'EXECUTE')";
    let coordinator: bool = client
        .query_one(checks, &[])
        .await
        .expect("privileges on the coordinator")
        .get(0);
    assert!(!coordinator, "the coordinator grants PUBLIC too much");
    let workers = client
        .query(
            "select nodeport, success, result from run_command_on_workers($1)",
            &[&checks],
        )
        .await
        .expect("privileges on the workers");
    assert_eq!(workers.len(), 2, "two workers answer");
    for row in workers {
        let (port, success, result): (i32, bool, String) = (row.get(0), row.get(1), row.get(2));
        assert!(success, "worker {port}: {result}");
        assert_eq!(
            result, "f",
            "worker {port} still lets tenantry_app use TEMP, pg_notify, large objects or session advisory locks"
        );
    }
}
