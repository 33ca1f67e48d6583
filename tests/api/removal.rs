//! Removal and restore: whoever may remove a row may restore it and see it while removed (the
//! service and RLS agree), and a removed user cannot become a project's owner, even when the
//! removal races the assignment.

use std::time::Duration;

use serde_json::json;
use tenantry::db::Sql;

use crate::support::{Member, TestApp, TestResponse};

async fn create_project(app: &TestApp, who: &Member, body: serde_json::Value) -> TestResponse {
    app.as_user(who)
        .post("/v1/projects")
        .json(body)
        .send()
        .await
}

/// Ids listed by `GET /v1/projects?include=deleted` for `who`.
async fn listed_with_removed(app: &TestApp, who: &Member) -> Vec<String> {
    let resp = app
        .as_user(who)
        .get("/v1/projects?include=deleted&limit=100")
        .send()
        .await;
    resp.assert_status(200);
    resp.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["id"].as_str().expect("id").to_owned())
        .collect()
}

#[tokio::test]
async fn members_remove_restore_and_see_their_own_removed_projects_only() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let admin = app.add_user(&owner, "admin@acme.test", "admin").await;
    let alice = app.add_user(&owner, "alice@acme.test", "member").await;
    let bob = app.add_user(&owner, "bob@acme.test", "member").await;
    let alices = create_project(&app, &alice, json!({"name": "Alice's"}))
        .await
        .str("/id");
    let bobs = create_project(&app, &bob, json!({"name": "Bob's"}))
        .await
        .str("/id");
    let bobs_live = create_project(&app, &bob, json!({"name": "Bob's live"}))
        .await
        .str("/id");
    for (who, id) in [(&alice, &alices), (&bob, &bobs)] {
        app.as_user(who)
            .delete(&format!("/v1/projects/{id}"))
            .send()
            .await
            .assert_status(204);
    }

    // Alice sees her removed project, not Bob's.
    let seen = listed_with_removed(&app, &alice).await;
    assert!(
        seen.contains(&alices) && seen.contains(&bobs_live),
        "{seen:?}"
    );
    assert!(!seen.contains(&bobs), "{seen:?}");
    let seen = listed_with_removed(&app, &admin).await;
    assert!(seen.contains(&alices) && seen.contains(&bobs), "{seen:?}");

    // Alice restores her own; Bob's removed one does not exist for her; Bob's live one is
    // not hers.
    async fn restore(app: &TestApp, who: &Member, id: &str) -> TestResponse {
        app.as_user(who)
            .post(&format!("/v1/projects/{id}/restore"))
            .send()
            .await
    }
    let restored = restore(&app, &alice, &alices).await;
    restored.assert_status(200);
    assert!(
        restored.body.get("deleted_at").is_none(),
        "{}",
        restored.text
    );
    restore(&app, &alice, &bobs)
        .await
        .assert_error(404, "NOT_FOUND");
    restore(&app, &alice, &bobs_live)
        .await
        .assert_error(403, "FORBIDDEN");
    restore(&app, &admin, &bobs).await.assert_status(200);
}

/// The same rule in the database: a member's transaction, with hand-written SQL, sees neither
/// other members' removed projects nor removed users; an admin's sees both.
#[tokio::test]
async fn row_level_security_hides_removed_rows_from_those_who_may_not_restore_them() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let alice = app.add_user(&owner, "alice@acme.test", "member").await;
    let bob = app.add_user(&owner, "bob@acme.test", "member").await;
    let gone = app.add_user(&owner, "gone@acme.test", "member").await;
    let bobs = create_project(&app, &bob, json!({"name": "Bob's"}))
        .await
        .str("/id");
    app.as_user(&bob)
        .delete(&format!("/v1/projects/{bobs}"))
        .send()
        .await
        .assert_status(204);
    app.as_user(&owner)
        .delete(&format!("/v1/users/{}", gone.user_id))
        .send()
        .await
        .assert_status(204);

    let removed = |who: Member| {
        let app = &app;
        async move {
            let mut tx = app
                .state
                .db
                .tenant_tx(&app.principal(&who))
                .await
                .expect("tx");
            let row = tx
                .query_one(
                    &Sql::new(
                        "select (select count(*) from app.projects where deleted_at is not null),
                                (select count(*) from app.users where deleted_at is not null)",
                    ),
                    &[],
                )
                .await
                .expect("counts");
            (row.get::<_, i64>(0), row.get::<_, i64>(1))
        }
    };
    assert_eq!(removed(alice).await, (0, 0), "a member sees neither");
    assert_eq!(
        removed(bob).await,
        (1, 0),
        "a member sees their own removed project"
    );
    assert_eq!(removed(owner).await, (1, 1), "an owner sees both");
}

