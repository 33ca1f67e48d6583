//! Pooled connections never carry one request's tenant context into another: thousands of
//! interleaved requests from several organizations over a pool of one or two connections,
//! including transactions that fail midway, are cancelled midway, or are never committed.

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::json;
use tenantry::auth::Principal;
use tenantry::db::Sql;

use crate::support::{Member, TestApp, TestDb, settings_for};

const REQUESTS: usize = 2100;
const IN_FLIGHT: usize = 24;

struct Org {
    members: Vec<Member>,
    principals: Vec<Principal>,
}

async fn seed(app: &TestApp, slug: &str) -> Org {
    let owner = app.signup(slug).await;
    let second = app
        .add_user(&owner, &format!("second@{slug}.test"), "admin")
        .await;
    let third = app
        .add_user(&owner, &format!("third@{slug}.test"), "member")
        .await;
    let members = vec![owner, second, third];
    let principals = members.iter().map(|m| app.principal(m)).collect();
    Org {
        members,
        principals,
    }
}

/// One request of kind `i % 7` by member `i % 3` of `org`; panics on any leak.
async fn exercise(app: &TestApp, org: &Org, i: usize) {
    let member = &org.members[i % 3];
    let principal = &org.principals[i % 3];
    let domain = format!("@{}.test", member.org_slug);
    match i % 7 {
        0 => {
            let resp = app.as_user(member).get("/v1/org").send().await;
            resp.assert_status(200);
            assert_eq!(
                resp.body["id"],
                member.org_id.as_str(),
                "another org's organization"
            );
        }
        1 => {
            let resp = app.me(member).await;
            resp.assert_status(200);
            assert_eq!(
                resp.body["id"],
                member.user_id.as_str(),
                "another user's profile"
            );
        }
        2 => {
            let resp = app.as_user(member).get("/v1/users?limit=100").send().await;
            resp.assert_status(200);
            let items = resp.body["items"].as_array().expect("items");
            assert_eq!(items.len(), 3);
            for item in items {
                let email = item["email"].as_str().expect("email");
                assert!(email.ends_with(&domain), "{email} leaked into {domain}");
            }
        }
        3 => {
            // Fails inside the transaction (after a successful read): rolled back. The owner
            // edits another user (changing one's own email would need the current password).
            let target = &org.members[1 + i % 2];
            let taken = &org.members[2 - i % 2].email;
            let resp = app
                .as_user(&org.members[0])
                .patch(&format!("/v1/users/{}", target.user_id))
                .json(json!({"email": taken}))
                .send()
                .await;
            resp.assert_error(409, "EMAIL_ALREADY_EXISTS");
        }
        4 => {
            // The context a transaction sees is exactly its own.
            let mut tx = app.state.db.tenant_tx(principal).await.expect("tx");
            let row = tx
                .query_one(
                    &Sql::new(
                        "select current_setting('app.org_id'), current_setting('app.user_id'),
                                current_setting('app.role'), current_user::text",
                    ),
                    &[],
                )
                .await
                .expect("settings");
            assert_eq!(row.get::<_, String>(0), principal.org_id().to_string());
            assert_eq!(
                row.get::<_, String>(1),
                principal.user_id().expect("a person").to_string()
            );
            let role = ["owner", "admin", "member"][i % 3];
            assert_eq!(
                row.get::<_, String>(2),
                role,
                "the role from the users table"
            );
            assert_eq!(row.get::<_, String>(3), "tenantry_app");
            if i.is_multiple_of(2) {
                tx.commit().await.expect("commit");
            } // else: dropped without commit, rolled back before reuse
        }
        5 => {
            // A transaction that errors midway, then is dropped.
            let mut tx = app.state.db.tenant_tx(principal).await.expect("tx");
            let failed = tx.query(&Sql::new("select 1 / 0"), &[]).await;
            assert!(failed.is_err());
            drop(tx);
            // A transaction cancelled while its query runs.
            let mut tx = app.state.db.tenant_tx(principal).await.expect("tx");
            let _ = tokio::time::timeout(
                Duration::from_millis(1),
                tx.query(&Sql::new("select pg_sleep(0.01)"), &[]),
            )
            .await;
        }
        _ => {
            // Without a tenant context nothing of any tenant is set, and no tenant table is
            // readable at all (the pre-authentication role has no privilege on them).
            let mut tx = app.state.db.anon_tx().await.expect("tx");
            let rows = tx
                .query(
                    &Sql::new(
                        "select coalesce(current_setting('app.org_id', true), ''),
                                coalesce(current_setting('app.user_id', true), ''),
                                has_table_privilege('app.users', 'SELECT')",
                    ),
                    &[],
                )
                .await
                .expect("settings");
            assert_eq!(rows[0].get::<_, String>(0), "", "stale app.org_id");
            assert_eq!(rows[0].get::<_, String>(1), "", "stale app.user_id");
            assert!(
                !rows[0].get::<_, bool>(2),
                "tenant rows readable without a tenant"
            );
            tx.commit().await.expect("commit");
        }
    }
}

async fn hammer(pool_size: u32) {
    let db = TestDb::new().await;
    let mut settings = settings_for(&db);
    settings.db_pool_size = pool_size;
    settings.db_acquire_timeout_ms = 60_000;
    let app = TestApp::spawn_with(db, settings).await;
    let orgs = vec![
        seed(&app, "leak-a").await,
        seed(&app, "leak-b").await,
        seed(&app, "leak-c").await,
    ];

    let app_ref = &app;
    let orgs_ref = &orgs;
    futures_util::stream::iter(0..REQUESTS)
        .map(|i| async move { exercise(app_ref, &orgs_ref[(i / 7) % orgs_ref.len()], i).await })
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<()>>()
        .await;

    // Every connection is back and idle: none is left inside a transaction.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let inspector = app.db.superuser().await;
    let stuck: i64 = inspector
        .query_one(
            "select count(*) from pg_stat_activity
              where datname = current_database() and state like 'idle in transaction%'",
            &[],
        )
        .await
        .expect("activity")
        .get(0);
    assert_eq!(
        stuck, 0,
        "a pooled connection was left inside a transaction"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_of_one_never_leaks_context_between_tenants() {
    hammer(1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pool_of_two_never_leaks_context_between_tenants() {
    hammer(2).await;
}
