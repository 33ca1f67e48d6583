//! The cross-tenant matrix, generated from the served OpenAPI document: for every operation
//! whose path takes an id, organization B's owner's token and B's admin API key, on
//! organization A's object, must answer exactly like a random id (status and body, except
//! `request_id`), and change nothing in the database (every table of the application schema,
//! read as the superuser, before and after).
//! A new operation is covered as soon as it is in the spec; a new kind of object needs a
//! fixture in `fixture_for`, and the test says so.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::support::{Member, TestApp, without_request_id};

/// An object of organization A that the path template `template` addresses.
async fn fixture_for(app: &TestApp, a_owner: &Member, template: &str) -> Option<String> {
    if template.starts_with("/v1/users/{id}") {
        let user = app.add_user(a_owner, "target@a.test", "member").await;
        return Some(user.user_id);
    }
    if template.starts_with("/v1/projects/{id}") {
        let project = app
            .as_user(a_owner)
            .post("/v1/projects")
            .json(json!({"name": "A's secret project"}))
            .send()
            .await;
        project.assert_status(201);
        return Some(project.str("/id"));
    }
    if template.starts_with("/v1/api-keys/{id}") {
        let key = app
            .as_user(a_owner)
            .post("/v1/api-keys")
            .json(json!({"name": "A's deploy key", "role": "admin"}))
            .send()
            .await;
        key.assert_status(201);
        return Some(key.str("/id"));
    }
    if template.starts_with("/v1/invitations/{id}") {
        let invitation = app
            .as_user(a_owner)
            .post("/v1/invitations")
            .json(json!({"email": "invited@a.test", "role": "admin"}))
            .send()
            .await;
        invitation.assert_status(201);
        return Some(invitation.str("/id"));
    }
    if template.starts_with("/v1/webhooks/{id}") {
        let endpoint = app
            .as_user(a_owner)
            .post("/v1/webhooks")
            .json(json!({"url": "https://hooks.a.example/in", "event_types": ["*"]}))
            .send()
            .await;
        endpoint.assert_status(201);
        let id = endpoint.str("/id");
        // One delivery of one of A's events, as the relay would create it (no relay runs).
        app.as_user(a_owner)
            .post("/v1/projects")
            .json(json!({"name": "A's webhook project"}))
            .send()
            .await
            .assert_status(201);
        app.db
            .superuser()
            .await
            .execute(
                "insert into app.webhook_deliveries (org_id, id, endpoint_id, event_id, event_seq, event_type)
                 select e.org_id, app.delivery_id($1::text::uuid, e.id), $1::text::uuid, e.id, e.seq, e.type
                 from app.events e where e.org_id = $2::text::uuid order by e.seq desc limit 1",
                &[&id, &a_owner.org_id],
            )
            .await
            .expect("a delivery of A");
        return Some(id);
    }
    if template.starts_with("/v1/me/sessions/{id}") {
        let sessions = app.as_user(a_owner).get("/v1/me/sessions").send().await;
        return Some(sessions.str("/items/0/id"));
    }
    None
}

/// A minimal body that satisfies `schema` (required properties only), so that validation
/// passes and the request reaches the database.
fn sample(schema: &Value, spec: &Value) -> Value {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.trim_start_matches("#/components/schemas/");
        return sample(&spec["components"]["schemas"][name], spec);
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        return all.first().map_or(json!({}), |s| sample(s, spec));
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return values.first().cloned().unwrap_or(Value::Null);
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("object") | None => {
            let mut object = Map::new();
            let required: Vec<&str> = schema["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (name, property) in properties {
                    if required.contains(&name.as_str()) {
                        object.insert(name.clone(), sample(property, spec));
                    }
                }
            }
            Value::Object(object)
        }
        Some("string") => match schema.get("format").and_then(Value::as_str) {
            Some("uuid") => json!(uuid::Uuid::now_v7().to_string()),
            Some("email") => json!("sample@example.test"),
            Some("date-time") => json!("2026-01-01T00:00:00Z"),
            _ => {
                let min = schema["minLength"].as_u64().unwrap_or(1).max(8) as usize;
                json!("s".repeat(min))
            }
        },
        Some("integer") | Some("number") => json!(schema["minimum"].as_i64().unwrap_or(1)),
        Some("boolean") => json!(false),
        Some("array") => json!([]),
        Some(_) => Value::Null,
    }
}

/// Every row of every table of the application schema, as the superuser sees them (RLS does
/// not apply to it), table by table.
async fn database_state(client: &tokio_postgres::Client) -> Vec<(String, Value)> {
    let tables = client
        .query(
            "select c.oid::regclass::text from pg_class c
             where c.relnamespace = 'app'::regnamespace and c.relkind in ('r', 'p')
             order by 1",
            &[],
        )
        .await
        .expect("the tables");
    let mut state = Vec::new();
    for table in tables {
        let table: String = table.get(0);
        let rows: Value = client
            .query_one(
                &format!(
                    "select coalesce(jsonb_agg(to_jsonb(t) order by to_jsonb(t)::text), '[]')
                     from {table} t"
                ),
                &[],
            )
            .await
            .expect("the rows")
            .get(0);
        state.push((table, rows));
    }
    state
}

/// The operations of the spec that take an id in their path.
fn id_operations(spec: &Value) -> BTreeSet<String> {
    let mut operations = BTreeSet::new();
    for (template, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            let takes_id = operation["parameters"]
                .as_array()
                .is_some_and(|params| params.iter().any(|p| p["in"] == "path"));
            if takes_id {
                operations.insert(format!("{} {template}", method.to_uppercase()));
            }
        }
    }
    operations
}

