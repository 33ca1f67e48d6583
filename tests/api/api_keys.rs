//! API keys, attacked: a key of one organization in another, forged ids, revoked, expired,
//! tampered, truncated and wrong-checksum keys, member keys where members are refused, keys on
//! person-only operations, the secret shown once and never again, its use recorded at most
//! once a minute, the key as the actor of what it changes, and its rate limit.

use serde_json::{Value, json};
use tenantry::auth::api_key::{HANDLE_LEN, KEY_LEN, PREFIX, with_checksum};

use crate::support::proxy::tapping_proxy;
use crate::support::{ApiKey, Member, TestApp, TestDb, settings_for, without_request_id};

/// The parts of a key: (key id, organization id, secret), each as written in the key.
fn parts(key: &str) -> (&str, &str, &str) {
    let body = &key[PREFIX.len()..];
    (&body[..22], &body[22..44], &body[44..88])
}

/// A well-formed key (valid checksum) made of the given parts.
fn forge(key_id: &str, org: &str, secret: &str) -> String {
    with_checksum(&format!("{PREFIX}{key_id}{org}{secret}"))
}

/// `method path` with `body`, authenticated by `token`.
async fn send_as(
    app: &TestApp,
    token: &str,
    method: &reqwest::Method,
    path: &str,
    body: Option<&Value>,
) -> crate::support::TestResponse {
    let mut req = app.with_bearer(token).request(method.clone(), path);
    if let Some(body) = body {
        req = req.json(body.clone());
    }
    req.send().await
}

async fn projects_of(app: &TestApp, owner: &Member, name: &str) -> String {
    let resp = app
        .as_user(owner)
        .post("/v1/projects")
        .json(json!({"name": name}))
        .send()
        .await;
    resp.assert_status(201);
    resp.str("/id")
}

#[tokio::test]
async fn a_created_key_is_shown_once_and_then_authenticates_as_the_key() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;

    let created = app
        .as_user(&owner)
        .post("/v1/api-keys")
        .json(json!({"name": "CI deploys", "role": "member"}))
        .send()
        .await;

    created.assert_status(201);
    let key = created.str("/key");
    let id = created.str("/id");
    assert!(key.starts_with(PREFIX) && key.len() == KEY_LEN, "{key}");
    assert_eq!(created.str("/prefix"), key[..HANDLE_LEN]);
    assert_eq!(
        created.body["created_by"],
        json!({"type": "user", "id": owner.user_id})
    );
    assert_eq!(
        created.header("location"),
        Some(format!("/v1/api-keys/{id}").as_str())
    );
    let me = app
        .as_key(&ApiKey {
            id: id.clone(),
            key: key.clone(),
        })
        .get("/v1/me")
        .send()
        .await;
    me.assert_status(200);
    assert_eq!(me.body["type"], "api_key");
    assert_eq!(me.body["id"], id.as_str());
    assert_eq!(me.body["role"], "member");
    assert_eq!(me.body["name"], "CI deploys");
    assert!(me.body.get("key").is_none(), "{}", me.text);
    let person = app.me(&owner).await;
    assert_eq!(person.body["type"], "user");
    assert_eq!(person.body["id"], owner.user_id.as_str());
    // Never again: not in the list, not in the key's own page, not in /v1/me.
    let list = app.as_user(&owner).get("/v1/api-keys").send().await;
    let one = app
        .as_user(&owner)
        .get(&format!("/v1/api-keys/{id}"))
        .send()
        .await;
    list.assert_status(200);
    one.assert_status(200);
    assert_eq!(list.body["items"][0]["id"], id.as_str());
    assert_eq!(list.body["items"][0]["prefix"], &key[..HANDLE_LEN]);
    assert!(list.body["items"][0]["last_used_at"].is_string());
    let (_, _, secret) = parts(&key);
    for text in [&list.text, &one.text, &me.text] {
        assert!(!text.contains(&key) && !text.contains(secret), "{text}");
    }
    assert!(one.body.get("key").is_none());
}

