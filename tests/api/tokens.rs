//! Access-token attacks: every forged, altered or stale token is a 401 with the envelope.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

use crate::support::{Member, TEST_JWT_SECRET, TestApp};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

/// The claims of a token the service issued (not verified: test inspection only).
fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64")).expect("JSON")
}

/// Claims like the service's own, for `member` and their live session.
fn claims(member: &Member) -> Value {
    let now = now();
    json!({
        "iss": "tenantry", "aud": "tenantry-api",
        "sub": member.user_id, "org": member.org_id, "role": "owner",
        "sid": claims_of(&member.token)["sid"],
        "iat": now, "nbf": now, "exp": now + 600,
    })
}

/// The `kid` of the test secret, as the service derives it.
fn test_kid() -> String {
    tenantry::auth::jwt::key_id(&secrecy::SecretString::from(TEST_JWT_SECRET.to_owned()))
}

/// A token signed by hand, so that it can use algorithms the service's crypto provider (HS256
/// only) cannot sign with.
fn sign_with_kid(alg: Algorithm, kid: Option<String>, secret: &str, claims: &Value) -> String {
    use hmac::{Hmac, KeyInit, Mac};

    let mut header = json!({"typ": "JWT", "alg": format!("{alg:?}")});
    if let Some(kid) = kid {
        header["kid"] = json!(kid);
    }
    let encode = |value: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("JSON"));
    let message = format!("{}.{}", encode(&header), encode(claims));
    macro_rules! tag {
        ($digest:ty) => {{
            let mut mac = Hmac::<$digest>::new_from_slice(secret.as_bytes()).expect("a key");
            mac.update(message.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }};
    }
    let tag = match alg {
        Algorithm::HS256 => tag!(sha2::Sha256),
        Algorithm::HS384 => tag!(sha2::Sha384),
        Algorithm::HS512 => tag!(sha2::Sha512),
        other => panic!("no signer for {other:?}"),
    };
    format!("{message}.{}", URL_SAFE_NO_PAD.encode(tag))
}

fn sign(alg: Algorithm, secret: &str, claims: &Value) -> String {
    sign_with_kid(alg, Some(test_kid()), secret, claims)
}

fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().expect("object").remove(key);
    claims
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

#[tokio::test]
async fn a_correctly_signed_token_of_the_test_secret_is_accepted() {
    // Guards the other cases: they fail for the reason they name, not for a bad set-up.
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let token = sign(Algorithm::HS256, TEST_JWT_SECRET, &claims(&owner));
    app.get("/v1/me")
        .bearer(&token)
        .send()
        .await
        .assert_status(200);
}

#[tokio::test]
async fn forged_altered_and_stale_tokens_get_401() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let victim = app.signup("victim").await;
    let base = claims(&owner);
    let now = now();

    // A valid token whose payload is swapped for one naming another organization.
    let parts: Vec<&str> = owner.token.split('.').collect();
    let forged_payload =
        URL_SAFE_NO_PAD.encode(with(base.clone(), "org", json!(victim.org_id)).to_string());
    let tampered = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
    let alg_none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(base.to_string())
    );

    let victim_sid = claims_of(&victim.token)["sid"].clone();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "missing sid",
            sign(
                Algorithm::HS256,
                TEST_JWT_SECRET,
                &without(base.clone(), "sid"),
            ),
            "TOKEN_INVALID",
        ),
        (
            "unknown kid",
            sign_with_kid(
                Algorithm::HS256,
                Some("0000000000000000".into()),
                TEST_JWT_SECRET,
                &base,
            ),
            "TOKEN_INVALID",
        ),
        (
            "no kid",
            sign_with_kid(Algorithm::HS256, None, TEST_JWT_SECRET, &base),
            "TOKEN_INVALID",
        ),
        (
            "another org's session id",
            sign(
                Algorithm::HS256,
                TEST_JWT_SECRET,
                &with(base.clone(), "sid", victim_sid),
            ),
            "SESSION_REVOKED",
        ),
        ("tampered payload", tampered, "TOKEN_INVALID"),
        ("alg none", alg_none, "TOKEN_INVALID"),
        (
            "HS384 with the right secret",
            sign(Algorithm::HS384, TEST_JWT_SECRET, &base),
            "TOKEN_INVALID",
        ),
        (
            "HS512 with the right secret",
            sign(Algorithm::HS512, TEST_JWT_SECRET, &base),
            "TOKEN_INVALID",
        ),
        (
            "wrong key",
            sign(
                Algorithm::HS256,
                "another-secret-another-secret-12345",
                &base,
            ),
            "TOKEN_INVALID",
        ),
        (
            "wrong issuer",
            sign(
                Algorithm::HS256,
                TEST_JWT_SECRET,
                &with(base.clone(), "iss", json!("evil")),
            ),
            "TOKEN_INVALID",
        ),
        (
            "wrong audience",
            sign(
                Algorithm::HS256,
                TEST_JWT_SECRET,
                &with(base.clone(), "aud", json!("other-api")),
            ),
            "TOKEN_INVALID",
        ),
        (
            "expired",
            sign(
                Algorithm::HS256,
                TEST_JWT_SECRET,
                &with(base.clone(), "exp", json!(now - 120)),
            ),
            "TOKEN_EXPIRED",
        ),
        (
            "not yet valid",
            sign(
                Algorithm::HS256,
                TEST_JWT_SECRET,
                &with(base.clone(), "nbf", json!(now + 600)),
            ),
            "TOKEN_NOT_YET_VALID",
        ),
        (
            "unknown role",
            sign(
                Algorithm::HS256,
                TEST_JWT_SECRET,
                &with(base.clone(), "role", json!("superadmin")),
            ),
            "TOKEN_INVALID",
        ),
        (
            "org not a uuid",
            sign(
                Algorithm::HS256,
                TEST_JWT_SECRET,
                &with(base.clone(), "org", json!("' or 1=1 --")),
            ),
            "TOKEN_INVALID",
        ),
        (
            "missing exp",
            sign(Algorithm::HS256, TEST_JWT_SECRET, &{
                let mut c = base.clone();
                c.as_object_mut().expect("object").remove("exp");
                c
            }),
            "TOKEN_INVALID",
        ),
        ("garbage", "not-a-jwt".to_owned(), "TOKEN_INVALID"),
        ("oversized", "a".repeat(6000), "TOKEN_INVALID"),
    ];

    for (case, token, code) in cases {
        let resp = app.get("/v1/me").bearer(&token).send().await;
        assert_eq!(resp.status, 401, "{case}: {}", resp.text);
        resp.assert_error(401, code);
    }
}

#[tokio::test]
async fn a_missing_or_non_bearer_authorization_header_gets_401() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;

    let missing = app.get("/v1/users").send().await;
    missing.assert_error(401, "UNAUTHENTICATED");
    let basic = app
        .get("/v1/users")
        .header("authorization", &format!("Basic {}", owner.token))
        .send()
        .await;
    basic.assert_error(401, "UNAUTHENTICATED");
}

#[tokio::test]
async fn a_token_of_a_deleted_user_stops_working_at_once() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let bob = app.add_user(&owner, "bob@acme.test", "member").await;

    app.as_user(&owner)
        .delete(&format!("/v1/users/{}", bob.user_id))
        .send()
        .await
        .assert_status(204);

    app.me(&bob).await.assert_error(401, "SESSION_REVOKED");
}
