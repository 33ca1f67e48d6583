//! Projects: the example resource's full pattern (RBAC, uniqueness among live rows, audit
//! fields, filters, sorting, pagination, ETag/If-Match, idempotent creates, soft delete).

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::support::{Member, TestApp, TestResponse};

async fn create(app: &TestApp, who: &Member, body: Value) -> TestResponse {
    app.as_user(who)
        .post("/v1/projects")
        .json(body)
        .send()
        .await
}

#[tokio::test]
async fn a_project_lives_through_create_read_update_and_delete_with_audit_fields() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let member = app.add_user(&owner, "m@acme.test", "member").await;

    let created = create(
        &app,
        &member,
        json!({"name": "Apollo", "description": "to the moon"}),
    )
    .await;
    created.assert_status(201);
    let id = created.str("/id");
    assert_eq!(
        created.body["owner_id"],
        member.user_id.as_str(),
        "the caller owns it"
    );
    assert_eq!(created.body["status"], "active");
    assert_eq!(created.body["version"], 1);
    assert_eq!(
        created.body["created_by"],
        json!({"type": "user", "id": member.user_id})
    );
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!(
        created.header("location"),
        Some(format!("/v1/projects/{id}").as_str())
    );

    let read = app
        .as_user(&owner)
        .get(&format!("/v1/projects/{id}"))
        .send()
        .await;
    read.assert_status(200);
    assert_eq!(read.header("etag"), Some("\"1\""));

    let updated = app
        .as_user(&owner)
        .patch(&format!("/v1/projects/{id}"))
        .header("if-match", "\"1\"")
        .json(json!({"status": "archived"}))
        .send()
        .await;
    updated.assert_status(200);
    assert_eq!(updated.body["version"], 2);
    assert_eq!(updated.header("etag"), Some("\"2\""));
    assert_eq!(
        updated.body["updated_by"],
        json!({"type": "user", "id": owner.user_id}),
        "the database records who"
    );
    assert_eq!(
        updated.body["created_by"],
        json!({"type": "user", "id": member.user_id})
    );

    app.as_user(&member)
        .delete(&format!("/v1/projects/{id}"))
        .send()
        .await
        .assert_status(204);
    app.as_user(&owner)
        .get(&format!("/v1/projects/{id}"))
        .send()
        .await
        .assert_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn audit_fields_cannot_be_set_by_callers() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;

    let resp = create(
        &app,
        &owner,
        json!({"name": "Forged", "created_by": uuid::Uuid::now_v7(), "version": 99}),
    )
    .await;
    resp.assert_error(422, "VALIDATION_FAILED");
    // Even hand-written SQL in a tenant transaction cannot choose them: the trigger overwrites.
    let principal = app.principal(&owner);
    let mut tx = app.state.db.tenant_tx(&principal).await.expect("tx");
    let row = tx
        .query_one(
            &tenantry::db::Sql::new(
                "insert into app.projects (id, name, owner_id, created_by, created_at)
                 values (gen_random_uuid(), 'Sneaky', $1::text::uuid, gen_random_uuid(), '2000-01-01')
                 returning created_by::text, created_at",
            ),
            &[&owner.user_id],
        )
        .await
        .expect("insert");
    assert_eq!(row.get::<_, String>(0), owner.user_id);
    // (Compared here: Citus refuses a non-immutable now() in RETURNING.)
    let created_at: chrono::DateTime<chrono::Utc> = row.get(1);
    assert!(
        chrono::Utc::now() - created_at < chrono::TimeDelta::minutes(1),
        "created_at is the database's now(), not {created_at}"
    );
}

#[tokio::test]
async fn names_are_unique_among_live_projects_ignoring_case() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let globex = app.signup("globex").await;
    let first = create(&app, &owner, json!({"name": "Apollo"})).await;
    first.assert_status(201);

    create(&app, &owner, json!({"name": "APOLLO"}))
        .await
        .assert_error(409, "PROJECT_NAME_TAKEN");
    create(&app, &globex, json!({"name": "Apollo"}))
        .await
        .assert_status(201);

    // Deleting frees the name; restoring the old one then conflicts.
    app.as_user(&owner)
        .delete(&format!("/v1/projects/{}", first.str("/id")))
        .send()
        .await
        .assert_status(204);
    create(&app, &owner, json!({"name": "apollo"}))
        .await
        .assert_status(201);
    app.as_user(&owner)
        .post(&format!("/v1/projects/{}/restore", first.str("/id")))
        .send()
        .await
        .assert_error(409, "PROJECT_NAME_TAKEN");
}

