//! Users of an organization: CRUD, pagination, roles, and uniqueness settled by the database.

use std::collections::HashSet;

use serde_json::json;

use crate::support::{PASSWORD, TestApp};

#[tokio::test]
async fn an_admin_adds_reads_updates_and_removes_a_user() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let admin = app.add_user(&owner, "admin@acme.test", "admin").await;

    let created = app
        .as_user(&admin)
        .post("/v1/users")
        .json(json!({"email": "Carol@Acme.test", "display_name": "Carol", "password": PASSWORD}))
        .send()
        .await;
    created.assert_status(201);
    let id = created.str("/id");
    assert_eq!(created.body["email"], "carol@acme.test");
    assert_eq!(created.body["role"], "member", "member is the default role");
    assert_eq!(
        created.header("location"),
        Some(format!("/v1/users/{id}").as_str())
    );

    let read = app
        .as_user(&admin)
        .get(&format!("/v1/users/{id}"))
        .send()
        .await;
    read.assert_status(200);
    assert_eq!(read.body, created.body);

    let updated = app
        .as_user(&admin)
        .patch(&format!("/v1/users/{id}"))
        .json(json!({"display_name": "Carol C.", "role": "admin"}))
        .send()
        .await;
    updated.assert_status(200);
    assert_eq!(updated.body["display_name"], "Carol C.");
    assert_eq!(updated.body["role"], "admin");
    assert_eq!(updated.body["created_at"], created.body["created_at"]);
    assert_ne!(updated.body["updated_at"], created.body["updated_at"]);

    app.as_user(&admin)
        .delete(&format!("/v1/users/{id}"))
        .send()
        .await
        .assert_status(204);
    app.as_user(&admin)
        .get(&format!("/v1/users/{id}"))
        .send()
        .await
        .assert_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn a_duplicate_email_in_any_case_returns_409_but_another_org_may_use_it() {
    let app = TestApp::spawn().await;
    let acme = app.signup("acme").await;
    let globex = app.signup("globex").await;
    app.add_user(&acme, "dave@shared.test", "member").await;

    for email in ["dave@shared.test", "DAVE@Shared.Test"] {
        let resp = app
            .as_user(&acme)
            .post("/v1/users")
            .json(json!({"email": email, "display_name": "Dave 2", "password": PASSWORD}))
            .send()
            .await;
        resp.assert_error(409, "EMAIL_ALREADY_EXISTS");
    }
    let other_org = app
        .as_user(&globex)
        .post("/v1/users")
        .json(json!({"email": "Dave@Shared.test", "display_name": "Dave", "password": PASSWORD}))
        .send()
        .await;
    other_org.assert_status(201);
}

#[tokio::test]
async fn changing_an_email_to_a_taken_one_returns_409() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let bob = app.add_user(&owner, "bob@acme.test", "member").await;

    let resp = app
        .as_user(&bob)
        .patch(&format!("/v1/users/{}", bob.user_id))
        .json(json!({"email": owner.email.to_uppercase(), "current_password": PASSWORD}))
        .send()
        .await;

    resp.assert_error(409, "EMAIL_ALREADY_EXISTS");
}

#[tokio::test]
async fn fifty_concurrent_identical_creates_give_one_201_and_forty_nine_409s() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;

    let requests = (0..50).map(|_| {
        app.as_user(&owner)
            .post("/v1/users")
            .json(json!({"email": "race@acme.test", "display_name": "Racer", "password": PASSWORD}))
            .send()
    });
    let responses = futures_util::future::join_all(requests).await;

    let created = responses.iter().filter(|r| r.status == 201).count();
    let conflicts: Vec<_> = responses.iter().filter(|r| r.status == 409).collect();
    assert_eq!(created, 1, "exactly one create wins");
    assert_eq!(conflicts.len(), 49, "every other create is a conflict");
    for resp in conflicts {
        resp.assert_error(409, "EMAIL_ALREADY_EXISTS");
    }
    let db = app.db.superuser().await;
    let rows: i64 = db
        .query_one(
            "select count(*) from app.users where email = 'race@acme.test'",
            &[],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(rows, 1);
}