#[tokio::test]
async fn a_key_of_one_organization_is_useless_in_another() {
    let app = TestApp::spawn().await;
    let a_owner = app.signup("org-a").await;
    let b_owner = app.signup("org-b").await;
    let a_key = app.create_key(&a_owner, "admin").await;
    let b_key = app.create_key(&b_owner, "admin").await;
    let b_project = projects_of(&app, &b_owner, "B's secret").await;

    // A's key sees A only: B's project is missing, B's users are not listed.
    app.as_key(&a_key)
        .get(&format!("/v1/projects/{b_project}"))
        .send()
        .await
        .assert_error(404, "NOT_FOUND");
    let users = app.as_key(&a_key).get("/v1/users").send().await;
    users.assert_status(200);
    let emails: Vec<&str> = users.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|u| u["email"].as_str())
        .collect();
    assert_eq!(emails, vec!["owner@org-a.test"]);
    app.as_key(&a_key)
        .delete(&format!("/v1/api-keys/{}", b_key.id))
        .send()
        .await
        .assert_error(403, "PERSON_ONLY");

    // Forged keys with valid checksums: B's key id with A's secret, and A's key with B's
    // organization swapped in. Neither names a key whose hash matches.
    let (a_id, a_org, a_secret) = parts(&a_key.key);
    let (b_id, b_org, _) = parts(&b_key.key);
    let forged = [
        ("B's key id with A's secret", forge(b_id, b_org, a_secret)),
        (
            "A's key with B's organization",
            forge(a_id, b_org, a_secret),
        ),
        (
            "B's key id in A's organization",
            forge(b_id, a_org, a_secret),
        ),
    ];
    for (case, key) in &forged {
        let resp = app.with_bearer(key).get("/v1/users").send().await;
        resp.assert_error(401, "API_KEY_INVALID");
        assert!(!resp.text.contains("org-b.test"), "{case}: {}", resp.text);
    }
    // Both real keys still work.
    app.as_key(&a_key)
        .get("/v1/me")
        .send()
        .await
        .assert_status(200);
    app.as_key(&b_key)
        .get("/v1/me")
        .send()
        .await
        .assert_status(200);
}

#[tokio::test]
async fn a_revoked_key_fails_on_the_very_next_request() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let key = app.create_key(&owner, "admin").await;
    app.as_key(&key)
        .get("/v1/users")
        .send()
        .await
        .assert_status(200);

    app.as_user(&owner)
        .delete(&format!("/v1/api-keys/{}", key.id))
        .send()
        .await
        .assert_status(204);

    app.as_key(&key)
        .get("/v1/users")
        .send()
        .await
        .assert_error(401, "API_KEY_INVALID");
    let list = app.as_user(&owner).get("/v1/api-keys").send().await;
    assert_eq!(list.body["items"], json!([]), "revoked keys leave the list");
    app.as_user(&owner)
        .get(&format!("/v1/api-keys/{}", key.id))
        .send()
        .await
        .assert_error(404, "NOT_FOUND");
    app.as_user(&owner)
        .delete(&format!("/v1/api-keys/{}", key.id))
        .send()
        .await
        .assert_error(404, "NOT_FOUND");
    let revoked_at: Option<chrono::DateTime<chrono::Utc>> = app
        .db
        .superuser()
        .await
        .query_one("select revoked_at from app.api_keys", &[])
        .await
        .expect("the key")
        .get(0);
    assert!(revoked_at.is_some(), "revoked, not deleted");
}

#[tokio::test]
async fn an_expired_key_fails_and_an_expiry_in_the_past_is_refused() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let expiring = app
        .as_user(&owner)
        .post("/v1/api-keys")
        .json(json!({"name": "temp", "role": "member", "expires_at": "2999-01-01T00:00:00Z"}))
        .send()
        .await;
    expiring.assert_status(201);
    assert!(
        expiring
            .str("/expires_at")
            .starts_with("2999-01-01T00:00:00")
    );
    let key = ApiKey {
        id: expiring.str("/id"),
        key: expiring.str("/key"),
    };
    app.as_key(&key)
        .get("/v1/me")
        .send()
        .await
        .assert_status(200);
    // Time passes (in the database: created two hours ago, expired one hour ago).
    let db = app.db.superuser().await;
    for statement in [
        "update app.api_keys set created_at = now() - interval '2 hours'",
        "update app.api_keys set expires_at = now() - interval '1 hour'",
    ] {
        db.execute(statement, &[]).await.expect("time passes");
    }

    app.as_key(&key)
        .get("/v1/me")
        .send()
        .await
        .assert_error(401, "API_KEY_INVALID");
    let past = app
        .as_user(&owner)
        .post("/v1/api-keys")
        .json(json!({"name": "late", "role": "member", "expires_at": "2000-01-01T00:00:00Z"}))
        .send()
        .await;
    past.assert_error(422, "VALIDATION_FAILED");
    assert_eq!(past.detail_fields(), vec!["expires_at"]);
}