#[tokio::test]
async fn a_removed_user_cannot_become_the_owner_of_a_project() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let alice = app.add_user(&owner, "alice@acme.test", "member").await;
    let bob = app.add_user(&owner, "bob@acme.test", "member").await;
    let alices = create_project(&app, &alice, json!({"name": "Alice's"}))
        .await
        .str("/id");
    let owners = create_project(&app, &owner, json!({"name": "Owner's"}))
        .await
        .str("/id");
    app.as_user(&owner)
        .delete(&format!("/v1/users/{}", alice.user_id))
        .send()
        .await
        .assert_status(204);

    let refused = create_project(
        &app,
        &owner,
        json!({"name": "For Alice", "owner_id": alice.user_id}),
    )
    .await;
    refused.assert_error(422, "VALIDATION_FAILED");
    assert_eq!(refused.detail_fields(), ["owner_id"]);
    let patch = |id: &str, body: serde_json::Value| {
        app.as_user(&owner)
            .patch(&format!("/v1/projects/{id}"))
            .json(body)
            .send()
    };
    let refused = patch(&owners, json!({"owner_id": alice.user_id})).await;
    refused.assert_error(422, "VALIDATION_FAILED");
    assert_eq!(refused.detail_fields(), ["owner_id"]);

    // Her own project stays hers, can still be edited, and can be handed to a live user.
    let kept = patch(&alices, json!({"status": "archived"})).await;
    kept.assert_status(200);
    assert_eq!(kept.body["owner_id"], alice.user_id.as_str());
    patch(&alices, json!({"owner_id": bob.user_id}))
        .await
        .assert_status(200);

    // Restored, she can own projects again.
    app.as_user(&owner)
        .post(&format!("/v1/users/{}/restore", alice.user_id))
        .send()
        .await
        .assert_status(200);
    patch(&owners, json!({"owner_id": alice.user_id}))
        .await
        .assert_status(200);
}

/// A transaction of `who`'s, as the service opens it, on a connection of its own (so that two
/// can be open at once). Arbitrary SQL runs in it with `run`.
async fn open_tenant_tx(app: &TestApp, who: &Member) -> tokio_postgres::Client {
    let client = app.db.superuser().await;
    let principal = app.principal(who);
    client
        .batch_execute(
            // (As the service does: on Citus the tenant settings must reach the workers.)
            "begin; set local role tenantry_app; set local citus.propagate_set_commands = 'local'",
        )
        .await
        .expect("begin");
    client
        .query_one(
            "select app.enter($1, $2, $3)",
            &[
                principal.org_id().as_uuid(),
                principal.user_id().expect("a person").as_uuid(),
                principal.session_id().expect("a person").as_uuid(),
            ],
        )
        .await
        .expect("a tenant context");
    client
}

/// Waits until some backend of this database waits for a lock.
async fn until_someone_waits_for_a_lock(app: &TestApp) {
    let observer = app.db.superuser().await;
    for _ in 0..200 {
        let waiting: i64 = observer
            .query_one(
                "select count(*) from pg_stat_activity
                  where datname = current_database() and wait_event_type = 'Lock'",
                &[],
            )
            .await
            .expect("activity")
            .get(0);
        if waiting > 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("nobody waited for a lock");
}

/// The database settles a removal racing an assignment: whichever commits first wins, and the
/// other sees its outcome. A project is never assigned to a user already removed.
#[tokio::test]
async fn a_removal_racing_an_assignment_cannot_leave_a_new_project_with_a_removed_owner() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let alice = app.add_user(&owner, "alice@acme.test", "member").await;

    // The removal goes first and holds its lock; the assignment waits, then is refused.
    let removal = open_tenant_tx(&app, &owner).await;
    removal
        .execute(
            "update app.users set deleted_at = now() where id = $1::text::uuid",
            &[&alice.user_id],
        )
        .await
        .expect("removal");
    let assignment = open_tenant_tx(&app, &owner).await;
    let insert = "insert into app.projects (id, name, owner_id)
                  values (gen_random_uuid(), $1, $2::text::uuid)";
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&"Raced", &alice.user_id];
    let (inserted, ()) = tokio::join!(assignment.execute(insert, &params), async {
        until_someone_waits_for_a_lock(&app).await;
        removal.batch_execute("commit").await.expect("commit");
    });
    let err = inserted.expect_err("the assignment waited for the removal and was refused");
    let db_err = err.as_db_error().expect("a database error");
    assert_eq!(
        db_err.constraint(),
        Some("ck_projects_owner_live"),
        "{db_err:?}"
    );

    // The assignment goes first; the removal waits for it, and the project keeps its owner
    // (removing a user leaves their projects).
    app.as_user(&owner)
        .post(&format!("/v1/users/{}/restore", alice.user_id))
        .send()
        .await
        .assert_status(200);
    let assignment = open_tenant_tx(&app, &owner).await;
    assignment
        .execute(insert, &[&"First", &alice.user_id])
        .await
        .expect("assignment");
    let removal = open_tenant_tx(&app, &owner).await;
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 1] = [&alice.user_id];
    let (removed, ()) = tokio::join!(
        removal.execute(
            "update app.users set deleted_at = now() where id = $1::text::uuid",
            &params,
        ),
        async {
            until_someone_waits_for_a_lock(&app).await;
            assignment.batch_execute("commit").await.expect("commit");
        }
    );
    assert_eq!(removed.expect("the removal waited, then went through"), 1);
    removal.batch_execute("commit").await.expect("commit");
    let row = app
        .db
        .superuser()
        .await
        .query_one(
            "select p.owner_id::text, u.deleted_at is not null
               from app.projects p join app.users u on u.org_id = p.org_id and u.id = p.owner_id
              where p.name = 'First'",
            &[],
        )
        .await
        .expect("the project");
    assert_eq!(row.get::<_, String>(0), alice.user_id);
    assert!(
        row.get::<_, bool>(1),
        "its owner was removed after it was assigned"
    );
}