#[tokio::test]
async fn listing_walks_every_user_once_in_creation_order() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let db = app.db.superuser().await;
    // Seed directly (hashing 45 passwords through the API would only slow the test down).
    db.batch_execute(&format!(
        "insert into app.users (org_id, id, email, display_name, password_hash, role)
         select '{org}', gen_random_uuid(), 'u' || g || '@acme.test', 'User ' || g,
                '$argon2id$seed', 'member'
         from generate_series(1, 45) g",
        org = owner.org_id,
    ))
    .await
    .expect("seed users");
    let total: i64 = db
        .query_one("select count(*) from app.users", &[])
        .await
        .expect("count")
        .get(0);

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/users?limit=7&cursor={c}"),
            None => "/v1/users?limit=7".to_owned(),
        };
        let page = app.as_user(&owner).get(&path).send().await;
        page.assert_status(200);
        let items = page.body["items"].as_array().expect("items").clone();
        assert!(items.len() <= 7);
        seen.extend(
            items
                .iter()
                .map(|u| u["id"].as_str().expect("id").to_owned()),
        );
        pages += 1;
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(pages < 100, "pagination does not terminate");
    }

    assert_eq!(seen.len() as i64, total, "every user is listed");
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no user is listed twice");
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(sorted, seen, "pages follow id (creation) order");
}

#[tokio::test]
async fn list_limits_and_cursors_are_validated() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;

    for limit in ["0", "101", "-1", "abc"] {
        let resp = app
            .as_user(&owner)
            .get(&format!("/v1/users?limit={limit}"))
            .send()
            .await;
        resp.assert_error(422, "VALIDATION_FAILED");
        assert_eq!(resp.detail_fields(), ["limit"], "limit={limit}");
    }
    for cursor in ["garbage", "%27%20or%201%3D1"] {
        let resp = app
            .as_user(&owner)
            .get(&format!("/v1/users?cursor={cursor}"))
            .send()
            .await;
        resp.assert_error(422, "VALIDATION_FAILED");
        assert_eq!(resp.detail_fields(), ["cursor"]);
    }
    // Shaped like a cursor, but not one this service signed.
    app.as_user(&owner)
        .get(&format!("/v1/users?cursor={}", "A".repeat(60)))
        .send()
        .await
        .assert_error(400, "INVALID_CURSOR");
    let full = app.as_user(&owner).get("/v1/users?limit=100").send().await;
    full.assert_status(200);
    assert_eq!(full.body["next_cursor"], serde_json::Value::Null);
}

#[tokio::test]
async fn members_cannot_manage_users() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let member = app.add_user(&owner, "m@acme.test", "member").await;

    let create = app
        .as_user(&member)
        .post("/v1/users")
        .json(json!({"email": "x@acme.test", "display_name": "X", "password": PASSWORD}))
        .send()
        .await;
    create.assert_error(403, "FORBIDDEN");
    // A taken email is refused as forbidden too, not 409: a member cannot probe for emails.
    let probe = app
        .as_user(&member)
        .post("/v1/users")
        .json(json!({"email": owner.email, "display_name": "X", "password": PASSWORD}))
        .send()
        .await;
    probe.assert_error(403, "FORBIDDEN");
    let edit = app
        .as_user(&member)
        .patch(&format!("/v1/users/{}", owner.user_id))
        .json(json!({"display_name": "Pwned"}))
        .send()
        .await;
    edit.assert_error(403, "FORBIDDEN");
    let delete = app
        .as_user(&member)
        .delete(&format!("/v1/users/{}", owner.user_id))
        .send()
        .await;
    delete.assert_error(403, "FORBIDDEN");
    let own = app
        .as_user(&member)
        .patch(&format!("/v1/users/{}", member.user_id))
        .json(json!({"display_name": "Me"}))
        .send()
        .await;
    own.assert_status(200);
}

