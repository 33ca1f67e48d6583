//! Test support: a running service on its own database, a request builder, and helpers that
//! read like the domain (`app.signup("acme")`, `app.as_user(&alice).get("/v1/me")`).

pub mod client;
pub mod db;
pub mod process;
pub mod proxy;
pub mod smtp;

use std::net::SocketAddr;
use std::sync::Arc;

use secrecy::SecretString;
use serde_json::{Value, json};
use tenantry::auth::Principal;
use tenantry::auth::jwt::TokenService;
use tenantry::config::Settings;
use tenantry::service::AppState;
use tokio::sync::oneshot;

pub use client::{Req, TestResponse};
pub use db::TestDb;

/// The JWT secret of every test service (tests mint their own tokens with it).
pub const TEST_JWT_SECRET: &str = "test-secret-test-secret-test-secret!";
pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    pub state: AppState,
    // Field order matters: the server stops (shutdown dropped) before the database is dropped.
    _shutdown: oneshot::Sender<()>,
    pub db: TestDb,
}

/// A user of an organization, with a valid access token.
#[derive(Debug, Clone)]
pub struct Member {
    pub org_id: String,
    pub org_slug: String,
    pub user_id: String,
    pub email: String,
    pub token: String,
    pub refresh_token: String,
}

pub fn settings_for(db: &TestDb) -> Settings {
    let mut settings = Settings::defaults();
    settings.database_url = db.config.clone();
    settings.listen_addr = "127.0.0.1:0".parse().expect("address");
    settings.create_database = false;
    settings.migrate_on_start = false;
    settings.db_pool_size = 4;
    settings.jwt_secret = Some(SecretString::from(TEST_JWT_SECRET.to_owned()));
    // Every test client is 127.0.0.1: rate limits are tested on their own, with low values.
    settings.account_attempts_per_minute = 100_000;
    settings.client_attempts_per_minute = 100_000;
    settings.signups_per_hour = 100_000;
    settings.refresh_failures_per_minute = 100_000;
    settings.api_key_requests_per_minute = 1_000_000;
    // Tests fire dozens of concurrent creates (each a hash): let them queue.
    settings.password_hash_queue = 10_000;
    // Without an SMTP server (tests/api/email.rs brings one), emails are files: one directory
    // for every test, outside the repository.
    settings.mail_dir = std::env::temp_dir().join("tenantry-test-mail");
    // The worker's statements would mix with those that tests count (round trips, pool use,
    // the database's state): tests that send emails turn it on.
    settings.mail_worker = false;
    settings.invitations_per_hour = 100_000;
    settings.password_resets_per_hour = 100_000;
    // The webhook relay runs only in the tests about it (tests/api/webhooks.rs).
    settings.webhook_relay = false;
    settings
}

impl TestApp {
    pub async fn spawn() -> Self {
        let db = TestDb::new().await;
        let settings = settings_for(&db);
        Self::spawn_with(db, settings).await
    }

    pub async fn spawn_with(db: TestDb, settings: Settings) -> Self {
        if std::env::var_os("TEST_LOG").is_some() {
            tenantry::telemetry::init(tenantry::config::LogFormat::Text);
        }
        let app = tenantry::app::App::build(&settings)
            .await
            .expect("the service starts");
        let addr = app.addr();
        let state = app.state().clone();
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(app.run(async {
            let _ = rx.await;
        }));
        Self {
            addr,
            http: reqwest::Client::new(),
            state,
            _shutdown: tx,
            db,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn get(&self, path: &str) -> Req<'_> {
        Req::new(self, reqwest::Method::GET, path)
    }

    pub fn post(&self, path: &str) -> Req<'_> {
        Req::new(self, reqwest::Method::POST, path)
    }

    /// Requests authenticated as `member`.
    pub fn as_user<'a>(&'a self, member: &'a Member) -> AsUser<'a> {
        AsUser {
            app: self,
            token: &member.token,
        }
    }

    /// Requests authenticated with the API key `key`.
    pub fn as_key<'a>(&'a self, key: &'a ApiKey) -> AsUser<'a> {
        AsUser {
            app: self,
            token: &key.key,
        }
    }

    /// Requests with any bearer token (a forged or altered key, ...).
    pub fn with_bearer<'a>(&'a self, token: &'a str) -> AsUser<'a> {
        AsUser { app: self, token }
    }

