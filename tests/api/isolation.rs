//! Tenant isolation: another organization's objects are indistinguishable from missing ones,
//! and PostgreSQL (not the handlers) enforces it.

use serde_json::json;
use tenantry::db::Sql;
use tenantry::error::AppError;

use crate::support::{Member, TestApp, without_request_id};

async fn two_orgs(app: &TestApp) -> (Member, Member, Member) {
    let acme = app.signup("acme").await;
    let globex = app.signup("globex").await;
    let acme_user = app.add_user(&acme, "victim@acme.test", "member").await;
    (acme, globex, acme_user)
}

#[tokio::test]
async fn another_orgs_user_ids_answer_exactly_like_random_ids() {
    let app = TestApp::spawn().await;
    let (_acme, globex, victim) = two_orgs(&app).await;
    let random = uuid::Uuid::now_v7().to_string();

    for (method, body) in [
        (reqwest::Method::GET, None),
        (
            reqwest::Method::PATCH,
            Some(json!({"display_name": "pwned", "role": "admin"})),
        ),
        (reqwest::Method::DELETE, None),
    ] {
        let send = |id: String| {
            let mut req = app
                .as_user(&globex)
                .request(method.clone(), &format!("/v1/users/{id}"));
            if let Some(body) = &body {
                req = req.json(body.clone());
            }
            req.send()
        };
        let theirs = send(victim.user_id.clone()).await;
        let missing = send(random.clone()).await;

        theirs.assert_error(404, "NOT_FOUND");
        assert_eq!(theirs.status, missing.status, "{method}");
        assert_eq!(
            without_request_id(&theirs.body),
            without_request_id(&missing.body),
            "{method}: another org's id must look missing"
        );
    }
    // Nothing was changed or removed.
    let db = app.db.superuser().await;
    let row = db
        .query_one(
            "select display_name, role from app.users where id = $1::text::uuid",
            &[&victim.user_id],
        )
        .await
        .expect("the victim still exists");
    assert_eq!(row.get::<_, String>(0), "victim@acme.test");
    assert_eq!(row.get::<_, String>(1), "member");
}

#[tokio::test]
async fn lists_and_the_org_show_only_the_callers_organization() {
    let app = TestApp::spawn().await;
    let (acme, globex, _) = two_orgs(&app).await;

    let list = app.as_user(&globex).get("/v1/users?limit=100").send().await;
    list.assert_status(200);
    let emails: Vec<&str> = list.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|u| u["email"].as_str().expect("email"))
        .collect();
    assert_eq!(emails, ["owner@globex.test"]);
    let org = app.as_user(&acme).get("/v1/org").send().await;
    assert_eq!(org.body["id"], acme.org_id.as_str());
}

#[tokio::test]
async fn hand_written_sql_in_a_tenant_transaction_cannot_reach_another_org() {
    let app = TestApp::spawn().await;
    let (acme, globex, victim) = two_orgs(&app).await;
    let acme_org = uuid::Uuid::parse_str(&acme.org_id).expect("uuid");
    let victim_id = uuid::Uuid::parse_str(&victim.user_id).expect("uuid");
    let principal = app.principal(&globex);

    // A buggy query without any org filter sees only the caller's rows.
    let mut tx = app.state.db.tenant_tx(&principal).await.expect("tx");
    let rows = tx
        .query(&Sql::new("select org_id, email from app.users"), &[])
        .await
        .expect("query");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<_, String>(1), "owner@globex.test");
    // Asking for the other organization by id finds nothing.
    let rows = tx
        .query(
            &Sql::new("select id from app.users where org_id = $1"),
            &[&acme_org],
        )
        .await
        .expect("query");
    assert!(rows.is_empty());
    let orgs = tx
        .query(&Sql::new("select id from app.organizations"), &[])
        .await
        .expect("query");
    assert_eq!(orgs.len(), 1, "only the caller's organization is visible");
    // Updates and deletes aimed at the other organization touch nothing.
    let updated = tx
        .execute(
            &Sql::new("update app.users set display_name = 'pwned' where id = $1"),
            &[&victim_id],
        )
        .await
        .expect("update");
    assert_eq!(updated, 0);
    let deleted = tx
        .execute(
            &Sql::new("delete from app.users where org_id = $1"),
            &[&acme_org],
        )
        .await
        .expect("delete");
    assert_eq!(deleted, 0);
    tx.commit().await.expect("commit");

    // Inserting a row into the other organization is refused by the policy's WITH CHECK.
    let mut tx = app.state.db.tenant_tx(&principal).await.expect("tx");
    let insert = tx
        .execute(
            &Sql::new(
                "insert into app.users (org_id, id, email, display_name, password_hash, role)
                 values ($1, gen_random_uuid(), 'planted@acme.test', 'Planted', '$argon2id$x', 'owner')",
            ),
            &[&acme_org],
        )
        .await;
    assert!(matches!(insert, Err(AppError::NotFound)), "{insert:?}");
    drop(tx);

    let db = app.db.superuser().await;
    let planted: i64 = db
        .query_one(
            "select count(*) from app.users where email = 'planted@acme.test'",
            &[],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(planted, 0);
}

#[tokio::test]
async fn the_runtime_role_sees_nothing_without_context_or_with_a_stale_empty_one() {
    let app = TestApp::spawn().await;
    let (acme, _, _) = two_orgs(&app).await;
    let db = app.db.superuser().await;

    // No context at all.
    db.batch_execute("begin; set local role tenantry_app;")
        .await
        .expect("begin");
    let visible: i64 = db
        .query_one("select count(*) from app.users", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(visible, 0);
    let insert = db
        .execute(
            "insert into app.users (org_id, id, email, display_name, password_hash, role)
             values ($1::text::uuid, gen_random_uuid(), 'x@acme.test', 'X', '$argon2id$x', 'member')",
            &[&acme.org_id],
        )
        .await;
    assert_eq!(
        insert.expect_err("refused").code(),
        Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE)
    );
    db.batch_execute("rollback").await.expect("rollback");

    // A previous transaction's SET LOCAL leaves '' behind on the connection.
    db.batch_execute(&format!(
        "begin; set local role tenantry_app; set local app.org_id = '{}'; commit;",
        acme.org_id
    ))
    .await
    .expect("earlier transaction");
    db.batch_execute("begin; set local role tenantry_app;")
        .await
        .expect("begin");
    let setting: String = db
        .query_one("select current_setting('app.org_id', true)", &[])
        .await
        .expect("setting")
        .get(0);
    assert_eq!(setting, "", "PostgreSQL keeps an empty string, not NULL");
    let visible: i64 = db
        .query_one("select count(*) from app.users", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(visible, 0, "the empty context matches no row");
    let updated = db
        .execute("update app.users set display_name = 'x'", &[])
        .await
        .expect("update runs");
    assert_eq!(updated, 0);
    db.batch_execute("rollback").await.expect("rollback");
}

#[tokio::test]
async fn a_request_body_cannot_choose_the_organization() {
    let app = TestApp::spawn().await;
    let (acme, globex, _) = two_orgs(&app).await;

    let resp = app
        .as_user(&globex)
        .post("/v1/users")
        .json(json!({
            "email": "mole@globex.test", "display_name": "Mole",
            "password": crate::support::PASSWORD, "org_id": acme.org_id,
        }))
        .send()
        .await;

    resp.assert_error(422, "VALIDATION_FAILED");
    assert_eq!(resp.detail_fields(), ["org_id"]);
}
