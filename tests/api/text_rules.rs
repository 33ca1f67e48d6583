//! Look-alike identities: names and emails hold no invisible code point and are compared in
//! one Unicode form (NFC), through the API and in the database; the database's rules are the
//! service's, code point by code point.

use serde_json::json;
use tenantry::domain::{
    Description, DisplayName, HIDDEN_IN_FREE_TEXT, INVISIBLE, OrgSlug, is_hidden_in_free_text,
    is_invisible,
};

use crate::support::{Member, PASSWORD, TestApp, TestDb, TestResponse};

#[track_caller]
fn assert_refused(resp: &TestResponse, field: &str) {
    resp.assert_error(422, "VALIDATION_FAILED");
    assert_eq!(resp.detail_fields(), [field], "{}", resp.text);
    let message = resp.body["error"]["details"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(
        message.contains("invisible") || message.contains("bidirectional"),
        "the message says what is wrong: {message}"
    );
}

async fn add_user(app: &TestApp, by: &Member, email: &str, name: &str) -> TestResponse {
    app.as_user(by)
        .post("/v1/users")
        .json(json!({"email": email, "display_name": name, "password": PASSWORD}))
        .send()
        .await
}

#[tokio::test]
async fn emails_with_invisible_characters_are_refused_with_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    for email in [
        "own\u{200b}er@acme.test",
        "\u{202e}owner@acme.test",
        "owner\u{ad}@acme.test",
        "owner@acme.test\u{feff}",
        "owner@acme\u{2060}.test",
        "owner\u{e0041}@acme.test",
        "\towner@acme.test",
    ] {
        assert_refused(&add_user(&app, &owner, email, "Twin").await, "email");
        let signup = app
            .post("/v1/auth/signup")
            .json(
                json!({"org_name": "Twin", "org_slug": "twin", "email": email,
                         "display_name": "Twin", "password": PASSWORD}),
            )
            .send()
            .await;
        assert_refused(&signup, "email");
    }
}

#[tokio::test]
async fn every_name_field_refuses_invisible_characters_with_422_naming_it() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let signup = |org_name: &str, display_name: &str| {
        app.post("/v1/auth/signup")
            .json(
                json!({"org_name": org_name, "org_slug": "twin", "email": "a@twin.test",
                         "display_name": display_name, "password": PASSWORD}),
            )
            .send()
    };
    assert_refused(&signup("Ac\u{200d}me", "Ann").await, "org_name");
    assert_refused(&signup("Acme", "\u{2067}Ann").await, "display_name");
    assert_refused(
        &add_user(&app, &owner, "b@acme.test", "Bo\u{200c}b").await,
        "display_name",
    );
    let patched = app
        .as_user(&owner)
        .patch(&format!("/v1/users/{}", owner.user_id))
        .json(json!({"display_name": "Owner\u{fe0f}"}))
        .send()
        .await;
    assert_refused(&patched, "display_name");

    let create =
        |body: serde_json::Value| app.as_user(&owner).post("/v1/projects").json(body).send();
    assert_refused(&create(json!({"name": "Apo\u{2063}llo"})).await, "name");
    assert_refused(&create(json!({"name": "\u{3164}"})).await, "name");
    assert_refused(
        &create(json!({"name": "Apollo", "description": "safe\u{202e}txt.exe"})).await,
        "description",
    );
    // Free text keeps what writing systems and emoji need.
    let created =
        create(json!({"name": "Apollo", "description": "👩\u{200d}💻 مي\u{200c}خواهم"})).await;
    created.assert_status(201);
    let patched = app
        .as_user(&owner)
        .patch(&format!("/v1/projects/{}", created.str("/id")))
        .json(json!({"name": "Apollo\u{2028}"}))
        .send()
        .await;
    assert_refused(&patched, "name");
}

#[tokio::test]
async fn precomposed_and_decomposed_spellings_are_one_identity() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;

    let zoe = add_user(&app, &owner, "zo\u{e9}@acme.test", "Zoe\u{308}").await;
    zoe.assert_status(201);
    assert_eq!(zoe.str("/email"), "zo\u{e9}@acme.test");
    assert_eq!(zoe.str("/display_name"), "Zo\u{eb}", "stored in NFC");
    add_user(&app, &owner, "ZOE\u{301}@acme.test", "Zoe")
        .await
        .assert_error(409, "EMAIL_ALREADY_EXISTS");
    app.login("acme", "zoe\u{301}@ACME.test", PASSWORD)
        .await
        .assert_status(200);

    let create = |name: &str| {
        app.as_user(&owner)
            .post("/v1/projects")
            .json(json!({"name": name}))
            .send()
    };
    let cafe = create("Cafe\u{301}").await;
    cafe.assert_status(201);
    assert_eq!(cafe.str("/name"), "Caf\u{e9}", "stored in NFC");
    create("CAF\u{c9}")
        .await
        .assert_error(409, "PROJECT_NAME_TAKEN");
}