    /// Creates an API key with `role` in `by`'s organization.
    pub async fn create_key(&self, by: &Member, role: &str) -> ApiKey {
        let resp = self
            .as_user(by)
            .post("/v1/api-keys")
            .json(json!({"name": format!("{role} key"), "role": role}))
            .send()
            .await;
        resp.assert_status(201);
        ApiKey {
            id: resp.str("/id"),
            key: resp.str("/key"),
        }
    }

    /// Signs up a new organization `slug` whose owner is `owner@<slug>.test`.
    pub async fn signup(&self, slug: &str) -> Member {
        let email = format!("owner@{slug}.test");
        let resp = self
            .post("/v1/auth/signup")
            .json(json!({
                "org_name": format!("Org {slug}"),
                "org_slug": slug,
                "email": email,
                "display_name": "Owner",
                "password": PASSWORD,
            }))
            .send()
            .await;
        resp.assert_status(201);
        Member {
            org_id: resp.str("/organization/id"),
            org_slug: slug.to_owned(),
            user_id: resp.str("/user/id"),
            email,
            token: resp.str("/access_token"),
            refresh_token: resp.str("/refresh_token"),
        }
    }

    /// Adds a user with `role` to `by`'s organization and logs them in.
    pub async fn add_user(&self, by: &Member, email: &str, role: &str) -> Member {
        let resp = self
            .as_user(by)
            .post("/v1/users")
            .json(json!({
                "email": email,
                "display_name": email,
                "password": PASSWORD,
                "role": role,
            }))
            .send()
            .await;
        resp.assert_status(201);
        let token = self.login(&by.org_slug, email, PASSWORD).await;
        token.assert_status(200);
        Member {
            org_id: by.org_id.clone(),
            org_slug: by.org_slug.clone(),
            user_id: resp.str("/id"),
            email: email.to_owned(),
            token: token.str("/access_token"),
            refresh_token: token.str("/refresh_token"),
        }
    }

    /// Exchanges a refresh token.
    pub async fn refresh(&self, refresh_token: &str) -> TestResponse {
        self.post("/v1/auth/refresh")
            .json(json!({"refresh_token": refresh_token}))
            .send()
            .await
    }

    /// `GET /v1/me` with `member`'s token: the cheapest probe of whether a token still works.
    pub async fn me(&self, member: &Member) -> TestResponse {
        self.as_user(member).get("/v1/me").send().await
    }

    pub async fn login(&self, org_slug: &str, email: &str, password: &str) -> TestResponse {
        self.post("/v1/auth/login")
            .json(json!({"org_slug": org_slug, "email": email, "password": password}))
            .send()
            .await
    }

    /// The service's token verifier: turns a member's token into the `Principal` the
    /// service would act for.
    pub fn tokens(&self) -> Arc<TokenService> {
        self.state.tokens.clone()
    }

    pub fn principal(&self, member: &Member) -> Principal {
        self.tokens().verify(&member.token).expect("a valid token")
    }
}

/// An API key of an organization, as created.
#[derive(Debug, Clone)]
pub struct ApiKey {
    pub id: String,
    /// The key itself (`tnt_...`).
    pub key: String,
}

pub struct AsUser<'a> {
    app: &'a TestApp,
    token: &'a str,
}

impl<'a> AsUser<'a> {
    pub fn request(&self, method: reqwest::Method, path: &str) -> Req<'a> {
        Req::new(self.app, method, path).bearer(self.token)
    }
    pub fn get(&self, path: &str) -> Req<'a> {
        self.request(reqwest::Method::GET, path)
    }
    pub fn post(&self, path: &str) -> Req<'a> {
        self.request(reqwest::Method::POST, path)
    }
    pub fn patch(&self, path: &str) -> Req<'a> {
        self.request(reqwest::Method::PATCH, path)
    }
    pub fn delete(&self, path: &str) -> Req<'a> {
        self.request(reqwest::Method::DELETE, path)
    }
}

/// A body without its `request_id`, to compare two error responses.
pub fn without_request_id(body: &Value) -> Value {
    let mut body = body.clone();
    if let Some(error) = body.get_mut("error").and_then(Value::as_object_mut) {
        error.remove("request_id");
    }
    body
}
