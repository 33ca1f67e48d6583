//! The documentation and deployment files name exactly the settings the code reads.

use std::collections::BTreeSet;

use clap::CommandFactory;
use tenantry::config::Cli;

fn read(file: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
        .unwrap_or_else(|err| panic!("{file}: {err}"))
}

/// Every `TENANTRY_*` variable the service reads (tests' own variables excluded).
fn settings() -> BTreeSet<String> {
    Cli::command()
        .get_arguments()
        .filter_map(|arg| arg.get_env())
        .map(|env| env.to_string_lossy().into_owned())
        .collect()
}

/// The `TENANTRY_*` names mentioned in a text.
fn mentioned(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find("TENANTRY_") {
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
            .unwrap_or(tail.len());
        names.insert(tail[..end].trim_end_matches('_').to_owned());
        rest = &tail[end..];
    }
    names
}

/// Variables documented for tests and deployment tooling, not read by the service.
const NOT_SETTINGS: &[&str] = &[
    "TENANTRY_TEST_DATABASE_URL",
    "TENANTRY_TEST_CITUS",
    "TENANTRY_CITUS_PASSWORD",
    "TENANTRY_API_DB_PASSWORD",
    "TENANTRY_OWNER_DB_PASSWORD",
];

#[test]
fn readme_and_env_example_document_every_setting() {
    for file in ["README.md", ".env.example"] {
        let documented = mentioned(&read(file));
        let missing: Vec<_> = settings().difference(&documented).cloned().collect();
        assert!(missing.is_empty(), "{file} does not document {missing:?}");
    }
}

#[test]
fn deployment_files_use_only_real_settings() {
    let known = settings();
    for file in [
        "README.md",
        ".env.example",
        "docker-compose.yml",
        "docker-compose.citus.yml",
        "Dockerfile",
    ] {
        let unknown: Vec<_> = mentioned(&read(file))
            .into_iter()
            .filter(|name| !known.contains(name) && !NOT_SETTINGS.contains(&name.as_str()))
            .collect();
        assert!(
            unknown.is_empty(),
            "{file} names settings that do not exist: {unknown:?}"
        );
    }
}
