//! Every query the repositories send is planned as an index access whose index condition holds
//! the tenant key, with the tenant policy evaluated once (an index condition or a one-time
//! filter), never as a sequential scan of a tenant table or a policy checked row by row. Each
//! UPDATE and DELETE finds its rows that way too, and the single-row ones through the primary
//! key. INSERTs are left out of the index checks: a single-row `INSERT ... VALUES` reads no
//! table, so its plan has nothing to check; the test asserts just that, so that an INSERT that
//! starts reading a table is checked like a query. Checked with `EXPLAIN`, inside a real tenant
//! context, on a data set with realistic statistics (many organizations, `ANALYZE`d).

use std::path::Path;

use serde_json::Value;
use tokio_postgres::types::ToSql;

use crate::support::TestDb;

const ORGS: i64 = 1000;

/// The ids (org, user, session, project) of one seeded organization.
pub(crate) type SeededIds = (uuid::Uuid, uuid::Uuid, uuid::Uuid, uuid::Uuid);

/// Seeds `orgs` (at least 42) organizations of 20 users, 20 sessions, 40 projects (and their
/// 40 events), 20 idempotency keys and 5 API keys each (key k's secret hashes as SHA-256 of `secret-<k>`),
/// and returns the ids of one of them.
pub(crate) async fn seed(client: &tokio_postgres::Client, orgs: i64) -> SeededIds {
    client
        .batch_execute(&format!(
            "insert into app.organizations (id, slug, name)
               select ('00000000-0000-7000-8000-' || lpad(to_hex(o), 12, '0'))::uuid, 'org-' || o, 'Org ' || o
               from generate_series(1, {orgs}) o;
             insert into app.users (org_id, id, email, display_name, password_hash, role)
               select ('00000000-0000-7000-8000-' || lpad(to_hex(o), 12, '0'))::uuid,
                      ('00000000-0000-7000-8001-' || lpad(to_hex(o * 1000 + u), 12, '0'))::uuid,
                      'u' || u || '@org' || o || '.test', 'User ' || u, '$argon2id$seed',
                      case when u = 1 then 'owner' else 'member' end
               from generate_series(1, {orgs}) o, generate_series(1, 20) u;
             insert into app.sessions (org_id, id, user_id, current_hashes, expires_at)
               select org_id, ('00000000-0000-7000-8002-' || substr(id::text, 25))::uuid, id,
                      array['\\x00'::bytea], now() + interval '1 day'
               from app.users;
             insert into app.projects (org_id, id, name, owner_id)
               select ('00000000-0000-7000-8000-' || lpad(to_hex(o), 12, '0'))::uuid,
                      ('00000000-0000-7000-8003-' || lpad(to_hex(o * 1000 + p), 12, '0'))::uuid,
                      'Project ' || p,
                      ('00000000-0000-7000-8001-' || lpad(to_hex(o * 1000 + 1 + p % 20), 12, '0'))::uuid
               from generate_series(1, {orgs}) o, generate_series(1, 40) p;
             insert into app.idempotency_keys (org_id, key, operation, request_hash, expires_at)
               select id, 'key-' || k, 'createProject', '\\x00', now() + interval '1 day'
               from app.organizations, generate_series(1, 20) k;
             insert into app.api_keys (org_id, id, name, role, secret_hash)
               select ('00000000-0000-7000-8000-' || lpad(to_hex(o), 12, '0'))::uuid,
                      ('00000000-0000-7000-8004-' || lpad(to_hex(o * 1000 + k), 12, '0'))::uuid,
                      'Key ' || k, 'member', sha256(('secret-' || k)::bytea)
               from generate_series(1, {orgs}) o, generate_series(1, 5) k;
             insert into app.invitations (org_id, id, email, role, token_hash, expires_at, invited_by)
               select ('00000000-0000-7000-8000-' || lpad(to_hex(o), 12, '0'))::uuid,
                      ('00000000-0000-7000-8005-' || lpad(to_hex(o * 1000 + i), 12, '0'))::uuid,
                      'invited' || i || '@org' || o || '.test', 'member', sha256(('inv-' || i)::bytea),
                      now() + interval '7 days',
                      ('00000000-0000-7000-8001-' || lpad(to_hex(o * 1000 + 1), 12, '0'))::uuid
               from generate_series(1, {orgs}) o, generate_series(1, 5) i;
             insert into app.user_tokens (org_id, id, user_id, kind, token_hash, expires_at)
               select org_id, ('00000000-0000-7000-8006-' || substr(id::text, 25))::uuid, id,
                      'password_reset', sha256(id::text::bytea), now() + interval '30 minutes'
               from app.users;
             insert into app.outbound_emails (org_id, id, kind, recipient, data, status)
               select org_id, ('00000000-0000-7000-8007-' || substr(id::text, 25))::uuid,
                      'password_reset', email, '{{}}', 'sent'
               from app.users;
             insert into app.events (org_id, id, seq, type, subject_id, actor_type, actor_id, payload)
               select p.org_id, ('00000000-0000-7000-8005-' || substr(p.id::text, 25))::uuid,
                      row_number() over (partition by p.org_id order by p.id),
                      'project.created', p.id, 'user', p.owner_id, '{{}}'::jsonb
               from app.projects p;
             insert into app.event_counters (org_id, last_seq)
               select org_id, max(seq) from app.events group by org_id;
             insert into app.webhook_endpoints (org_id, id, url, event_types, secret, last_event_seq)
               select ('00000000-0000-7000-8000-' || lpad(to_hex(o), 12, '0'))::uuid,
                      ('00000000-0000-7000-8006-' || lpad(to_hex(o * 10 + k), 12, '0'))::uuid,
                      'https://hooks.example/' || o, array['*'], decode(repeat('00', 32), 'hex'), 10
               from generate_series(1, {orgs}) o, generate_series(1, 2) k;
             insert into app.webhook_deliveries (org_id, id, endpoint_id, event_id, event_seq, event_type, status)
               select ('00000000-0000-7000-8000-' || lpad(to_hex(o), 12, '0'))::uuid,
                      ('00000000-0000-7000-8007-' || lpad(to_hex(o * 1000 + k * 100 + e), 12, '0'))::uuid,
                      ('00000000-0000-7000-8006-' || lpad(to_hex(o * 10 + k), 12, '0'))::uuid,
                      ('00000000-0000-7000-8005-' || lpad(to_hex(o * 1000 + e), 12, '0'))::uuid,
                      e, 'project.created', case when e <= 8 then 'succeeded' else 'pending' end
               from generate_series(1, {orgs}) o, generate_series(1, 2) k, generate_series(1, 10) e;
             analyze;"
        ))
        .await
        .expect("seed");
    let org = uuid::Uuid::parse_str("00000000-0000-7000-8000-00000000002a").expect("uuid");
    let user = uuid::Uuid::parse_str(&format!("00000000-0000-7000-8001-{:012x}", 42 * 1000 + 1))
        .expect("uuid");
    let session = uuid::Uuid::parse_str(&format!("00000000-0000-7000-8002-{:012x}", 42 * 1000 + 1))
        .expect("uuid");
    let project = uuid::Uuid::parse_str(&format!("00000000-0000-7000-8003-{:012x}", 42 * 1000 + 7))
        .expect("uuid");
    (org, user, session, project)
}

