//! The schema's guarantees, read from the catalog: every constraint has a public meaning,
//! every table forces RLS, and the start-up self-check refuses an unprotected table.

use std::collections::BTreeSet;

use tenantry::db::Db;
use tenantry::error::{CONSTRAINTS, TRIGGER_CONSTRAINTS};

use crate::support::{TestDb, settings_for};

#[tokio::test]
async fn every_constraint_and_unique_index_has_an_error_mapping() {
    let db = TestDb::new().await;
    let client = db.superuser().await;
    let rows = client
        .query(
            // Joined with pg_class, which on a Citus coordinator hides the shards placed
            // there (a reference table's copy), whose constraint names carry a shard suffix.
            "select conname::text from pg_constraint c
               join pg_namespace n on n.oid = c.connamespace
               join pg_class t on t.oid = c.conrelid
              where n.nspname = 'app' and c.contype in ('p', 'u', 'f', 'c', 'x')
             union
             select i.relname::text from pg_index x
               join pg_class i on i.oid = x.indexrelid
               join pg_namespace n on n.oid = i.relnamespace
              where n.nspname = 'app' and x.indisunique",
            &[],
        )
        .await
        .expect("catalog");
    let in_schema: BTreeSet<String> = rows.iter().map(|r| r.get(0)).collect();
    let mapped: BTreeSet<String> = CONSTRAINTS
        .iter()
        .map(|(n, _)| (*n).to_owned())
        .filter(|n| !TRIGGER_CONSTRAINTS.contains(&n.as_str()))
        .collect();

    let unmapped: Vec<_> = in_schema.difference(&mapped).collect();
    let stale: Vec<_> = mapped.difference(&in_schema).collect();
    assert!(
        unmapped.is_empty(),
        "add these to error::CONSTRAINTS: {unmapped:?}"
    );
    assert!(
        stale.is_empty(),
        "CONSTRAINTS names what the schema lacks: {stale:?}"
    );
}

#[tokio::test]
async fn every_table_of_the_app_schema_forces_row_level_security() {
    let db = TestDb::new().await;
    let client = db.superuser().await;
    let rows = client
        .query(
            "select c.relname::text, c.relrowsecurity, c.relforcerowsecurity
               from pg_class c join pg_namespace n on n.oid = c.relnamespace
              where n.nspname = 'app' and c.relkind in ('r', 'p')",
            &[],
        )
        .await
        .expect("catalog");
    assert!(rows.len() >= 2, "organizations and users at least");
    for row in rows {
        let table: String = row.get(0);
        assert!(
            row.get::<_, bool>(1) && row.get::<_, bool>(2),
            "{table} must ENABLE and FORCE RLS"
        );
    }
}

#[tokio::test]
async fn the_self_check_passes_on_a_migrated_database() {
    let db = TestDb::new().await;
    let pool = Db::new(&settings_for(&db).db_config()).expect("pool");
    let warnings = pool.self_check().await.expect("self-check passes");
    // The test cluster logs in as a superuser: the check says so, and only that.
    assert!(
        warnings.iter().any(|w| w.contains("SUPERUSER")),
        "{warnings:?}"
    );
    assert_eq!(
        warnings.len(),
        1,
        "PUBLIC's privileges are revoked: {warnings:?}"
    );
}

#[tokio::test]
async fn the_self_check_warns_when_public_still_grants_what_the_request_roles_need_not_have() {
    let db = TestDb::new().await;
    db.superuser()
        .await
        .batch_execute(&format!(
            "grant temporary on database \"{}\" to public;
             grant execute on function lo_create(oid), pg_notify(text, text) to public;",
            db.name
        ))
        .await
        .expect("grant");

    let warnings = Db::new(&settings_for(&db).db_config())
        .expect("pool")
        .self_check()
        .await
        .expect("warnings do not stop the service");

    for expected in [
        "tenantry_app can create temporary tables",
        "tenantry_anon can create temporary tables",
        "tenantry_app can execute lo_create(oid), pg_notify(text,text)",
    ] {
        assert!(
            warnings.iter().any(|w| w.contains(expected)),
            "{expected}: {warnings:?}"
        );
    }
}

