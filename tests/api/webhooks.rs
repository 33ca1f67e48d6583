//! Webhooks: endpoints through the API, deliveries by the relay to a real HTTP receiver in
//! this process, signatures checked by an independent implementation (Python's hmac), retries,
//! dead deliveries and disabled endpoints, the relay process killed mid-batch, two relays at
//! once, and the addresses the relay refuses to reach.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use poem::listener::TcpAcceptor;
use poem::{Request, Response, Route, Server};
use serde_json::{Value, json};
use tenantry::webhooks::outbound::{Failure, Outbound, OutboundSettings};

use crate::support::{Member, TestApp, TestDb, settings_for};

/// What the receiver answers.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Behaviour {
    Ok,
    Status(u16),
    /// Waits this long, then answers 200 (longer than the relay's timeout: a failure).
    Slow(Duration),
    /// Answers 307 to `/elsewhere`.
    Redirect,
}

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    id: String,
    timestamp: String,
    signature: String,
    body: Vec<u8>,
}

/// A local HTTP server that records what it receives and answers as told.
struct Receiver {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    behaviour: Arc<Mutex<Behaviour>>,
}

impl Receiver {
    async fn start() -> Self {
        let received = Arc::new(Mutex::new(Vec::new()));
        let behaviour = Arc::new(Mutex::new(Behaviour::Ok));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let acceptor = TcpAcceptor::from_tokio(listener).expect("acceptor");
        let (log, mode) = (received.clone(), behaviour.clone());
        let app = Route::new().at(
            "/*path",
            poem::endpoint::make(move |req: Request| {
                let (log, mode) = (log.clone(), mode.clone());
                async move {
                    let header = |name: &str| req.header(name).unwrap_or_default().to_owned();
                    let (path, id, timestamp, signature) = (
                        req.uri().path().to_owned(),
                        header("webhook-id"),
                        header("webhook-timestamp"),
                        header("webhook-signature"),
                    );
                    let body = req.into_body().into_vec().await.unwrap_or_default();
                    log.lock().expect("log").push(Received {
                        path,
                        id,
                        timestamp,
                        signature,
                        body,
                    });
                    let behaviour = *mode.lock().expect("mode");
                    match behaviour {
                        Behaviour::Ok => Response::builder()
                            .status(200.try_into().expect("200"))
                            .body("ok"),
                        Behaviour::Status(code) => Response::builder()
                            .status(poem::http::StatusCode::from_u16(code).expect("status"))
                            .body("receiver says no\u{0}\u{1b}[31m"),
                        Behaviour::Slow(wait) => {
                            tokio::time::sleep(wait).await;
                            Response::builder().body("late")
                        }
                        Behaviour::Redirect => Response::builder()
                            .status(poem::http::StatusCode::TEMPORARY_REDIRECT)
                            .header("location", "/elsewhere")
                            .body(""),
                    }
                }
            }),
        );
        tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
        Self {
            addr,
            received,
            behaviour,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    fn set(&self, behaviour: Behaviour) {
        *self.behaviour.lock().expect("mode") = behaviour;
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().expect("log").clone()
    }

    /// Waits until `done` holds for what was received, or panics after `limit`.
    async fn wait_for(&self, limit: Duration, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = Instant::now() + limit;
        loop {
            let received = self.received();
            if done(&received) {
                return received;
            }
            assert!(
                Instant::now() < deadline,
                "the receiver did not get what was expected in {limit:?}: {} requests",
                received.len()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// A service with the relay running, allowed to reach the local receiver, with fast retries.
async fn spawn_with_relay(tune: impl FnOnce(&mut tenantry::config::Settings)) -> TestApp {
    let db = TestDb::new().await;
    let mut settings = settings_for(&db);
    settings.webhook_relay = true;
    settings.webhook_allow_private = true;
    settings.webhook_poll_ms = 100;
    settings.webhook_retry_base_ms = 20;
    settings.webhook_timeout_ms = 1000;
    tune(&mut settings);
    TestApp::spawn_with(db, settings).await
}

async fn create_endpoint(app: &TestApp, who: &Member, url: &str, types: Value) -> Value {
    let resp = app
        .as_user(who)
        .post("/v1/webhooks")
        .json(json!({"url": url, "event_types": types, "description": "test receiver"}))
        .send()
        .await;
    resp.assert_status(201);
    resp.body.clone()
}

async fn create_project(app: &TestApp, who: &Member, name: &str) -> String {
    let resp = app
        .as_user(who)
        .post("/v1/projects")
        .json(json!({"name": name}))
        .send()
        .await;
    resp.assert_status(201);
    resp.str("/id")
}

/// Verifies a Standard Webhooks signature with Python's standard library: an implementation
/// that shares no code with the service. "valid" when any `v1,` entry matches.
fn python_verifies(secret: &str, received: &Received) -> bool {
    const VERIFY: &str = r#"
import base64, hashlib, hmac, sys
secret, msg_id, ts, header = sys.argv[1:5]
body = sys.stdin.buffer.read()
key = base64.b64decode(secret[len("whsec_"):] if secret.startswith("whsec_") else secret)
expected = base64.b64encode(hmac.new(key, msg_id.encode() + b"." + ts.encode() + b"." + body, hashlib.sha256).digest()).decode()
ok = any(hmac.compare_digest(part.split(",", 1)[1], expected)
         for part in header.split(" ") if part.startswith("v1,"))
print("valid" if ok else "invalid")
"#;
    let mut child = Command::new("python3")
        .args([
            "-c",
            VERIFY,
            secret,
            &received.id,
            &received.timestamp,
            &received.signature,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(&received.body)
            .expect("body written");
    }
    let output = child.wait_with_output().expect("python3 ends");
    let verdict = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    assert!(
        verdict == "valid" || verdict == "invalid",
        "python3 said {verdict:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    verdict == "valid"
}

async fn deliveries(app: &TestApp, who: &Member, endpoint: &str) -> Vec<Value> {
    let resp = app
        .as_user(who)
        .get(&format!("/v1/webhooks/{endpoint}/deliveries?limit=100"))
        .send()
        .await;
    resp.assert_status(200);
    resp.body["items"].as_array().expect("items").clone()
}

/// The endpoint's deliveries once `done` holds for them, or as they are after `within`: the
/// relay records an attempt just after the receiver has answered it, so a test that saw a
/// request arrive polls until the record is there, then asserts on it.
async fn deliveries_when(
    app: &TestApp,
    who: &Member,
    endpoint: &str,
    within: Duration,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + within;
    loop {
        let listed = deliveries(app, who, endpoint).await;
        if done(&listed) || Instant::now() > deadline {
            return listed;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_endpoint_lives_through_create_read_update_rotate_and_delete_and_its_secret_is_shown_once()
 {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;

    let created = create_endpoint(
        &app,
        &owner,
        "https://hooks.example.com/in",
        json!(["project.*"]),
    )
    .await;
    let id = created["id"].as_str().expect("id").to_owned();
    let secret = created["secret"].as_str().expect("secret");
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(created["enabled"], true);
    assert_eq!(created["event_types"], json!(["project.*"]));

    // Never again: not in a read, not in a list.
    let read = app
        .as_user(&owner)
        .get(&format!("/v1/webhooks/{id}"))
        .send()
        .await;
    read.assert_status(200);
    assert!(read.body.get("secret").is_none());
    assert!(
        !read.text.contains(&secret[6..]),
        "the secret leaked in a read"
    );
    let etag = read.header("etag").expect("an ETag").to_owned();
    let list = app.as_user(&owner).get("/v1/webhooks").send().await;
    list.assert_status(200);
    assert_eq!(list.body["items"].as_array().expect("items").len(), 1);
    assert!(!list.text.contains(&secret[6..]));

    // Updates honour If-Match.
    let updated = app
        .as_user(&owner)
        .patch(&format!("/v1/webhooks/{id}"))
        .header("if-match", &etag)
        .json(json!({"enabled": false, "description": "paused"}))
        .send()
        .await;
    updated.assert_status(200);
    assert_eq!(updated.body["enabled"], false);
    assert_eq!(updated.body["disabled_reason"], "manual");
    app.as_user(&owner)
        .patch(&format!("/v1/webhooks/{id}"))
        .header("if-match", &etag)
        .json(json!({"enabled": true}))
        .send()
        .await
        .assert_error(412, "PRECONDITION_FAILED");

    // A rotation shows the new secret once and keeps the old one signing for the overlap.
    let rotated = app
        .as_user(&owner)
        .post(&format!("/v1/webhooks/{id}/rotate-secret"))
        .json(json!({"overlap_seconds": 3600}))
        .send()
        .await;
    rotated.assert_status(200);
    let new_secret = rotated.str("/secret");
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);
    assert!(rotated.body["previous_secret_expires_at"].is_string());
    app.as_user(&owner)
        .post(&format!("/v1/webhooks/{id}/rotate-secret"))
        .json(json!({"overlap_seconds": 999_999_999}))
        .send()
        .await
        .assert_error(422, "VALIDATION_FAILED");

    app.as_user(&owner)
        .delete(&format!("/v1/webhooks/{id}"))
        .send()
        .await
        .assert_status(204);
    // Each change recorded its event, with the endpoint as data and never a secret.
    let events = app
        .as_user(&owner)
        .get(&format!("/v1/events?subject_id={id}"))
        .send()
        .await;
    events.assert_status(200);
    let types: Vec<&str> = events.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["type"].as_str().expect("type"))
        .collect();
    assert_eq!(
        types,
        vec![
            "webhook_endpoint.created",
            "webhook_endpoint.updated",
            "webhook_endpoint.secret_rotated",
            "webhook_endpoint.deleted"
        ]
    );
    assert!(!events.text.contains(&secret[6..]) && !events.text.contains(&new_secret[6..]));
    assert!(!events.text.contains("\"secret\""), "{}", events.text);
    app.as_user(&owner)
        .get(&format!("/v1/webhooks/{id}"))
        .send()
        .await
        .assert_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn members_cannot_manage_webhooks_and_bad_urls_and_event_types_are_refused() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let member = app.add_user(&owner, "m@acme.test", "member").await;
    app.as_user(&member)
        .post("/v1/webhooks")
        .json(json!({"url": "https://hooks.example.com/", "event_types": ["*"]}))
        .send()
        .await
        .assert_error(403, "FORBIDDEN");
    app.as_user(&member)
        .get("/v1/webhooks")
        .send()
        .await
        .assert_error(403, "FORBIDDEN");

    for (url, types) in [
        ("ftp://hooks.example.com/", json!(["*"])),
        ("https://user:pw@hooks.example.com/", json!(["*"])),
        ("not a url", json!(["*"])),
        // Addresses written in the URL are checked at once (names at every attempt).
        ("http://127.0.0.1:9/", json!(["*"])),
        ("http://169.254.169.254/latest/meta-data/", json!(["*"])),
        ("http://10.0.0.7/", json!(["*"])),
        ("http://[::1]/", json!(["*"])),
        ("http://[::ffff:192.168.0.1]/", json!(["*"])),
        ("https://hooks.example.com/", json!([])),
        ("https://hooks.example.com/", json!(["Project.Created"])),
        ("https://hooks.example.com/", json!(["*.created"])),
    ] {
        let resp = app
            .as_user(&owner)
            .post("/v1/webhooks")
            .json(json!({"url": url, "event_types": types}))
            .send()
            .await;
        resp.assert_error(422, "VALIDATION_FAILED");
    }
    let list = app.as_user(&owner).get("/v1/webhooks").send().await;
    assert_eq!(list.body["items"], json!([]), "nothing was created");
}

#[tokio::test]
async fn events_are_delivered_signed_and_python_verifies_the_signature() {
    let receiver = Receiver::start().await;
    let app = spawn_with_relay(|_| {}).await;
    let owner = app.signup("acme").await;
    let endpoint = create_endpoint(
        &app,
        &owner,
        &receiver.url("/hook"),
        json!(["project.created"]),
    )
    .await;
    let secret = endpoint["secret"].as_str().expect("secret").to_owned();
    let endpoint_id = endpoint["id"].as_str().expect("id").to_owned();

    let project = create_project(&app, &owner, "Apollo").await;
    let got = receiver
        .wait_for(Duration::from_secs(10), |r| !r.is_empty())
        .await;
    let first = &got[0];
    let body: Value = serde_json::from_slice(&first.body).expect("a JSON body");
    assert_eq!(body["type"], "project.created");
    assert_eq!(body["data"]["id"], project);
    assert_eq!(body["id"], first.id, "the webhook-id is the event's id");
    assert!(first.signature.starts_with("v1,"));
    assert!(
        python_verifies(&secret, first),
        "Python verifies the signature"
    );

    // Altered in any part, it does not verify.
    let mut tampered = first.clone();
    tampered.body.push(b' ');
    assert!(!python_verifies(&secret, &tampered));
    let mut other_time = first.clone();
    other_time.timestamp = "1".into();
    assert!(!python_verifies(&secret, &other_time));
    let wrong = format!("whsec_{}", "A".repeat(43) + "=");
    assert!(!python_verifies(&wrong, first));

    // The delivery shows what the attempt got (recorded once the answer came).
    let deadline = Instant::now() + Duration::from_secs(10);
    let delivery = loop {
        let listed = deliveries(&app, &owner, &endpoint_id).await;
        let delivery = listed
            .into_iter()
            .find(|d| d["event_id"] == first.id.as_str())
            .expect("the delivery");
        if delivery["status"] != "pending" || Instant::now() > deadline {
            break delivery;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    assert_eq!(delivery["status"], "succeeded");
    assert_eq!(delivery["response_status"], 200);
    assert_eq!(delivery["attempts"], 1);
    assert!(delivery["latency_ms"].is_number());

    // A type the endpoint did not ask for is not sent.
    let other = app
        .as_user(&owner)
        .patch(&format!("/v1/projects/{project}"))
        .json(json!({"description": "updated"}))
        .send()
        .await;
    other.assert_status(200);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        receiver.received().len(),
        1,
        "project.updated is not subscribed"
    );

    // During a rotation's overlap each delivery carries both signatures.
    let rotated = app
        .as_user(&owner)
        .post(&format!("/v1/webhooks/{endpoint_id}/rotate-secret"))
        .json(json!({"overlap_seconds": 600}))
        .send()
        .await;
    rotated.assert_status(200);
    let new_secret = rotated.str("/secret");
    create_project(&app, &owner, "Gemini").await;
    let got = receiver
        .wait_for(Duration::from_secs(10), |r| r.len() >= 2)
        .await;
    let second = &got[1];
    assert_eq!(
        second.signature.split(' ').count(),
        2,
        "{}",
        second.signature
    );
    assert!(
        python_verifies(&secret, second),
        "the old secret still verifies"
    );
    assert!(
        python_verifies(&new_secret, second),
        "the new secret verifies"
    );

    // Without overlap, only the new secret signs.
    let rotated = app
        .as_user(&owner)
        .post(&format!("/v1/webhooks/{endpoint_id}/rotate-secret"))
        .json(json!({"overlap_seconds": 0}))
        .send()
        .await;
    let newest = rotated.str("/secret");
    create_project(&app, &owner, "Mercury").await;
    let got = receiver
        .wait_for(Duration::from_secs(10), |r| r.len() >= 3)
        .await;
    assert_eq!(got[2].signature.split(' ').count(), 1);
    assert!(python_verifies(&newest, &got[2]));
    assert!(!python_verifies(&new_secret, &got[2]));
}

#[tokio::test]
async fn a_failing_receiver_gets_retries_with_the_same_webhook_id_then_recovers() {
    let receiver = Receiver::start().await;
    let app = spawn_with_relay(|s| s.webhook_timeout_ms = 300).await;
    let owner = app.signup("acme").await;
    let endpoint =
        create_endpoint(&app, &owner, &receiver.url("/hook"), json!(["project.*"])).await;
    let endpoint_id = endpoint["id"].as_str().expect("id").to_owned();

    receiver.set(Behaviour::Status(500));
    create_project(&app, &owner, "Apollo").await;
    receiver
        .wait_for(Duration::from_secs(10), |r| r.len() >= 2)
        .await;
    // A slow answer (past the timeout) fails too.
    receiver.set(Behaviour::Slow(Duration::from_millis(600)));
    let before = receiver.received().len();
    receiver
        .wait_for(Duration::from_secs(10), |r| r.len() > before)
        .await;
    let failing = deliveries_when(&app, &owner, &endpoint_id, Duration::from_secs(10), |d| {
        d.first()
            .is_some_and(|d| d["attempts"].as_i64().is_some_and(|n| n >= 3))
    })
    .await;
    assert_eq!(failing[0]["status"], "pending");
    assert!(failing[0]["attempts"].as_i64().expect("attempts") >= 3);
    let error = failing[0]["error"].as_str().expect("an error").to_owned();
    assert!(error == "timeout" || error == "http_status", "{error}");
    // A later event waits behind the failing one (commit order per endpoint).
    create_project(&app, &owner, "Gemini").await;

    receiver.set(Behaviour::Ok);
    let got = receiver
        .wait_for(Duration::from_secs(20), |r| {
            r.iter()
                .map(|x| x.id.as_str())
                .collect::<HashSet<_>>()
                .len()
                >= 2
        })
        .await;
    let ids: Vec<&str> = got.iter().map(|r| r.id.as_str()).collect();
    let first_id = ids[0];
    let first_of_second = ids
        .iter()
        .position(|id| *id != first_id)
        .expect("a second event");
    assert!(
        ids[..first_of_second].iter().all(|id| *id == first_id),
        "every retry of the first event carries its webhook-id, and the second waits: {ids:?}"
    );
    let after = deliveries_when(&app, &owner, &endpoint_id, Duration::from_secs(10), |d| {
        d.iter().all(|d| d["status"] == "succeeded")
    })
    .await;
    assert!(
        after.iter().all(|d| d["status"] == "succeeded"),
        "{after:?}"
    );
    let shown = app
        .as_user(&owner)
        .get(&format!("/v1/webhooks/{endpoint_id}"))
        .send()
        .await;
    assert_eq!(shown.body["consecutive_failures"], 0);

    // The retry counts and the pending gauge are exported.
    let metrics = app.get("/metrics").send().await;
    assert!(
        metrics
            .text
            .contains("tenantry_webhook_attempts_total{outcome=\"succeeded\"}"),
        "{}",
        metrics.text
    );
    assert!(metrics.text.contains("tenantry_webhook_pending_deliveries"));
}

#[tokio::test]
async fn a_delivery_dies_after_its_last_attempt_the_endpoint_is_disabled_and_a_retry_redelivers() {
    let receiver = Receiver::start().await;
    let app = spawn_with_relay(|s| {
        s.webhook_max_attempts = 3;
        s.webhook_disable_after = 5;
    })
    .await;
    let owner = app.signup("acme").await;
    let endpoint =
        create_endpoint(&app, &owner, &receiver.url("/hook"), json!(["project.*"])).await;
    let endpoint_id = endpoint["id"].as_str().expect("id").to_owned();
    receiver.set(Behaviour::Status(503));
    create_project(&app, &owner, "Apollo").await;
    create_project(&app, &owner, "Gemini").await;

    // 3 attempts kill the first delivery; 2 more failures of the second disable the endpoint.
    let deadline = Instant::now() + Duration::from_secs(20);
    let shown = loop {
        let shown = app
            .as_user(&owner)
            .get(&format!("/v1/webhooks/{endpoint_id}"))
            .send()
            .await;
        if shown.body["enabled"] == false || Instant::now() > deadline {
            break shown;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(shown.body["enabled"], false, "{}", shown.text);
    assert_eq!(shown.body["disabled_reason"], "failing");
    assert_eq!(receiver.received().len(), 5);
    // Disabling records one event, in the same transaction: the endpoint as the API shows
    // it, and no actor (no person or key acted).
    let events = app
        .as_user(&owner)
        .get("/v1/events?type=webhook_endpoint.disabled")
        .send()
        .await;
    events.assert_status(200);
    let disabled = events.body["items"].as_array().expect("items");
    assert_eq!(disabled.len(), 1, "{}", events.text);
    assert_eq!(disabled[0]["subject_id"], endpoint_id.as_str());
    assert!(disabled[0].get("actor").is_none(), "{}", events.text);
    assert_eq!(disabled[0]["data"]["enabled"], false);
    assert_eq!(disabled[0]["data"]["disabled_reason"], "failing");
    assert!(disabled[0]["data"].get("secret").is_none());
    let listed = deliveries(&app, &owner, &endpoint_id).await;
    let dead: Vec<&Value> = listed.iter().filter(|d| d["status"] == "dead").collect();
    assert_eq!(dead.len(), 1, "{listed:?}");
    assert_eq!(dead[0]["attempts"], 3);
    assert_eq!(dead[0]["response_status"], 503);
    // The response snippet is kept short and without control characters.
    let snippet = dead[0]["response_snippet"].as_str().expect("a snippet");
    assert!(
        snippet.starts_with("receiver says no")
            && !snippet.contains('\u{0}')
            && !snippet.contains('\u{1b}')
    );
    // Disabled: nothing more is sent.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), 5);

    // Enabled again: the held delivery goes out; the dead one only when retried.
    receiver.set(Behaviour::Ok);
    let resp = app
        .as_user(&owner)
        .patch(&format!("/v1/webhooks/{endpoint_id}"))
        .json(json!({"enabled": true}))
        .send()
        .await;
    resp.assert_status(200);
    receiver
        .wait_for(Duration::from_secs(10), |r| r.len() >= 6)
        .await;
    let dead_id = dead[0]["id"].as_str().expect("id");
    let dead_event = dead[0]["event_id"].as_str().expect("event").to_owned();
    let retried = app
        .as_user(&owner)
        .post(&format!(
            "/v1/webhooks/{endpoint_id}/deliveries/{dead_id}/retry"
        ))
        .send()
        .await;
    retried.assert_status(202);
    assert_eq!(retried.body["status"], "pending");
    let got = receiver
        .wait_for(Duration::from_secs(10), |r| r.len() >= 7)
        .await;
    assert_eq!(
        got[6].id, dead_event,
        "the redelivery carries the same webhook-id"
    );
    app.as_user(&owner)
        .post(&format!(
            "/v1/webhooks/{endpoint_id}/deliveries/{}/retry",
            uuid::Uuid::now_v7()
        ))
        .send()
        .await
        .assert_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn the_relay_refuses_private_addresses_after_resolution_and_follows_no_redirect() {
    let receiver = Receiver::start().await;
    let guarded = Outbound::new(OutboundSettings {
        connect_timeout: Duration::from_secs(1),
        timeout: Duration::from_secs(2),
        allow_private: false,
    })
    .expect("client");
    let port = receiver.addr.port();
    for url in [
        format!("http://127.0.0.1:{port}/hook"),
        // A name, resolved by the system resolver, that lands on loopback.
        format!("http://localhost:{port}/hook"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://10.0.0.1/".to_owned(),
        "http://192.168.1.1/".to_owned(),
        "http://[fe80::1]/".to_owned(),
        "http://[::ffff:127.0.0.1]:1/".to_owned(),
    ] {
        let attempt = guarded.post(&url, &[], b"{}".to_vec()).await;
        assert_eq!(
            attempt.failure,
            Some(Failure::RefusedAddress),
            "{url}: {attempt:?}"
        );
    }
    assert!(
        receiver.received().is_empty(),
        "nothing reached the receiver"
    );

    // Allowed (development), the same client reaches it, and a redirect is not followed.
    let open = Outbound::new(OutboundSettings {
        connect_timeout: Duration::from_secs(1),
        timeout: Duration::from_secs(2),
        allow_private: true,
    })
    .expect("client");
    let ok = open.post(&receiver.url("/hook"), &[], b"{}".to_vec()).await;
    assert!(ok.succeeded(), "{ok:?}");
    receiver.set(Behaviour::Redirect);
    let redirected = open.post(&receiver.url("/hook"), &[], b"{}".to_vec()).await;
    assert_eq!(redirected.failure, Some(Failure::HttpStatus));
    assert_eq!(redirected.status, Some(307));
    let paths: Vec<String> = receiver.received().into_iter().map(|r| r.path).collect();
    assert!(!paths.iter().any(|p| p == "/elsewhere"), "{paths:?}");

    // Through the service without the allowance: a name that resolves to loopback is
    // accepted as a URL, and every attempt is refused after resolution.
    let app = spawn_with_relay(|s| {
        s.webhook_allow_private = false;
        s.webhook_max_attempts = 1;
    })
    .await;
    let owner = app.signup("acme").await;
    let endpoint = create_endpoint(
        &app,
        &owner,
        &format!("http://localhost:{port}/hook"),
        json!(["*"]),
    )
    .await;
    let endpoint_id = endpoint["id"].as_str().expect("id").to_owned();
    let before = receiver.received().len();
    create_project(&app, &owner, "Apollo").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let listed = deliveries(&app, &owner, &endpoint_id).await;
        if listed.first().is_some_and(|d| d["status"] == "dead") {
            assert_eq!(listed[0]["error"], "refused_address");
            assert!(listed[0]["response_status"].is_null());
            break;
        }
        assert!(Instant::now() < deadline, "{listed:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        receiver.received().len(),
        before,
        "the relay never connected"
    );
}

/// A `tenantry relay` process.
struct RelayProcess {
    child: Child,
}

impl RelayProcess {
    fn spawn(db: &TestDb, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_tenantry"));
        for (name, _) in std::env::vars() {
            if name.starts_with("TENANTRY_") {
                command.env_remove(name);
            }
        }
        command
            .arg("relay")
            .env("TENANTRY_DATABASE_URL", db.url())
            .env("TENANTRY_WEBHOOK_ALLOW_PRIVATE", "true")
            .env("TENANTRY_WEBHOOK_POLL_MS", "100")
            .env("TENANTRY_WEBHOOK_RETRY_BASE_MS", "20")
            .env("TENANTRY_LOG_FORMAT", "json")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (name, value) in env {
            command.env(name, value);
        }
        Self {
            child: command.spawn().expect("tenantry relay starts"),
        }
    }

    fn sigkill(&mut self) {
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `count` project.created events of `owner`'s organization, written like the service writes
/// them (app.emit_event in the organization's context), in one statement; their ids in
/// commit order.
async fn emit_events(app: &TestApp, owner: &Member, count: i32) -> Vec<String> {
    let client = app.db.superuser().await;
    client
        .batch_execute(&format!(
            "begin;
             select set_config('app.org_id', '{org}', true), set_config('app.user_id', '{user}', true);
             select app.emit_event('{org}', gen_random_uuid(), 'project.created', gen_random_uuid(), '',
                                   jsonb_build_object('n', n))
             from generate_series(1, {count}) n;
             commit;",
            org = owner.org_id,
            user = owner.user_id,
        ))
        .await
        .expect("events written");
    client
        .query(
            "select id::text from app.events where org_id = $1::text::uuid and payload ? 'n' order by seq",
            &[&owner.org_id],
        )
        .await
        .expect("events read")
        .iter()
        .map(|row| row.get(0))
        .collect()
}

#[tokio::test]
async fn a_relay_killed_mid_batch_loses_nothing_and_the_next_one_resends_with_the_same_webhook_id()
{
    let receiver = Receiver::start().await;
    let app = spawn_with_relay(|s| s.webhook_relay = false).await;
    let owner = app.signup("acme").await;
    create_endpoint(
        &app,
        &owner,
        &receiver.url("/hook"),
        json!(["project.created"]),
    )
    .await;
    let events = emit_events(&app, &owner, 30).await;

    // Each answer takes a while: the relay is always mid-delivery.
    receiver.set(Behaviour::Slow(Duration::from_millis(150)));
    let mut first = RelayProcess::spawn(&app.db, &[("TENANTRY_WEBHOOK_TIMEOUT_MS", "1000")]);
    receiver
        .wait_for(Duration::from_secs(30), |r| r.len() >= 5)
        .await;
    first.sigkill();
    let at_kill = receiver.received().len();
    assert!(at_kill < events.len(), "killed before the end");

    receiver.set(Behaviour::Ok);
    let _second = RelayProcess::spawn(&app.db, &[("TENANTRY_WEBHOOK_TIMEOUT_MS", "1000")]);
    let got = receiver
        .wait_for(Duration::from_secs(30), |r| {
            r.iter()
                .map(|x| x.id.as_str())
                .collect::<HashSet<_>>()
                .len()
                >= events.len()
        })
        .await;
    let received: HashSet<&str> = got.iter().map(|r| r.id.as_str()).collect();
    let expected: HashSet<&str> = events.iter().map(String::as_str).collect();
    assert_eq!(
        received, expected,
        "every event delivered, under its own id, none invented"
    );
    // The one in flight at the kill was sent again with its original webhook-id; first
    // deliveries follow commit order.
    let mut firsts = Vec::new();
    for r in &got {
        if !firsts.contains(&r.id) {
            firsts.push(r.id.clone());
        }
    }
    assert_eq!(firsts, events, "delivered in commit order");
    let repeats = got.len() - received.len();
    assert!(
        repeats <= 1,
        "at most the delivery in flight was repeated: {repeats}"
    );
}

#[tokio::test]
async fn two_relays_deliver_a_thousand_events_once_each_in_order_per_endpoint() {
    let receiver = Receiver::start().await;
    let app = spawn_with_relay(|s| s.webhook_relay = false).await;
    let owner = app.signup("acme").await;
    create_endpoint(
        &app,
        &owner,
        &receiver.url("/a"),
        json!(["project.created"]),
    )
    .await;
    create_endpoint(&app, &owner, &receiver.url("/b"), json!(["project.*"])).await;
    let events = emit_events(&app, &owner, 1000).await;

    let _one = RelayProcess::spawn(&app.db, &[]);
    let _two = RelayProcess::spawn(&app.db, &[]);
    let got = receiver
        .wait_for(Duration::from_secs(120), |r| {
            r.iter()
                .map(|x| (x.path.as_str(), x.id.as_str()))
                .collect::<HashSet<_>>()
                .len()
                >= 2 * events.len()
        })
        .await;
    let mut per_endpoint: HashMap<&str, Vec<&str>> = HashMap::new();
    for r in &got {
        per_endpoint
            .entry(r.path.as_str())
            .or_default()
            .push(r.id.as_str());
    }
    let double_sends = got.len() - 2 * events.len();
    println!(
        "two relays, 2 x {} deliveries, double sends: {double_sends}",
        events.len()
    );
    assert_eq!(double_sends, 0, "no delivery was sent twice");
    for path in ["/a", "/b"] {
        let ids = &per_endpoint[path];
        assert_eq!(ids.len(), events.len(), "{path}");
        assert!(
            ids.iter().zip(&events).all(|(a, b)| *a == b.as_str()),
            "{path} received its events in commit order"
        );
    }
}

#[tokio::test]
async fn a_rolled_back_change_delivers_nothing_and_deliveries_of_another_organization_are_invisible()
 {
    let receiver = Receiver::start().await;
    let app = spawn_with_relay(|_| {}).await;
    let acme = app.signup("acme").await;
    let globex = app.signup("globex").await;
    let endpoint = create_endpoint(&app, &acme, &receiver.url("/acme"), json!(["project.*"])).await;
    let endpoint_id = endpoint["id"].as_str().expect("id").to_owned();

    // A create that fails (a taken name) rolls back with its event: nothing is sent for it.
    create_project(&app, &acme, "Apollo").await;
    receiver
        .wait_for(Duration::from_secs(10), |r| r.len() == 1)
        .await;
    app.as_user(&acme)
        .post("/v1/projects")
        .json(json!({"name": "Apollo"}))
        .send()
        .await
        .assert_status(409);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(receiver.received().len(), 1);

    // Globex sees neither the endpoint nor its deliveries, nor can it act on them.
    let delivery = deliveries(&app, &acme, &endpoint_id).await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    for (method, path) in [
        ("GET", format!("/v1/webhooks/{endpoint_id}")),
        ("PATCH", format!("/v1/webhooks/{endpoint_id}")),
        ("DELETE", format!("/v1/webhooks/{endpoint_id}")),
        ("POST", format!("/v1/webhooks/{endpoint_id}/rotate-secret")),
        ("GET", format!("/v1/webhooks/{endpoint_id}/deliveries")),
        (
            "POST",
            format!("/v1/webhooks/{endpoint_id}/deliveries/{delivery}/retry"),
        ),
    ] {
        let req = app
            .as_user(&globex)
            .request(method.parse().expect("method"), &path);
        let req = if method == "PATCH" || method == "POST" {
            req.json(json!({}))
        } else {
            req
        };
        req.send().await.assert_error(404, "NOT_FOUND");
    }
    let list = app.as_user(&globex).get("/v1/webhooks").send().await;
    assert_eq!(list.body["items"], json!([]));
    // Globex's own events never reach Acme's endpoint.
    create_project(&app, &globex, "Secret plan").await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        receiver
            .received()
            .iter()
            .all(|r| !String::from_utf8_lossy(&r.body).contains("Secret plan"))
    );
}