/// The id of API key 1 of the organization [`seed`] returns (its secret hashes as SHA-256 of
/// `secret-1`).
pub(crate) fn seeded_api_key() -> uuid::Uuid {
    uuid::Uuid::parse_str(&format!("00000000-0000-7000-8004-{:012x}", 42 * 1000 + 1)).expect("uuid")
}

/// Webhook endpoint 1 of the organization [`seed`] returns.
pub(crate) fn seeded_webhook() -> uuid::Uuid {
    uuid::Uuid::parse_str(&format!("00000000-0000-7000-8006-{:012x}", 42 * 10 + 1)).expect("uuid")
}

/// A pending delivery (event 9) of [`seeded_webhook`].
pub(crate) fn seeded_delivery() -> uuid::Uuid {
    uuid::Uuid::parse_str(&format!(
        "00000000-0000-7000-8007-{:012x}",
        42 * 1000 + 100 + 9
    ))
    .expect("uuid")
}

/// Nodes of a JSON plan, depth first.
fn nodes(plan: &Value, out: &mut Vec<Value>) {
    out.push(plan.clone());
    if let Some(children) = plan.get("Plans").and_then(Value::as_array) {
        for child in children {
            nodes(child, out);
        }
    }
}

/// The index condition of a scan node (a bitmap heap scan's is on its index child).
fn index_condition(node: &Value) -> Option<String> {
    node["Index Cond"].as_str().map(str::to_owned).or_else(|| {
        node["Plans"]
            .as_array()?
            .iter()
            .find_map(|child| child["Index Cond"].as_str().map(str::to_owned))
    })
}