#[tokio::test]
async fn admins_cannot_create_touch_or_remove_owners() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let admin = app.add_user(&owner, "admin@acme.test", "admin").await;
    let member = app.add_user(&owner, "m@acme.test", "member").await;

    let create_owner = app
        .as_user(&admin)
        .post("/v1/users")
        .json(json!({"email": "o2@acme.test", "display_name": "O2", "password": PASSWORD, "role": "owner"}))
        .send()
        .await;
    create_owner.assert_error(403, "FORBIDDEN");
    let promote = app
        .as_user(&admin)
        .patch(&format!("/v1/users/{}", member.user_id))
        .json(json!({"role": "owner"}))
        .send()
        .await;
    promote.assert_error(403, "FORBIDDEN");
    let edit_owner = app
        .as_user(&admin)
        .patch(&format!("/v1/users/{}", owner.user_id))
        .json(json!({"password": "new password 123"}))
        .send()
        .await;
    edit_owner.assert_error(403, "FORBIDDEN");
    let remove_owner = app
        .as_user(&admin)
        .delete(&format!("/v1/users/{}", owner.user_id))
        .send()
        .await;
    remove_owner.assert_error(403, "FORBIDDEN");
}

#[tokio::test]
async fn nobody_changes_their_own_role_and_the_last_owner_stays() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let admin = app.add_user(&owner, "admin@acme.test", "admin").await;

    let self_promote = app
        .as_user(&admin)
        .patch(&format!("/v1/users/{}", admin.user_id))
        .json(json!({"role": "owner"}))
        .send()
        .await;
    self_promote.assert_error(403, "FORBIDDEN");

    let second = app.add_user(&owner, "owner2@acme.test", "owner").await;
    // Two owners demote each other at the same time: one must remain.
    let (a, b) = tokio::join!(
        app.as_user(&owner)
            .patch(&format!("/v1/users/{}", second.user_id))
            .json(json!({"role": "member"}))
            .send(),
        app.as_user(&second)
            .patch(&format!("/v1/users/{}", owner.user_id))
            .json(json!({"role": "member"}))
            .send(),
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    // The loser is refused either by the last-owner rule (both were owners when it started)
    // or, if the winner committed first, because it is no longer an owner at all.
    assert!(
        statuses == [200, 409] || statuses == [200, 403],
        "a: {} b: {}",
        a.text,
        b.text
    );
    let loser = if a.status == 200 { b } else { a };
    if loser.status == 409 {
        loser.assert_error(409, "LAST_OWNER");
    } else {
        loser.assert_error(403, "FORBIDDEN");
    }

    let db = app.db.superuser().await;
    let owners: i64 = db
        .query_one("select count(*) from app.users where role = 'owner'", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(owners, 1);
}

#[tokio::test]
async fn nobody_removes_themselves() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let admin = app.add_user(&owner, "admin@acme.test", "admin").await;

    for who in [&owner, &admin] {
        app.as_user(who)
            .delete(&format!("/v1/users/{}", who.user_id))
            .send()
            .await
            .assert_error(403, "FORBIDDEN");
    }
}

#[tokio::test]
async fn a_changed_password_is_the_only_one_that_logs_in() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;

    app.as_user(&owner)
        .patch(&format!("/v1/users/{}", owner.user_id))
        .json(json!({"password": "a brand new password", "current_password": PASSWORD}))
        .send()
        .await
        .assert_status(200);

    app.login("acme", &owner.email, PASSWORD)
        .await
        .assert_error(401, "INVALID_CREDENTIALS");
    app.login("acme", &owner.email, "a brand new password")
        .await
        .assert_status(200);
}

