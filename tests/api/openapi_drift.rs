//! `openapi.yaml` is generated from the code; this test fails when the two differ.

#[test]
fn openapi_yaml_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.yaml");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = tenantry::api::spec(tenantry::config::SpecFormat::Yaml);
    assert!(
        committed == generated,
        "openapi.yaml is out of date; regenerate it with:\n\n    cargo run -- openapi > openapi.yaml\n"
    );
}

#[test]
fn the_specs_patterns_are_the_domains() {
    let spec: serde_json::Value =
        serde_json::from_str(&tenantry::api::spec(tenantry::config::SpecFormat::Json))
            .expect("JSON");
    let schemas = &spec["components"]["schemas"];
    for (schema, field, pattern) in [
        ("SignupRequest", "email", tenantry::domain::EMAIL_PATTERN),
        ("SignupRequest", "org_name", tenantry::domain::NAME_PATTERN),
        (
            "CreateUserRequest",
            "email",
            tenantry::domain::EMAIL_PATTERN,
        ),
        (
            "CreateUserRequest",
            "display_name",
            tenantry::domain::NAME_PATTERN,
        ),
        (
            "UpdateUserRequest",
            "email",
            tenantry::domain::EMAIL_PATTERN,
        ),
        (
            "CreateProjectRequest",
            "name",
            tenantry::domain::NAME_PATTERN,
        ),
        (
            "CreateProjectRequest",
            "description",
            tenantry::domain::DESCRIPTION_PATTERN,
        ),
        (
            "UpdateProjectRequest",
            "description",
            tenantry::domain::DESCRIPTION_PATTERN,
        ),
    ] {
        assert_eq!(
            schemas[schema]["properties"][field]["pattern"], pattern,
            "{schema}.{field}"
        );
    }
    for request in [
        "SignupRequest",
        "LoginRequest",
        "CreateUserRequest",
        "CreateProjectRequest",
    ] {
        assert_eq!(
            schemas[request]["additionalProperties"], false,
            "{request} rejects unknown properties, and says so"
        );
    }
}