/// A scan of a table must be an index scan whose condition holds the tenant key.
fn scan_problem(node: &Value) -> Option<String> {
    let kind = node["Node Type"].as_str()?;
    let relation = node["Relation Name"].as_str()?;
    if kind == "ModifyTable" || kind == "Seq Scan" {
        return None; // the target of a write is checked below; a sequential scan above
    }
    if !matches!(kind, "Index Scan" | "Index Only Scan" | "Bitmap Heap Scan") {
        return Some(format!("{kind} of {relation}"));
    }
    let key = if relation == "organizations" {
        "id"
    } else {
        "org_id"
    };
    match index_condition(node) {
        Some(condition) if condition.contains(&format!("{key} = ")) => None,
        other => Some(format!(
            "the scan of {relation} does not look up {key} in its index: {other:?}"
        )),
    }
}

/// Writes that change one row, by its primary key. (`sessions/revoke.sql` also names one row,
/// but may as well be found through `(org_id, user_id)`, among the user's few sessions.)
const SINGLE_ROW_WRITES: &[&str] = &[
    "organizations/update.sql",
    "users/update.sql",
    "users/delete.sql",
    "users/restore.sql",
    "projects/update.sql",
    "projects/delete.sql",
    "projects/restore.sql",
    "idempotency/reclaim.sql",
    "idempotency/complete.sql",
];

/// An INSERT reads no table; an UPDATE or DELETE finds its rows through an index (the primary
/// key for single-row writes).
fn write_problems(file: &str, all: &[Value]) -> Vec<String> {
    let Some(write) = all.iter().find(|n| n["Node Type"] == "ModifyTable") else {
        return Vec::new();
    };
    let target = write["Relation Name"].as_str().unwrap_or_default();
    let reads: Vec<&Value> = all
        .iter()
        .filter(|n| n.get("Relation Name").is_some() && n["Node Type"] != "ModifyTable")
        .collect();
    match write["Operation"].as_str() {
        Some("Insert") => reads
            .iter()
            .map(|n| format!("{file}: an INSERT that reads {}", n["Relation Name"]))
            .collect(),
        Some("Update" | "Delete") => {
            let Some(scan) = reads.iter().find(|n| n["Relation Name"] == target) else {
                return vec![format!("{file}: no scan of {target} under the write")];
            };
            let index = scan["Index Name"].as_str().unwrap_or_default();
            if SINGLE_ROW_WRITES.contains(&file) && index != format!("pk_{target}") {
                vec![format!(
                    "{file}: a single-row write not by pk_{target}: {scan}"
                )]
            } else {
                Vec::new()
            }
        }
        other => vec![format!("{file}: unexpected write {other:?}")],
    }
}

/// Bind values for every repository query, in one seeded organization.
pub(crate) struct Bindings {
    ids: SeededIds,
    hash: Vec<u8>,
    missing: Option<uuid::Uuid>,
    no_text: Option<String>,
    none_i64: Option<i64>,
    limit: i64,
    yes: bool,
    no: bool,
    name: &'static str,
    email: &'static str,
    role: &'static str,
    status: &'static str,
    password_hash: &'static str,
    key: &'static str,
    operation: &'static str,
    body: Value,
    secs: f64,
    status_code: i32,
    prefix: &'static str,
    after_name: Option<String>,
    api_key: uuid::Uuid,
    no_time: Option<chrono::DateTime<chrono::Utc>>,
    kind: &'static str,
    no_types: Option<Vec<String>>,
    types: Option<Vec<String>>,
    event_type: &'static str,
    after_seq: Option<i64>,
    webhook: uuid::Uuid,
    webhooks: Vec<uuid::Uuid>,
    delivery: uuid::Uuid,
    url: &'static str,
    event_types: Vec<String>,
    no_bool: Option<bool>,
    seq: i64,
    no_i32: Option<i32>,
    latency: i32,
    limit_i32: i32,
    now: chrono::DateTime<chrono::Utc>,
}