#[tokio::test]
async fn members_work_on_their_own_projects_and_admins_on_all() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let admin = app.add_user(&owner, "a@acme.test", "admin").await;
    let alice = app.add_user(&owner, "alice@acme.test", "member").await;
    let bob = app.add_user(&owner, "bob@acme.test", "member").await;
    let bobs = create(&app, &bob, json!({"name": "Bob's"})).await;
    let bobs_id = bobs.str("/id");

    create(
        &app,
        &alice,
        json!({"name": "For Bob", "owner_id": bob.user_id}),
    )
    .await
    .assert_error(403, "FORBIDDEN");
    app.as_user(&alice)
        .patch(&format!("/v1/projects/{bobs_id}"))
        .json(json!({"name": "Alice's now"}))
        .send()
        .await
        .assert_error(403, "FORBIDDEN");
    app.as_user(&alice)
        .delete(&format!("/v1/projects/{bobs_id}"))
        .send()
        .await
        .assert_error(403, "FORBIDDEN");
    app.as_user(&bob)
        .patch(&format!("/v1/projects/{bobs_id}"))
        .json(json!({"owner_id": alice.user_id}))
        .send()
        .await
        .assert_error(403, "FORBIDDEN");
    app.as_user(&admin)
        .patch(&format!("/v1/projects/{bobs_id}"))
        .json(json!({"owner_id": alice.user_id}))
        .send()
        .await
        .assert_status(200);
    create(
        &app,
        &admin,
        json!({"name": "For Alice", "owner_id": alice.user_id}),
    )
    .await
    .assert_status(201);
    create(
        &app,
        &admin,
        json!({"name": "For nobody", "owner_id": uuid::Uuid::now_v7()}),
    )
    .await
    .assert_error(422, "VALIDATION_FAILED");
}

async fn names(app: &TestApp, who: &Member, query: &str) -> Vec<String> {
    let resp = app
        .as_user(who)
        .get(&format!("/v1/projects?{query}"))
        .send()
        .await;
    resp.assert_status(200);
    resp.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_owned())
        .collect()
}

#[tokio::test]
async fn lists_filter_sort_and_page_consistently() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let bob = app.add_user(&owner, "bob@acme.test", "member").await;
    for (name, who, status) in [
        ("delta", &owner, "active"),
        ("Alpha", &bob, "active"),
        ("charlie", &owner, "archived"),
        ("bravo", &bob, "archived"),
        ("50%_off", &owner, "active"),
    ] {
        create(&app, who, json!({"name": name, "status": status}))
            .await
            .assert_status(201);
    }

    assert_eq!(
        names(&app, &owner, "sort=name").await,
        ["50%_off", "Alpha", "bravo", "charlie", "delta"]
    );
    assert_eq!(
        names(&app, &owner, "sort=-name").await,
        ["delta", "charlie", "bravo", "Alpha", "50%_off"]
    );
    assert_eq!(
        names(&app, &owner, "sort=-created").await,
        ["50%_off", "bravo", "charlie", "Alpha", "delta"]
    );
    assert_eq!(
        names(&app, &owner, "status=archived&sort=name").await,
        ["bravo", "charlie"]
    );
    assert_eq!(
        names(&app, &owner, &format!("owner_id={}&sort=name", bob.user_id)).await,
        ["Alpha", "bravo"]
    );
    assert_eq!(names(&app, &owner, "name_prefix=AL").await, ["Alpha"]);
    assert_eq!(
        names(&app, &owner, "name_prefix=50%25_").await,
        ["50%_off"],
        "wildcards are literal"
    );

    // Pages of 2 by name give the same sequence as one page.
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(c) => format!("/v1/projects?sort=name&limit=2&cursor={c}"),
            None => "/v1/projects?sort=name&limit=2".to_owned(),
        };
        let page = app.as_user(&owner).get(&query).send().await;
        page.assert_status(200);
        paged.extend(
            page.body["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|p| p["name"].as_str().expect("name").to_owned()),
        );
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(paged, ["50%_off", "Alpha", "bravo", "charlie", "delta"]);
}

#[tokio::test]
async fn cursors_from_another_org_or_another_list_are_rejected() {
    let app = TestApp::spawn().await;
    let acme = app.signup("acme").await;
    let globex = app.signup("globex").await;
    for i in 0..3 {
        create(&app, &acme, json!({"name": format!("p{i}")}))
            .await
            .assert_status(201);
        create(&app, &globex, json!({"name": format!("p{i}")}))
            .await
            .assert_status(201);
    }
    let page = app.as_user(&acme).get("/v1/projects?limit=1").send().await;
    let cursor = page.str("/next_cursor");

    app.as_user(&globex)
        .get(&format!("/v1/projects?limit=1&cursor={cursor}"))
        .send()
        .await
        .assert_error(400, "INVALID_CURSOR");
    app.as_user(&acme)
        .get(&format!("/v1/projects?limit=1&sort=name&cursor={cursor}"))
        .send()
        .await
        .assert_error(400, "INVALID_CURSOR");
    let mut forged = cursor.clone().into_bytes();
    forged[0] = if forged[0] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).expect("ascii");
    app.as_user(&acme)
        .get(&format!("/v1/projects?limit=1&cursor={forged}"))
        .send()
        .await
        .assert_error(400, "INVALID_CURSOR");
    app.as_user(&acme)
        .get(&format!("/v1/projects?limit=1&cursor={cursor}"))
        .send()
        .await
        .assert_status(200);
}

