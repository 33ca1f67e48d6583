//! Sorting and matching by name: the sort key has one definition, the database's
//! (`app.text_key`, stored in `projects.name_key`), used by the order, the keyset comparison,
//! the unique index and prefix matching; cursors carry the key the database returned.

use serde_json::{Value, json};

use crate::support::{Member, TestApp};

/// Every page of `GET /v1/projects?<query>` with page size `limit`, following `next_cursor`;
/// gives up (returning what it saw) after `max_pages`, so a walk that never ends fails.
async fn walk(
    app: &TestApp,
    who: &Member,
    query: &str,
    limit: usize,
    max_pages: usize,
) -> Vec<(String, String)> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..max_pages {
        let url = match &cursor {
            Some(c) => format!("/v1/projects?{query}&limit={limit}&cursor={c}"),
            None => format!("/v1/projects?{query}&limit={limit}"),
        };
        let page = app.as_user(who).get(&url).send().await;
        page.assert_status(200);
        let items = page.body["items"].as_array().expect("items");
        assert!(items.len() <= limit, "a page holds at most limit items");
        seen.extend(items.iter().map(|p| {
            (
                p["id"].as_str().expect("id").to_owned(),
                p["name"].as_str().expect("name").to_owned(),
            )
        }));
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return seen,
        }
    }
    seen
}

async fn create(app: &TestApp, who: &Member, name: &str) -> Value {
    let resp = app
        .as_user(who)
        .post("/v1/projects")
        .json(json!({ "name": name }))
        .send()
        .await;
    resp.assert_status(201);
    resp.body.clone()
}

fn names(rows: &[(String, String)]) -> Vec<&str> {
    rows.iter().map(|(_, name)| name.as_str()).collect()
}

#[tokio::test]
async fn paging_by_name_visits_each_project_once_when_names_end_in_a_final_sigma() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    for name in [
        "ΟΔΟΣ",
        "ΟΔΟΣ Β",
        "İstanbul",
        "istanbul 2",
        "Straße",
        "STRASSE",
    ] {
        create(&app, &owner, name).await;
    }
    let whole = walk(&app, &owner, "sort=name", 100, 1).await;
    assert_eq!(whole.len(), 6);

    for limit in 1..=6 {
        for (sort, expected) in [
            ("name", whole.clone()),
            ("-name", whole.iter().rev().cloned().collect()),
        ] {
            let paged = walk(&app, &owner, &format!("sort={sort}"), limit, 20).await;
            assert_eq!(
                names(&paged),
                names(&expected),
                "sort={sort}&limit={limit} walks every project exactly once, in order"
            );
        }
    }
}

#[tokio::test]
async fn a_name_prefix_matches_names_that_end_in_a_final_sigma() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    for name in ["ΟΔΟΣ", "ΟΔΟΣ Β", "Οδηγός", "İzmir", "Other"] {
        create(&app, &owner, name).await;
    }
    let matching = |prefix: &str| {
        let query = format!("sort=name&name_prefix={}", urlencode(prefix));
        let app = &app;
        let owner = &owner;
        async move {
            names(&walk(app, owner, &query, 100, 1).await)
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(matching("ΟΔΟΣ").await, ["ΟΔΟΣ", "ΟΔΟΣ Β"]);
    assert_eq!(matching("οδοσ").await, ["ΟΔΟΣ", "ΟΔΟΣ Β"], "ignoring case");
    assert_eq!(matching("İz").await, ["İzmir"]);
    assert_eq!(
        matching("50%").await,
        Vec::<String>::new(),
        "wildcards are literal"
    );
}

#[tokio::test]
async fn paging_by_name_works_for_the_longest_names() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    // 200 four-byte characters: the longest key a name can have.
    for emoji in ['😀', '😁', '😂'] {
        create(&app, &owner, &emoji.to_string().repeat(200)).await;
    }
    let paged = walk(&app, &owner, "sort=name", 1, 10).await;
    assert_eq!(
        paged.len(),
        3,
        "{:?}",
        names(&paged)
            .iter()
            .map(|n| n.chars().next())
            .collect::<Vec<_>>()
    );
}