#[tokio::test]
async fn the_self_check_refuses_a_runtime_role_that_can_call_the_pre_authentication_functions() {
    let db = TestDb::new().await;
    db.superuser()
        .await
        .batch_execute(
            "grant execute on function app.login_lookup(text, text) to tenantry_app;
             grant select (slug) on app.organizations to tenantry_anon;",
        )
        .await
        .expect("grant");

    let err = Db::new(&settings_for(&db).db_config())
        .expect("pool")
        .self_check()
        .await
        .expect_err("the roles are no longer kept apart");

    let message = err.to_string();
    assert!(
        message.contains("tenantry_app can execute the pre-authentication function(s) app.login_lookup(text,text)"),
        "{message}"
    );
    assert!(
        message.contains("tenantry_anon has privileges on table(s) app.organizations"),
        "{message}"
    );
}

#[tokio::test]
async fn the_self_check_refuses_a_login_role_that_cannot_enter_the_pre_authentication_role() {
    let db = TestDb::new().await;
    let client = db.superuser().await;
    let login = ScratchRole::create(&client, "login noinherit in role tenantry_app").await;
    let mut settings = settings_for(&db);
    settings.database_url.user(&login.name);

    let err = Db::new(&settings.db_config())
        .expect("pool")
        .self_check()
        .await
        .expect_err("the login role must be able to enter both roles");

    let message = err.to_string();
    assert!(
        message.contains(&format!(
            "{} cannot SET ROLE tenantry_anon: GRANT tenantry_anon TO {}",
            login.name, login.name
        )),
        "{message}"
    );
    assert!(!message.contains("SET ROLE tenantry_app"), "{message}");
}

/// Tenant transactions cannot reach the pre-authentication functions, which read across
/// tenants; the pre-authentication role can, and reads no table itself.
#[tokio::test]
async fn only_the_pre_authentication_role_calls_the_pre_authentication_functions() {
    let db = TestDb::new().await;
    let client = db.superuser().await;
    for (role, statement) in [
        (
            "tenantry_app",
            "select * from app.login_lookup('acme', 'a@acme.test')",
        ),
        (
            "tenantry_app",
            "select * from app.rotate_refresh_token(gen_random_uuid(), gen_random_uuid(), '', '', '0 s')",
        ),
        ("tenantry_anon", "select count(*) from app.users"),
        ("tenantry_anon", "select count(*) from app.organizations"),
        (
            "tenantry_anon",
            "select app.enter(gen_random_uuid(), gen_random_uuid(), gen_random_uuid())",
        ),
    ] {
        client
            .batch_execute(&format!("begin; set local role {role}"))
            .await
            .expect("begin");
        let err = client.batch_execute(statement).await.expect_err("refused");
        assert_eq!(
            err.code(),
            Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
            "{role}: {statement}: {err}"
        );
        client.batch_execute("rollback").await.expect("rollback");
    }
    client
        .batch_execute(
            "begin; set local role tenantry_anon;
             select * from app.login_lookup('acme', 'a@acme.test');
             select max(version) from refinery_schema_history;
             rollback;",
        )
        .await
        .expect("the pre-authentication role calls them");
}

#[tokio::test]
async fn the_self_check_names_a_table_added_without_rls() {
    let db = TestDb::new().await;
    db.superuser()
        .await
        .batch_execute("create table app.widgets (org_id uuid not null, id uuid primary key)")
        .await
        .expect("create table");

    let err = Db::new(&settings_for(&db).db_config())
        .expect("pool")
        .self_check()
        .await
        .expect_err("an unprotected table fails the check");

    let message = err.to_string();
    assert!(message.contains("app.widgets"), "{message}");
    assert!(message.contains("FORCE ROW LEVEL SECURITY"), "{message}");
}

#[tokio::test]
async fn the_self_check_names_a_missing_policy() {
    let db = TestDb::new().await;
    db.superuser()
        .await
        .batch_execute(
            "create table app.widgets (org_id uuid not null, id uuid primary key);
             alter table app.widgets enable row level security;
             alter table app.widgets force row level security;
             create policy widgets_select on app.widgets for select to tenantry_app
                 using (org_id = app.current_org_id());",
        )
        .await
        .expect("create table");

    let err = Db::new(&settings_for(&db).db_config())
        .expect("pool")
        .self_check()
        .await
        .expect_err("missing policies fail the check");

    let message = err.to_string();
    assert!(
        message.contains("app.widgets has no INSERT/UPDATE/DELETE policy"),
        "{message}"
    );
}