#[tokio::test]
async fn a_member_key_gets_403_where_a_member_does() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let member = app.add_user(&owner, "member@acme.test", "member").await;
    let key = app.create_key(&owner, "member").await;
    let project = projects_of(&app, &owner, "Owner's").await;
    let user_body =
        json!({"email": "new@acme.test", "display_name": "New", "password": "a password 1"});
    let cases: Vec<(&str, reqwest::Method, String, Option<Value>)> = vec![
        (
            "add a user",
            reqwest::Method::POST,
            "/v1/users".into(),
            Some(user_body),
        ),
        (
            "remove a user",
            reqwest::Method::DELETE,
            format!("/v1/users/{}", owner.user_id),
            None,
        ),
        (
            "list removed users",
            reqwest::Method::GET,
            "/v1/users?include=deleted".into(),
            None,
        ),
        (
            "edit another's project",
            reqwest::Method::PATCH,
            format!("/v1/projects/{project}"),
            Some(json!({"name": "Mine now"})),
        ),
        (
            "create a project for another",
            reqwest::Method::POST,
            "/v1/projects".into(),
            Some(json!({"name": "Theirs", "owner_id": owner.user_id})),
        ),
        (
            "list API keys",
            reqwest::Method::GET,
            "/v1/api-keys".into(),
            None,
        ),
        (
            "read an API key",
            reqwest::Method::GET,
            format!("/v1/api-keys/{}", key.id),
            None,
        ),
    ];
    for (case, method, path, body) in cases {
        let as_member = send_as(&app, &member.token, &method, &path, body.as_ref()).await;
        let as_key = send_as(&app, &key.key, &method, &path, body.as_ref()).await;
        as_member.assert_error(403, "FORBIDDEN");
        as_key.assert_error(403, "FORBIDDEN");
        assert_eq!(
            without_request_id(&as_key.body),
            without_request_id(&as_member.body),
            "{case}"
        );
    }
    // What a member may do, a member key may too, but a key owns nothing: it names an owner.
    app.as_key(&key)
        .get("/v1/users")
        .send()
        .await
        .assert_status(200);
    app.as_key(&key)
        .get(&format!("/v1/projects/{project}"))
        .send()
        .await
        .assert_status(200);
    let unowned = app
        .as_key(&key)
        .post("/v1/projects")
        .json(json!({"name": "Nobody's"}))
        .send()
        .await;
    unowned.assert_error(422, "VALIDATION_FAILED");
    assert_eq!(unowned.detail_fields(), vec!["owner_id"]);
}