impl Bindings {
    pub(crate) fn new(ids: SeededIds) -> Self {
        Self {
            ids,
            hash: vec![0u8; 32],
            missing: None,
            no_text: None,
            none_i64: None,
            limit: 21,
            yes: true,
            no: false,
            name: "Name",
            email: "x@org42.test",
            role: "member",
            status: "active",
            password_hash: "$argon2id$x",
            key: "key",
            operation: "createProject",
            body: serde_json::json!({}),
            secs: 60.0,
            status_code: 201,
            prefix: "Proj",
            after_name: Some("project 7".to_owned()),
            api_key: seeded_api_key(),
            no_time: None,
            kind: "password_reset",
            no_types: None,
            types: Some(vec![
                "project.created".to_owned(),
                "project.updated".to_owned(),
            ]),
            event_type: "project.updated",
            after_seq: Some(10),
            webhook: seeded_webhook(),
            webhooks: vec![seeded_webhook()],
            delivery: seeded_delivery(),
            url: "https://hooks.example/x",
            event_types: vec!["*".to_owned()],
            no_bool: None,
            seq: 10,
            no_i32: None,
            latency: 12,
            limit_i32: 100,
            now: chrono::Utc::now(),
        }
    }

    /// Every repository query on tenant tables (file under `sql/queries/`) with its bindings.
    pub(crate) fn cases(&self) -> Vec<(&'static str, Vec<&(dyn ToSql + Sync)>)> {
        let (org, user, session, project) = (&self.ids.0, &self.ids.1, &self.ids.2, &self.ids.3);
        let Self {
            hash,
            missing,
            no_text,
            none_i64,
            limit,
            yes,
            no,
            name,
            email,
            role,
            status,
            password_hash,
            key,
            operation,
            body,
            secs,
            status_code,
            prefix,
            after_name,
            api_key,
            no_time,
            kind,
            no_types,
            types,
            event_type,
            after_seq,
            webhook,
            delivery,
            url,
            event_types,
            no_bool,
            seq,
            now,
            ..
        } = self;
        vec![
            ("organizations/get.sql", vec![org]),
            ("organizations/insert.sql", vec![org, name, name]),
            ("organizations/update.sql", vec![org, name]),
            ("users/get.sql", vec![org, user]),
            ("users/get_any.sql", vec![org, user]),
            ("users/get_for_change.sql", vec![org, user, email]),
            ("users/password_hash.sql", vec![org, user]),
            ("users/list.sql", vec![org, missing, limit, no]),
            ("users/list.sql", vec![org, user, limit, yes]),
            (
                "users/insert.sql",
                vec![org, user, email, name, password_hash, role],
            ),
            (
                "users/update.sql",
                vec![org, user, email, name, role, no_text, none_i64],
            ),
            ("users/delete.sql", vec![org, user, none_i64]),
            ("users/restore.sql", vec![org, user]),
            (
                "sessions/insert.sql",
                vec![org, session, user, hash, no_text, no_text, secs],
            ),
            ("sessions/list.sql", vec![org, user]),
            ("sessions/revoke.sql", vec![org, user, session]),
            ("sessions/revoke_all.sql", vec![org, user, missing]),
            ("projects/get.sql", vec![org, project]),
            ("projects/get_any.sql", vec![org, project]),
            ("projects/get_for_update.sql", vec![org, project]),
            (
                "projects/insert.sql",
                vec![org, project, name, name, user, status],
            ),
            (
                "projects/update.sql",
                vec![org, project, no_text, no_text, missing, no_text],
            ),
            ("projects/delete.sql", vec![org, project]),
            ("projects/restore.sql", vec![org, project]),
            (
                "projects/list_by_created.sql",
                vec![org, no_text, missing, no_text, no, missing, no_text, limit],
            ),
            (
                "projects/list_by_created_desc.sql",
                vec![org, no_text, missing, no_text, no, project, no_text, limit],
            ),
            (
                "projects/list_by_name.sql",
                vec![org, no_text, missing, prefix, no, missing, no_text, limit],
            ),
            (
                "projects/list_by_name_desc.sql",
                vec![org, no_text, user, no_text, no, project, after_name, limit],
            ),
            ("idempotency/claim.sql", vec![org, key, operation, hash]),
            ("idempotency/get.sql", vec![org, key]),
            ("idempotency/reclaim.sql", vec![org, key, operation, hash]),
            (
                "idempotency/complete.sql",
                vec![org, key, status_code, body],
            ),
            ("api_keys/get.sql", vec![org, api_key]),
            ("api_keys/list.sql", vec![org, missing, limit]),
            ("api_keys/list.sql", vec![org, api_key, limit]),
            (
                "api_keys/insert.sql",
                vec![org, project, name, role, hash, no_time],
            ),
            ("api_keys/revoke.sql", vec![org, api_key]),
            ("emails/insert.sql", vec![org, project, kind, email, body]),
            (
                "invitations/insert.sql",
                vec![org, project, email, role, hash, secs, user],
            ),
            ("invitations/member_exists.sql", vec![org, email]),
            ("invitations/list.sql", vec![org, missing, limit]),
            ("invitations/list.sql", vec![org, project, limit]),
            ("invitations/get.sql", vec![org, project]),
            ("invitations/revoke.sql", vec![org, project]),
            ("invitations/resend.sql", vec![org, project, hash, secs]),
            ("invitations/redeem.sql", vec![org, project, hash, user]),
            (
                "user_tokens/insert.sql",
                vec![org, project, user, kind, no_text, hash, secs],
            ),
            ("user_tokens/redeem.sql", vec![org, project, kind, hash]),
            ("user_tokens/use_all.sql", vec![org, user, kind]),
            ("users/set_password.sql", vec![org, user, password_hash]),
            (
                "users/insert_verified.sql",
                vec![org, user, email, name, password_hash, role],
            ),
            ("users/verify_email.sql", vec![org, user, email]),
            ("users/email_change.sql", vec![org, user, email]),
            (
                "webhooks/insert.sql",
                vec![org, project, url, event_types, name, hash, seq],
            ),
            ("webhooks/get.sql", vec![org, webhook]),
            ("webhooks/get_for_update.sql", vec![org, webhook]),
            ("webhooks/list.sql", vec![org, missing, limit]),
            (
                "webhooks/update.sql",
                vec![org, webhook, no_text, no_types, no_text, no_bool, seq, now],
            ),
            ("webhooks/park_deliveries.sql", vec![org, webhook, yes, now]),
            ("webhooks/delete.sql", vec![org, webhook]),
            (
                "webhooks/rotate_secret.sql",
                vec![org, webhook, hash, no_time],
            ),
            (
                "webhooks/list_deliveries.sql",
                vec![org, webhook, no_text, missing, limit],
            ),
            (
                "webhooks/retry_delivery.sql",
                vec![org, webhook, delivery, yes, now],
            ),
            ("webhooks/newest_event_seq.sql", vec![org]),
            (
                "events/emit.sql",
                vec![org, api_key, event_type, project, key, body],
            ),
            (
                "events/list.sql",
                vec![
                    org, no_types, missing, missing, no_time, no_time, none_i64, limit,
                ],
            ),
            (
                "events/list.sql",
                vec![
                    org, types, project, user, no_time, no_time, after_seq, limit,
                ],
            ),
        ]
    }