#[tokio::test]
async fn two_concurrent_edits_with_the_same_etag_give_one_success_and_one_412() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let id = create(&app, &owner, json!({"name": "Shared"}))
        .await
        .str("/id");
    let path = format!("/v1/projects/{id}");

    let (a, b) = tokio::join!(
        app.as_user(&owner)
            .patch(&path)
            .header("if-match", "\"1\"")
            .json(json!({"description": "edit A"}))
            .send(),
        app.as_user(&owner)
            .patch(&path)
            .header("if-match", "\"1\"")
            .json(json!({"description": "edit B"}))
            .send(),
    );

    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [200, 412], "a: {} b: {}", a.text, b.text);
    let loser = if a.status == 412 { &a } else { &b };
    loser.assert_error(412, "PRECONDITION_FAILED");
    let winner = if a.status == 200 { &a } else { &b };
    let now = app.as_user(&owner).get(&path).send().await;
    assert_eq!(
        now.body["description"], winner.body["description"],
        "no lost update"
    );

    for stale in ["\"1\"", "W/\"1\""] {
        app.as_user(&owner)
            .delete(&path)
            .header("if-match", stale)
            .send()
            .await
            .assert_error(412, "PRECONDITION_FAILED");
    }
    app.as_user(&owner)
        .delete(&path)
        .header("if-match", "garbage")
        .send()
        .await
        .assert_error(400, "INVALID_HEADER");
    app.as_user(&owner)
        .delete(&path)
        .header("if-match", "*")
        .send()
        .await
        .assert_status(204);
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_create() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let globex = app.signup("globex").await;
    let body = json!({"name": "Once", "description": "only once"});
    async fn send(app: &TestApp, who: &Member, body: Value) -> TestResponse {
        app.as_user(who)
            .post("/v1/projects")
            .header("idempotency-key", "key-123")
            .json(body)
            .send()
            .await
    }

    let responses =
        futures_util::future::join_all((0..6).map(|_| send(&app, &owner, body.clone()))).await;

    for resp in &responses {
        resp.assert_status(201);
        assert_eq!(
            resp.body, responses[0].body,
            "every retry replays the first response"
        );
        assert_eq!(resp.header("location"), responses[0].header("location"));
    }
    let db = app.db.superuser().await;
    let count: i64 = db
        .query_one("select count(*) from app.projects where name = 'Once'", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(count, 1, "created exactly once");

    send(&app, &owner, json!({"name": "Different"}))
        .await
        .assert_error(422, "IDEMPOTENCY_KEY_REUSED");
    // Keys are scoped per organization.
    send(&app, &globex, body.clone()).await.assert_status(201);
    assert_ne!(
        send(&app, &globex, body).await.body["id"],
        responses[0].body["id"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn walking_a_thousand_rows_while_others_write_skips_and_repeats_nothing() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let db = app.db.superuser().await;
    db.batch_execute(&format!(
        "insert into app.projects (org_id, id, name, owner_id)
         select '{org}', gen_random_uuid(), 'seed ' || g, '{user}' from generate_series(1, 1000) g",
        org = owner.org_id,
        user = owner.user_id,
    ))
    .await
    .expect("seed");
    let before: HashSet<String> = db
        .query("select id::text from app.projects", &[])
        .await
        .expect("ids")
        .iter()
        .map(|r| r.get(0))
        .collect();

    // Meanwhile: inserts and deletes.
    let writer_app = &app;
    let writer_owner = &owner;
    let ids: Vec<String> = before.iter().take(60).cloned().collect();
    let writer = async {
        let mut deleted = HashSet::new();
        for (i, id) in ids.iter().enumerate() {
            create(
                writer_app,
                writer_owner,
                json!({"name": format!("new {i}")}),
            )
            .await
            .assert_status(201);
            if i % 2 == 0 {
                writer_app
                    .as_user(writer_owner)
                    .delete(&format!("/v1/projects/{id}"))
                    .send()
                    .await
                    .assert_status(204);
                deleted.insert(id.clone());
            }
        }
        deleted
    };
    let reader = async {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..200 {
            let query = match &cursor {
                Some(c) => format!("/v1/projects?sort=name&limit=37&cursor={c}"),
                None => "/v1/projects?sort=name&limit=37".to_owned(),
            };
            let page = app.as_user(&owner).get(&query).send().await;
            page.assert_status(200);
            seen.extend(
                page.body["items"]
                    .as_array()
                    .expect("items")
                    .iter()
                    .map(|p| p["id"].as_str().expect("id").to_owned()),
            );
            match page.body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return seen,
            }
        }
        panic!("the walk did not end");
    };
    let (deleted, seen) = tokio::join!(writer, reader);

    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no row appears twice");
    let missing: Vec<&String> = before
        .iter()
        .filter(|id| !deleted.contains(*id) && !unique.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "pre-existing rows were skipped: {}",
        missing.len()
    );
}