#[tokio::test]
async fn another_orgs_objects_answer_like_random_ids_in_every_operation() {
    let app = TestApp::spawn().await;
    let a_owner = app.signup("org-a").await;
    let b_owner = app.signup("org-b").await;
    let b_key = app.create_key(&b_owner, "admin").await;
    // Its first use is recorded (last_used_at, at most once a minute): before the matrix,
    // which checks that no table changes.
    app.as_key(&b_key)
        .get("/v1/me")
        .send()
        .await
        .assert_status(200);
    let spec = app.get("/openapi.json").send().await.body;
    let paths = spec["paths"].as_object().expect("paths").clone();
    let superuser = app.db.superuser().await;

    let mut covered = BTreeSet::new();
    let mut fixtures = std::collections::HashMap::new();
    for (template, item) in &paths {
        if !template.contains('{') {
            continue;
        }
        for (method, operation) in item.as_object().expect("path item") {
            // One object per resource (the template up to `{id}`), shared by its operations.
            let resource = template[..template.find("{id}").expect("an id") + 4].to_owned();
            if !fixtures.contains_key(&resource) {
                let id = fixture_for(&app, &a_owner, &resource)
                    .await
                    .unwrap_or_else(|| panic!("add a fixture for {resource} in cross_tenant.rs"));
                fixtures.insert(resource.clone(), id);
            }
            let target = fixtures[&resource].clone();
            // A second id in the path (a webhook's delivery) is A's too.
            let delivery: String = if template.contains("{delivery_id}") {
                superuser
                    .query_one(
                        "select id::text from app.webhook_deliveries where endpoint_id = $1::text::uuid",
                        &[&target],
                    )
                    .await
                    .expect("A's delivery")
                    .get(0)
            } else {
                String::new()
            };
            for (who, token) in [("owner", &b_owner.token), ("admin key", &b_key.key)] {
                let before = database_state(&superuser).await;
                let body = operation["requestBody"]["content"]["application/json"]["schema"]
                    .as_object()
                    .map(|schema| sample(&Value::Object(schema.clone()), &spec));
                let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes())
                    .expect("an HTTP method");
                let send = |id: String| {
                    let mut req = app.with_bearer(token).request(
                        method.clone(),
                        &template
                            .replace("{id}", &id)
                            .replace("{delivery_id}", &delivery),
                    );
                    if let Some(body) = &body {
                        req = req.json(body.clone());
                    }
                    req.send()
                };

                let theirs = send(target.clone()).await;
                let random = send(uuid::Uuid::now_v7().to_string()).await;

                let label = format!("{method} {template} ({who} of B)");
                assert_eq!(theirs.status, random.status, "{label}: {}", theirs.text);
                assert_eq!(
                    without_request_id(&theirs.body),
                    without_request_id(&random.body),
                    "{label}: another organization's object must look missing"
                );
                assert!(
                    theirs.status >= 400,
                    "{label} succeeded across organizations"
                );
                let after = database_state(&superuser).await;
                for ((table, rows_before), (_, rows_after)) in before.iter().zip(&after) {
                    assert_eq!(rows_after, rows_before, "{label} changed {table}");
                }
                assert_eq!(after.len(), before.len(), "{label} changed the tables");
            }
            covered.insert(format!("{} {template}", method.to_uppercase()));
        }
    }
    let expected = id_operations(&spec);
    assert_eq!(
        covered, expected,
        "the matrix must cover every operation of the spec that takes an id"
    );
    println!("{} operations that take an id covered", covered.len());
}

/// `GET /v1/events` has no id in its path: its filters are the way to name another
/// organization's objects. Organization B's owner and admin key, filtering on A's project, A's
/// owner, or nothing at all, list only B's own events; A's cursor is refused.
#[tokio::test]
async fn another_orgs_events_are_never_listed() {
    let app = TestApp::spawn().await;
    let a_owner = app.signup("org-a").await;
    let b_owner = app.signup("org-b").await;
    let b_key = app.create_key(&b_owner, "admin").await;
    let project = app
        .as_user(&a_owner)
        .post("/v1/projects")
        .json(json!({"name": "A's secret project"}))
        .send()
        .await;
    project.assert_status(201);
    let a_project = project.str("/id");
    app.as_user(&a_owner)
        .delete(&format!("/v1/projects/{a_project}"))
        .send()
        .await
        .assert_status(204);
    let a_page = app.as_user(&a_owner).get("/v1/events?limit=1").send().await;
    a_page.assert_status(200);
    let a_cursor = a_page.str("/next_cursor");
    let b_events = app.as_user(&b_owner).get("/v1/events").send().await;
    b_events.assert_status(200);
    let b_ids: BTreeSet<String> = b_events.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_owned())
        .collect();
    assert!(!b_ids.is_empty(), "premise: B has events of its own");

    for (who, token) in [("owner", &b_owner.token), ("admin key", &b_key.key)] {
        for query in [
            String::new(),
            format!("?subject_id={a_project}"),
            format!("?actor_id={}", a_owner.user_id),
            "?type=project.created&type=project.deleted".to_owned(),
        ] {
            let resp = app
                .with_bearer(token)
                .get(&format!("/v1/events{query}"))
                .send()
                .await;
            resp.assert_status(200);
            for event in resp.body["items"].as_array().expect("items") {
                assert!(
                    b_ids.contains(event["id"].as_str().expect("id")),
                    "B's {who} listed {event} with {query:?}"
                );
            }
        }
        app.with_bearer(token)
            .get(&format!("/v1/events?cursor={a_cursor}&limit=1"))
            .send()
            .await
            .assert_error(400, "INVALID_CURSOR");
    }
}