#[tokio::test]
async fn person_only_operations_refuse_keys_with_403_person_only_after_checking_them() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let key = app.create_key(&owner, "admin").await;
    let other = app.create_key(&owner, "member").await;
    let sessions = app.as_user(&owner).get("/v1/me/sessions").send().await;
    let session = sessions.str("/items/0/id");
    let operations: Vec<(reqwest::Method, String, Option<Value>)> = vec![
        (reqwest::Method::GET, "/v1/me/sessions".into(), None),
        (
            reqwest::Method::DELETE,
            format!("/v1/me/sessions/{session}"),
            None,
        ),
        (reqwest::Method::POST, "/v1/auth/logout".into(), None),
        (reqwest::Method::POST, "/v1/auth/logout-all".into(), None),
        (
            reqwest::Method::POST,
            "/v1/api-keys".into(),
            Some(json!({"name": "more", "role": "member"})),
        ),
        (
            reqwest::Method::DELETE,
            format!("/v1/api-keys/{}", other.id),
            None,
        ),
    ];
    let revoked = app.create_key(&owner, "admin").await;
    app.as_user(&owner)
        .delete(&format!("/v1/api-keys/{}", revoked.id))
        .send()
        .await
        .assert_status(204);
    for (method, path, body) in &operations {
        send_as(&app, &key.key, method, path, body.as_ref())
            .await
            .assert_error(403, "PERSON_ONLY");
        // A dead key is refused as dead first.
        send_as(&app, &revoked.key, method, path, body.as_ref())
            .await
            .assert_error(401, "API_KEY_INVALID");
    }
    // Nothing happened: the other key works, the owner's session is live.
    app.as_key(&other)
        .get("/v1/me")
        .send()
        .await
        .assert_status(200);
    app.me(&owner).await.assert_status(200);
    let keys = app.as_user(&owner).get("/v1/api-keys").send().await;
    assert_eq!(keys.body["items"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn admins_mint_member_keys_and_only_owners_mint_admin_keys() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let admin = app.add_user(&owner, "admin@acme.test", "admin").await;
    let member = app.add_user(&owner, "member@acme.test", "member").await;
    let post = reqwest::Method::POST;
    let cases = [
        (&owner, "admin", 201, None),
        (&owner, "member", 201, None),
        (&admin, "member", 201, None),
        (&admin, "admin", 403, Some("FORBIDDEN")),
        (&member, "member", 403, Some("FORBIDDEN")),
        (&owner, "owner", 422, Some("VALIDATION_FAILED")),
    ];

    for (who, role, status, code) in cases {
        let body = json!({"name": "k", "role": role});
        let resp = send_as(&app, &who.token, &post, "/v1/api-keys", Some(&body)).await;
        match code {
            Some(code) => resp.assert_error(status, code),
            None => resp.assert_status(status),
        };
    }

    let db = app.db.superuser().await;
    let kinds: Vec<(String, String)> = db
        .query(
            "select role, created_by_type from app.api_keys order by role",
            &[],
        )
        .await
        .expect("keys")
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    assert_eq!(kinds.len(), 3, "only the allowed keys exist: {kinds:?}");
    assert!(kinds.iter().all(|(_, by)| by == "user"), "{kinds:?}");
}

#[tokio::test]
async fn an_admin_key_does_what_an_admin_does_and_is_recorded_as_the_actor() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let key = app.create_key(&owner, "admin").await;

    let user = app
        .as_key(&key)
        .post("/v1/users")
        .json(json!({"email": "bot-made@acme.test", "display_name": "Made", "password": "a password 1"}))
        .send()
        .await;
    user.assert_status(201);
    let project = app
        .as_key(&key)
        .post("/v1/projects")
        .json(json!({"name": "Automated", "owner_id": owner.user_id}))
        .send()
        .await;
    project.assert_status(201);
    let actor = json!({"type": "api_key", "id": key.id});
    assert_eq!(project.body["created_by"], actor);
    assert_eq!(project.body["updated_by"], actor);
    let edited = app
        .as_user(&owner)
        .patch(&format!("/v1/projects/{}", project.str("/id")))
        .json(json!({"description": "by hand"}))
        .send()
        .await;
    edited.assert_status(200);
    assert_eq!(edited.body["created_by"], actor);
    assert_eq!(
        edited.body["updated_by"],
        json!({"type": "user", "id": owner.user_id})
    );
    let db = app.db.superuser().await;
    let row = db
        .query_one(
            "select created_by::text, created_by_type from app.users where email = 'bot-made@acme.test'",
            &[],
        )
        .await
        .expect("user");
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, String>(1)),
        (key.id.clone(), "api_key".to_owned())
    );
    // An admin key cannot touch owners, like an admin.
    app.as_key(&key)
        .delete(&format!("/v1/users/{}", owner.user_id))
        .send()
        .await
        .assert_error(403, "FORBIDDEN");
}

#[tokio::test]
async fn a_role_change_takes_effect_on_the_next_request() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let key = app.create_key(&owner, "member").await;
    let add = |email: &'static str| {
        app.as_key(&key)
            .post("/v1/users")
            .json(json!({"email": email, "display_name": "X", "password": "a password 1"}))
            .send()
    };
    add("one@acme.test").await.assert_error(403, "FORBIDDEN");

    app.db
        .superuser()
        .await
        .execute("update app.api_keys set role = 'admin'", &[])
        .await
        .expect("promote the key");

    add("two@acme.test").await.assert_status(201);
}

#[tokio::test]
async fn a_key_use_is_written_at_most_once_a_minute() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let key = app.create_key(&owner, "member").await;
    let db = app.db.superuser().await;
    // The row version (xmin) changes only when the row is written.
    let version = || async {
        let row = db
            .query_one(
                "select xmin::text, last_used_at is not null, updated_at = created_at from app.api_keys",
                &[],
            )
            .await
            .expect("key");
        (
            row.get::<_, String>(0),
            row.get::<_, bool>(1),
            row.get::<_, bool>(2),
        )
    };
    let (created, used, _) = version().await;
    assert!(!used, "never used yet");

    app.as_key(&key)
        .get("/v1/me")
        .send()
        .await
        .assert_status(200);
    let (first, used, unchanged) = version().await;
    for _ in 0..5 {
        app.as_key(&key)
            .get("/v1/me")
            .send()
            .await
            .assert_status(200);
    }
    let (after, _, _) = version().await;

    assert!(used && first != created, "the first use is recorded");
    assert!(unchanged, "recording a use is not a change of the key");
    assert_eq!(after, first, "no write for uses within the minute");
    // A minute later, the next use is recorded again.
    db.execute(
        "update app.api_keys set last_used_at = now() - interval '61 seconds'",
        &[],
    )
    .await
    .expect("a minute passes");
    let (stale, _, _) = version().await;
    app.as_key(&key)
        .get("/v1/me")
        .send()
        .await
        .assert_status(200);
    assert_ne!(version().await.0, stale);
}