pub fn urlencode(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Pieces of names that Rust's `to_lowercase` and PostgreSQL's `lower()` treat differently, or
/// that differ only in case or Unicode form, in several scripts.
const FRAGMENTS: &[&str] = &[
    "ΟΔΟΣ",
    "οδος",
    "οδοσ",
    "Σ",
    "ς",
    "σ",
    "İ",
    "ı",
    "I",
    "i",
    "i\u{307}",
    "e\u{301}",
    "é",
    "E\u{301}",
    "É",
    "ß",
    "SS",
    "ẞ",
    "ǅ",
    "ǆ",
    "Ǆ",
    "Å",
    "\u{212B}",
    "A\u{30A}",
    "\u{2126}",
    "Ω",
    "ΐ",
    "ﬁ",
    "a",
    "A",
    "b",
    "Z",
    " ",
    "-",
    "_",
    "%",
    "\\",
    "1",
    "Ж",
    "ж",
    "日本",
    "😀",
    "\u{1F1FA}\u{1F1F8}",
    "ǰ",
    "Ǳ",
];

#[derive(Debug, Clone)]
struct Entry {
    name: String,
    removed: bool,
}

fn entries() -> impl proptest::strategy::Strategy<Value = Vec<Entry>> {
    use proptest::prelude::*;
    let name =
        proptest::collection::vec(proptest::sample::select(FRAGMENTS), 1..=4).prop_map(|parts| {
            let name = parts.concat();
            if name.trim().is_empty() {
                format!("x{name}")
            } else {
                name
            }
        });
    proptest::collection::vec(
        (name, proptest::bool::weighted(0.3)).prop_map(|(name, removed)| Entry { name, removed }),
        1..=8,
    )
}

/// Creates the entries in a new organization (a live duplicate of a key is refused with 409
/// and skipped; removed ones free their key, so equal keys coexist among removed and live
/// projects), then checks every page size and both directions, live only and with removed
/// projects, and the prefix of every name.
async fn check_case(app: &TestApp, case: usize, entries: &[Entry]) -> Result<(), String> {
    let owner = app.signup(&format!("case-{case}")).await;
    for entry in entries {
        let resp = app
            .as_user(&owner)
            .post("/v1/projects")
            .json(json!({ "name": entry.name }))
            .send()
            .await;
        match resp.status {
            201 if entry.removed => {
                app.as_user(&owner)
                    .delete(&format!("/v1/projects/{}", resp.str("/id")))
                    .send()
                    .await
                    .assert_status(204);
            }
            201 => {}
            409 => assert_eq!(resp.body["error"]["code"], "PROJECT_NAME_TAKEN"),
            _ => return Err(format!("creating {:?}: {}", entry.name, resp.text)),
        }
    }
    // The database's view: every row's id, name, key and whether it is live.
    let client = app.db.superuser().await;
    let rows = client
        .query(
            "select id::text, name, name_key, deleted_at is null from app.projects
              where org_id = $1::text::uuid order by name_key, id",
            &[&owner.org_id],
        )
        .await
        .expect("rows");
    let rows: Vec<(String, String, String, bool)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect();

    for include in ["", "&include=deleted"] {
        let expected: Vec<&str> = rows
            .iter()
            .filter(|r| r.3 || !include.is_empty())
            .map(|r| r.0.as_str())
            .collect();
        for sort in ["name", "-name"] {
            let mut expected = expected.clone();
            if sort == "-name" {
                expected.reverse();
            }
            for limit in 1..=expected.len() + 1 {
                let walked = walk(app, &owner, &format!("sort={sort}{include}"), limit, 20).await;
                let ids: Vec<&str> = walked.iter().map(|(id, _)| id.as_str()).collect();
                if ids != expected {
                    return Err(format!(
                        "sort={sort}{include}&limit={limit}: walked {:?}, expected {:?} (rows {rows:?})",
                        names(&walked),
                        expected
                    ));
                }
            }
        }
    }

    // Prefixes: every prefix of every name (and its upper-case spelling) matches exactly the
    // live names whose key starts with the prefix's key, both keys computed by the database.
    for (_, name, _, _) in &rows {
        let chars: Vec<char> = name.chars().collect();
        for len in [1, chars.len().div_ceil(2), chars.len()] {
            let prefix: String = chars[..len].iter().collect();
            for prefix in [prefix.clone(), prefix.to_uppercase()] {
                let key: String = client
                    .query_one("select app.text_key($1)", &[&prefix])
                    .await
                    .expect("key")
                    .get(0);
                let mut expected: Vec<&str> = rows
                    .iter()
                    .filter(|r| r.3 && r.2.starts_with(&key))
                    .map(|r| r.0.as_str())
                    .collect();
                expected.sort_unstable();
                let query = format!("name_prefix={}", urlencode(&prefix));
                let mut got: Vec<String> = walk(app, &owner, &query, 100, 1)
                    .await
                    .into_iter()
                    .map(|(id, _)| id)
                    .collect();
                got.sort_unstable();
                if got != expected {
                    return Err(format!(
                        "name_prefix={prefix:?} (key {key:?}): got {got:?}, expected {expected:?}"
                    ));
                }
            }
        }
    }
    Ok(())
}

#[test]
fn every_page_size_and_prefix_agrees_with_the_database_key_for_random_unicode_names() {
    use proptest::test_runner::{Config, TestCaseError, TestRunner};
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let app = runtime.block_on(TestApp::spawn());
    let cases = std::sync::atomic::AtomicUsize::new(0);
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&entries(), |entries| {
        let case = cases.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        runtime
            .block_on(check_case(&app, case, &entries))
            .map_err(TestCaseError::fail)
    });
    drop(app);
    if let Err(err) = result {
        panic!("{err}");
    }
}