    /// The relay's queries, run as tenantry_relay in the organization it entered.
    pub(crate) fn relay_cases(&self) -> Vec<(&'static str, Vec<&(dyn ToSql + Sync)>)> {
        let org = &self.ids.0;
        let Self {
            limit,
            secs,
            webhook,
            webhooks,
            delivery,
            api_key,
            event_type,
            key,
            body,
            status,
            no_time,
            no_i32,
            no_text,
            latency,
            limit_i32,
            ..
        } = self;
        vec![
            ("relay/enter.sql", vec![org]),
            ("relay/fan_out.sql", vec![org, limit]),
            ("relay/claim.sql", vec![org, secs, webhook, limit]),
            ("relay/run.sql", vec![org, webhooks, limit]),
            (
                "relay/record.sql",
                vec![
                    org, delivery, webhook, status, no_time, no_i32, no_text, no_text, latency,
                    secs, no_time,
                ],
            ),
            ("relay/release.sql", vec![org, webhook, webhook]),
            ("relay/endpoint_succeeded.sql", vec![org, webhook]),
            ("relay/endpoint_failed.sql", vec![org, webhook]),
            ("relay/disable_endpoint.sql", vec![org, webhook]),
            ("relay/hold_deliveries.sql", vec![org, webhook]),
            (
                "events/emit.sql",
                vec![org, api_key, event_type, webhook, key, body],
            ),
            ("relay/due_orgs.sql", vec![limit_i32]),
            ("relay/backlog.sql", vec![]),
        ]
    }
}

/// The text of a query file under `sql/queries/`.
pub(crate) fn query_text(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sql/queries")
        .join(file);
    std::fs::read_to_string(path).expect("query file")
}