/// Code points PostgreSQL text can hold: all but NUL and the surrogates.
const ALL_CODE_POINTS: &str =
    "select cp from generate_series(1, 1114111) cp where cp not between 55296 and 57343";

#[tokio::test]
async fn the_database_refuses_exactly_the_code_points_the_parsers_refuse() {
    let db = TestDb::new().await;
    let client = db.superuser().await;
    let rows = client
        .query(
            &format!(
                "select cp,
                        not app.is_identity_text(normalize('a' || chr(cp) || 'a', NFC)),
                        not app.is_free_text(normalize('a' || chr(cp) || 'a', NFC)),
                        strpos(app.white_space(), chr(cp)) > 0
                   from ({ALL_CODE_POINTS}) c"
            ),
            &[],
        )
        .await
        .expect("every code point");
    assert_eq!(rows.len(), 0x10FFFF - 2048);
    let mut disagreements = Vec::new();
    for row in rows {
        let cp: i32 = row.get(0);
        let c = char::from_u32(cp as u32).expect("a scalar value");
        let (invisible, hidden, white): (bool, bool, bool) = (row.get(1), row.get(2), row.get(3));
        if invisible != is_invisible(c) {
            disagreements.push(format!("U+{cp:04X} identity text: database {invisible}"));
        }
        if hidden != is_hidden_in_free_text(c) {
            disagreements.push(format!("U+{cp:04X} free text: database {hidden}"));
        }
        if white != c.is_whitespace() {
            disagreements.push(format!("U+{cp:04X} white space: database {white}"));
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} disagreements: {:?}",
        disagreements.len(),
        &disagreements[..disagreements.len().min(20)]
    );
    // Premises: the sets are not empty, and reach beyond the Basic Multilingual Plane.
    assert!(INVISIBLE.iter().any(|r| u32::from(*r.end()) > 0xFFFF));
    assert!(
        HIDDEN_IN_FREE_TEXT
            .iter()
            .any(|r| u32::from(*r.end()) > 0xFFFF)
    );
}

#[tokio::test]
async fn the_slug_check_of_the_database_is_the_parsers_pattern() {
    let db = TestDb::new().await;
    let client = db.superuser().await;
    let definition: String = client
        .query_one(
            "select pg_get_constraintdef(oid) from pg_constraint where conname = 'ck_organizations_slug'",
            &[],
        )
        .await
        .expect("the constraint")
        .get(0);
    assert!(
        definition.contains(&format!("'{}'", OrgSlug::PATTERN)),
        "{definition}"
    );
}

/// Random Unicode strings, with invisible code points slipped in: whatever the parsers
/// accept, the database's checks accept once normalized; whatever they refuse for an
/// invisible code point, the database's checks refuse too.
#[test]
fn the_database_and_the_parsers_agree_on_random_unicode_text() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestCaseError, TestRunner};
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let db = runtime.block_on(TestDb::new());
    let client = runtime.block_on(db.superuser());
    let hidden = proptest::sample::select(INVISIBLE).prop_flat_map(|range| {
        (u32::from(*range.start())..=u32::from(*range.end()))
            .prop_map(|cp| char::from_u32(cp).unwrap_or('\u{1}'))
    });
    let text = proptest::collection::vec(
        prop_oneof![
            4 => any::<char>(),
            1 => hidden,
            1 => proptest::sample::select(vec![' ', '\u{a0}', 'e', '\u{301}', 'Σ', 'ς', 'İ', '\u{3000}']),
        ],
        0..24,
    )
    .prop_map(|chars| chars.into_iter().filter(|c| *c != '\0').collect::<String>());
    let mut runner = TestRunner::new(Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&text, |value| {
        let name = DisplayName::parse(&value);
        let stored = name
            .as_ref()
            .map(|n| n.as_str().to_owned())
            .unwrap_or_default();
        let (identity, free, stored_ok): (bool, bool, bool) = runtime
            .block_on(client.query_one(
                "select app.is_identity_text(normalize($1::text, NFC)),
                        app.is_free_text(normalize($1::text, NFC)),
                        app.is_identity_text(s) and btrim(s, app.white_space()) = s
                   from normalize($2::text, NFC) s",
                &[&value, &stored],
            ))
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .map_err(|err| TestCaseError::fail(err.to_string()))?;
        let has_invisible = value.chars().any(is_invisible);
        prop_assert_eq!(identity, !has_invisible, "identity text {:?}", value);
        match &name {
            Ok(_) => prop_assert!(stored_ok, "the database refuses the accepted {:?}", stored),
            Err(_) => {
                let blank = value.trim().is_empty();
                prop_assert!(
                    has_invisible || blank,
                    "refused without reason: {:?}",
                    value
                );
            }
        }
        prop_assert_eq!(
            free,
            Description::parse(&value).is_ok(),
            "free text {:?}",
            value
        );
        Ok(())
    });
    drop(client);
    drop(db);
    if let Err(err) = result {
        panic!("{err}");
    }
}