#[tokio::test]
async fn a_removed_user_disappears_frees_the_email_and_can_be_restored_unless_taken() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let admin = app.add_user(&owner, "admin@acme.test", "admin").await;
    let member = app.add_user(&owner, "m@acme.test", "member").await;
    let carol = app.add_user(&owner, "carol@acme.test", "member").await;
    let dave = app.add_user(&owner, "dave@acme.test", "member").await;

    for gone in [&carol, &dave] {
        app.as_user(&admin)
            .delete(&format!("/v1/users/{}", gone.user_id))
            .send()
            .await
            .assert_status(204);
    }

    app.as_user(&owner)
        .get(&format!("/v1/users/{}", carol.user_id))
        .send()
        .await
        .assert_error(404, "NOT_FOUND");
    let live = app.as_user(&owner).get("/v1/users?limit=100").send().await;
    assert!(!live.text.contains("carol@acme.test"));
    let all = app
        .as_user(&admin)
        .get("/v1/users?limit=100&include=deleted")
        .send()
        .await;
    all.assert_status(200);
    let listed = all.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|u| u["email"] == "carol@acme.test")
        .expect("removed users are listed on request");
    assert!(listed["deleted_at"].is_string());
    app.as_user(&member)
        .get("/v1/users?include=deleted")
        .send()
        .await
        .assert_error(403, "FORBIDDEN");
    app.login("acme", "carol@acme.test", PASSWORD)
        .await
        .assert_error(401, "INVALID_CREDENTIALS");

    // The email is free again; restoring Carol now conflicts, Dave comes back.
    app.add_user(&owner, "carol@acme.test", "member").await;
    app.as_user(&admin)
        .post(&format!("/v1/users/{}/restore", carol.user_id))
        .send()
        .await
        .assert_error(409, "EMAIL_ALREADY_EXISTS");
    app.as_user(&member)
        .post(&format!("/v1/users/{}/restore", dave.user_id))
        .send()
        .await
        .assert_error(403, "FORBIDDEN");
    let restored = app
        .as_user(&admin)
        .post(&format!("/v1/users/{}/restore", dave.user_id))
        .send()
        .await;
    restored.assert_status(200);
    assert!(restored.body.get("deleted_at").is_none());
    app.login("acme", "dave@acme.test", PASSWORD)
        .await
        .assert_status(200);
}

#[tokio::test]
async fn adding_a_user_with_an_idempotency_key_adds_once() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let body = json!({"email": "once@acme.test", "display_name": "Once", "password": PASSWORD});

    let first = app
        .as_user(&owner)
        .post("/v1/users")
        .header("idempotency-key", "add-once")
        .json(body.clone())
        .send()
        .await;
    let retry = app
        .as_user(&owner)
        .post("/v1/users")
        .header("idempotency-key", "add-once")
        .json(body)
        .send()
        .await;

    first.assert_status(201);
    retry.assert_status(201);
    assert_eq!(first.body, retry.body);
    let other = app
        .as_user(&owner)
        .post("/v1/users")
        .header("idempotency-key", "add-once")
        .json(json!({"email": "twice@acme.test", "display_name": "Twice", "password": PASSWORD}))
        .send()
        .await;
    other.assert_error(422, "IDEMPOTENCY_KEY_REUSED");
    let stored: i64 = app
        .db
        .superuser()
        .await
        .query_one(
            "select count(*) from app.idempotency_keys where response_body::text like '%once@acme.test%' and response_body::text not like '%correct horse%'",
            &[],
        )
        .await
        .expect("count")
        .get(0);
    assert_eq!(stored, 1, "the stored response holds no password");
}

#[tokio::test]
async fn user_edits_honour_if_match_without_lost_updates() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let bob = app.add_user(&owner, "bob@acme.test", "member").await;
    let path = format!("/v1/users/{}", bob.user_id);
    let read = app.as_user(&owner).get(&path).send().await;
    let etag = read.header("etag").expect("an ETag").to_owned();
    assert_eq!(etag, format!("\"{}\"", read.body["version"]));

    let (a, b) = tokio::join!(
        app.as_user(&owner)
            .patch(&path)
            .header("if-match", &etag)
            .json(json!({"display_name": "Bob A"}))
            .send(),
        app.as_user(&bob)
            .patch(&path)
            .header("if-match", &etag)
            .json(json!({"display_name": "Bob B"}))
            .send(),
    );

    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [200, 412], "a: {} b: {}", a.text, b.text);
    app.as_user(&owner)
        .delete(&path)
        .header("if-match", &etag)
        .send()
        .await
        .assert_error(412, "PRECONDITION_FAILED");
    let current = app.as_user(&owner).get(&path).send().await;
    app.as_user(&owner)
        .delete(&path)
        .header("if-match", current.header("etag").expect("etag"))
        .send()
        .await
        .assert_status(204);
}