#[tokio::test]
async fn the_service_refuses_to_start_on_an_unprotected_table() {
    let db = TestDb::new().await;
    db.superuser()
        .await
        .batch_execute("create table app.gadgets (org_id uuid not null)")
        .await
        .expect("create table");

    let result = tenantry::app::App::build(&settings_for(&db)).await;

    let message = result.err().expect("start-up fails").to_string();
    assert!(message.contains("app.gadgets"), "{message}");
}

#[tokio::test]
async fn the_login_lookup_function_is_narrow() {
    let db = TestDb::new().await;
    let client = db.superuser().await;
    let row = client
        .query_one(
            "select p.prosecdef, p.proconfig, pg_get_userbyid(p.proowner)::text,
                    has_function_privilege('public', p.oid, 'execute'),
                    has_function_privilege('tenantry_app', p.oid, 'execute'),
                    pg_get_function_result(p.oid),
                    has_function_privilege('tenantry_anon', p.oid, 'execute')
               from pg_proc p join pg_namespace n on n.oid = p.pronamespace
              where n.nspname = 'app' and p.proname = 'login_lookup'",
            &[],
        )
        .await
        .expect("the function exists");
    assert!(row.get::<_, bool>(0), "SECURITY DEFINER");
    let config: Vec<String> = row.get(1);
    assert_eq!(config, ["search_path=pg_catalog, pg_temp"]);
    assert_eq!(row.get::<_, String>(2), "tenantry_auth");
    assert!(!row.get::<_, bool>(3), "PUBLIC must not execute it");
    assert!(
        !row.get::<_, bool>(4),
        "the runtime role must not execute it"
    );
    assert!(
        row.get::<_, bool>(6),
        "the pre-authentication role executes it"
    );
    assert_eq!(
        row.get::<_, String>(5),
        "TABLE(org_id uuid, user_id uuid, password_hash text, role text)"
    );
    let role = client
        .query_one(
            "select rolsuper, rolbypassrls, rolcanlogin from pg_roles where rolname = 'tenantry_auth'",
            &[],
        )
        .await
        .expect("role");
    assert!(!role.get::<_, bool>(0) && !role.get::<_, bool>(1) && !role.get::<_, bool>(2));
}

/// A throw-away role with the given attributes, dropped afterwards.
struct ScratchRole {
    name: String,
}

impl ScratchRole {
    async fn create(client: &tokio_postgres::Client, attributes: &str) -> Self {
        let name = format!("tenantry_guard_{}", uuid::Uuid::now_v7().simple());
        client
            .batch_execute(&format!("create role {name} {attributes}"))
            .await
            .expect("create role");
        Self { name }
    }
}

impl Drop for ScratchRole {
    fn drop(&mut self) {
        crate::support::db::run_admin_blocking(format!("drop role if exists {}", self.name));
    }
}

#[tokio::test]
async fn the_runtime_role_check_refuses_bypassing_or_escaping_roles() {
    let db = TestDb::new().await;
    let client = db.superuser().await;
    let pool = Db::new(&settings_for(&db).db_config()).expect("pool");
    pool.check_runtime_role("tenantry_app")
        .await
        .expect("the real runtime role passes");
    pool.check_runtime_role("tenantry_anon")
        .await
        .expect("the real pre-authentication role passes");

    let cases = [
        ("nologin bypassrls", "BYPASSRLS"),
        ("nologin superuser", "SUPERUSER"),
        ("login", "can LOGIN"),
        ("nologin in role tenantry_auth", "could SET ROLE"),
    ];
    for (attributes, expected) in cases {
        let role = ScratchRole::create(&client, attributes).await;
        let err = pool
            .check_runtime_role(&role.name)
            .await
            .expect_err("the check refuses it");
        assert!(err.to_string().contains(expected), "{attributes}: {err}");
    }
    let missing = pool.check_runtime_role("no_such_role_here").await;
    assert!(missing.is_err());
}