#[tokio::test]
async fn requests_with_a_key_are_limited_per_key() {
    let db = TestDb::new().await;
    let mut settings = settings_for(&db);
    settings.api_key_requests_per_minute = 2;
    let app = TestApp::spawn_with(db, settings).await;
    let owner = app.signup("acme").await;
    let key = app.create_key(&owner, "member").await;
    let other = app.create_key(&owner, "member").await;
    let (id, org, _) = parts(&key.key);
    let guess = forge(id, org, &"0".repeat(44));

    for _ in 0..2 {
        app.as_key(&key)
            .get("/v1/me")
            .send()
            .await
            .assert_status(200);
    }
    let limited = app.as_key(&key).get("/v1/me").send().await;

    limited.assert_error(429, "RATE_LIMITED");
    assert!(limited.header("retry-after").is_some());
    app.as_key(&other)
        .get("/v1/me")
        .send()
        .await
        .assert_status(200);
    // Someone who knows the key's id but not its secret spends only their own budget.
    app.with_bearer(&guess)
        .get("/v1/me")
        .send()
        .await
        .assert_error(401, "API_KEY_INVALID");
}

/// The statements a request sent to PostgreSQL, with the lengths of their parameters.
type Traffic = Vec<(String, Vec<Option<usize>>)>;

#[tokio::test]
async fn tampered_truncated_or_wrong_checksum_keys_get_401_after_the_same_work_as_a_wrong_secret() {
    let db = TestDb::new().await;
    let mut settings = settings_for(&db);
    let real_port = db.config.get_ports().first().copied().unwrap_or(5432);
    let upstream = format!("127.0.0.1:{real_port}").parse().expect("addr");
    let (proxy, tapped) = tapping_proxy(upstream).await;
    let mut via_proxy = tokio_postgres::Config::new();
    via_proxy
        .host("127.0.0.1")
        .port(proxy.port())
        .user(db.config.get_user().unwrap_or("postgres"))
        .dbname(&db.name);
    if let Some(password) = db.config.get_password() {
        via_proxy.password(password);
    }
    settings.database_url = via_proxy;
    settings.db_pool_size = 1; // one connection: the same prepared statements every time
    let app = TestApp::spawn_with(db, settings).await;
    let owner = app.signup("acme").await;
    let key = app.create_key(&owner, "member").await;
    app.as_key(&key)
        .get("/v1/users")
        .send()
        .await
        .assert_status(200);
    let (id, org, secret) = parts(&key.key);
    let mut other_secret = secret.as_bytes().to_vec();
    other_secret[0] = if other_secret[0] == b'A' { b'B' } else { b'A' };
    let wrong_secret = forge(id, org, std::str::from_utf8(&other_secret).expect("ascii"));
    let tampered = format!(
        "{}{}",
        &wrong_secret[..KEY_LEN - 6],
        &key.key[KEY_LEN - 6..]
    );
    let cases = [
        ("tampered (the checksum no longer matches)", tampered),
        ("truncated", key.key[..KEY_LEN - 1].to_owned()),
        (
            "wrong checksum",
            format!("{}000000", &key.key[..KEY_LEN - 6]),
        ),
        ("the prefix alone", PREFIX.to_owned()),
        ("too long", format!("{}0", key.key)),
    ];
    let run = |token: String| {
        let app = &app;
        let tapped = tapped.clone();
        async move {
            let before = tapped.lock().expect("tap").bound.len();
            let resp = app.with_bearer(&token).get("/v1/users").send().await;
            let traffic: Traffic = tapped.lock().expect("tap").bound[before..].to_vec();
            (resp, traffic)
        }
    };

    let (reference, reference_traffic) = run(wrong_secret).await;

    reference.assert_error(401, "API_KEY_INVALID");
    assert!(
        reference_traffic
            .iter()
            .any(|(statement, _)| statement.contains("app.enter_key")),
        "a wrong secret is checked by the database: {reference_traffic:?}"
    );
    for (case, token) in cases {
        let (resp, traffic) = run(token).await;
        resp.assert_error(401, "API_KEY_INVALID");
        assert_eq!(
            without_request_id(&resp.body),
            without_request_id(&reference.body),
            "{case}: the same answer"
        );
        assert_eq!(
            traffic, reference_traffic,
            "{case}: the same statements with parameters of the same sizes"
        );
    }
}