/// Fails naming the tenant-table query files that `cases` does not cover: a new query must
/// be added there.
pub(crate) fn assert_every_query_is_covered(cases: &[(&str, Vec<&(dyn ToSql + Sync)>)]) {
    let queries = Path::new(env!("CARGO_MANIFEST_DIR")).join("sql/queries");
    let mut files: Vec<String> = Vec::new();
    for dir in std::fs::read_dir(&queries).expect("queries") {
        let dir = dir.expect("entry").path();
        let group = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        if ["auth", "maintenance", "ops", "mail"].contains(&group.as_str()) {
            // SECURITY DEFINER entry points (log-in, the mail worker) and catalog reads, not
            // tenant-table queries
            continue;
        }
        for file in std::fs::read_dir(&dir).expect("files") {
            let name = file
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned();
            files.push(format!("{group}/{name}"));
        }
    }
    let covered: Vec<&str> = cases.iter().map(|(f, _)| *f).collect();
    let uncovered: Vec<&String> = files
        .iter()
        .filter(|f| !covered.contains(&f.as_str()))
        .collect();
    assert!(
        uncovered.is_empty(),
        "add these queries to explain.rs: {uncovered:?}"
    );
}

#[tokio::test]
async fn every_repository_query_uses_indexes_and_evaluates_the_policy_once() {
    let db = TestDb::new().await;
    let client = db.superuser().await;
    let ids = seed(&client, ORGS).await;
    let (org, user, session, _) = ids;
    let bindings = Bindings::new(ids);
    let cases = bindings.cases();
    let relay_cases = bindings.relay_cases();

    let mut problems = Vec::new();
    // The relay's queries, as the relay runs them: tenantry_relay, in one organization.
    client
        .batch_execute("begin; set local role tenantry_relay;")
        .await
        .expect("begin");
    client
        .query_one("select app.relay_enter($1)", &[&org])
        .await
        .expect("the relay's context");
    problems.extend(explain_problems(&client, &relay_cases).await);
    client.batch_execute("rollback").await.expect("rollback");
    client
        .batch_execute("begin; set local role tenantry_app;")
        .await
        .expect("begin");
    client
        .query_one("select app.enter($1, $2, $3)", &[&org, &user, &session])
        .await
        .expect("a tenant context");
    problems.extend(explain_problems(&client, &cases).await);
    client.batch_execute("rollback").await.expect("rollback");
    let mut all_cases = cases;
    all_cases.extend(relay_cases);
    assert_every_query_is_covered(&all_cases);
    assert!(
        problems.is_empty(),
        "plans that do not scale:\n{}",
        problems.join("\n")
    );
}

/// Statements whose CTEs write more than one table (an INSERT of rows read from others, with
/// UPDATEs): their scans are checked, not the write's shape.
const MULTI_WRITES: &[&str] = &["relay/fan_out.sql", "relay/claim.sql", "relay/record.sql"];

/// What is wrong with the plans of `cases`, in the context `client` has entered.
async fn explain_problems(
    client: &tokio_postgres::Client,
    cases: &[(&str, Vec<&(dyn ToSql + Sync)>)],
) -> Vec<String> {
    let mut problems = Vec::new();
    for (file, params) in cases {
        let sql = query_text(file);
        let explained = client
            .query_one(&format!("explain (format json) {sql}"), params)
            .await
            .unwrap_or_else(|err| panic!("{file}: {err}"));
        let plan: Value = explained.get(0);
        let mut all = Vec::new();
        nodes(&plan[0]["Plan"], &mut all);
        if !MULTI_WRITES.contains(file) {
            problems.extend(write_problems(file, &all));
        }
        for node in &all {
            let kind = node["Node Type"].as_str().unwrap_or_default();
            let relation = node["Relation Name"].as_str().unwrap_or_default();
            if kind == "Seq Scan" {
                problems.push(format!("{file}: sequential scan of {relation}"));
            }
            if let Some(problem) = scan_problem(node) {
                problems.push(format!("{file}: {problem}"));
            }
            // The tenant predicate must be an index condition or a one-time filter. (Role and
            // ownership predicates depend on the row: they filter the rows the index found.)
            if let Some(filter) = node["Filter"].as_str()
                && filter.contains("app.org_id")
            {
                problems.push(format!(
                    "{file}: the tenant policy is checked row by row on {relation}: {filter}"
                ));
            }
        }
    }
    problems
}
