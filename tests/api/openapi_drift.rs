//! `openapi.yaml` is generated from the code; this test fails when the two differ.

#[test]
fn openapi_yaml_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.yaml");
    let committed = std::fs::read_to_string(&path)
        .expect("openapi.yaml exists (generate it with: cargo run -- openapi > openapi.yaml)");
    let generated = tenantry::api::spec(tenantry::config::SpecFormat::Yaml).expect("the spec");
    assert!(
        committed == generated,
        "openapi.yaml is out of date; regenerate it with:\n\n    cargo run -- openapi > openapi.yaml\n"
    );
}

/// Request bodies reject unknown properties (the spec says so) and carry an example. (Their
/// fields' rules are checked against the domain in `spec_rules.rs`.)
#[test]
fn request_schemas_reject_unknown_properties_and_have_examples() {
    let spec: serde_json::Value = serde_json::from_str(
        &tenantry::api::spec(tenantry::config::SpecFormat::Json).expect("the spec"),
    )
    .expect("JSON");
    let schemas = &spec["components"]["schemas"];
    // Cursors carry the database's sort key; the spec admits the longest one the domain issues.
    for path in ["/v1/users", "/v1/projects"] {
        let cursor = spec["paths"][path]["get"]["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .find(|p| p["name"] == "cursor")
            .expect("a cursor parameter");
        assert_eq!(
            cursor["schema"]["maxLength"],
            tenantry::domain::MAX_CURSOR_LEN,
            "{path} cursor"
        );
    }
    for request in [
        "SignupRequest",
        "LoginRequest",
        "RefreshRequest",
        "CreateUserRequest",
        "UpdateUserRequest",
        "CreateProjectRequest",
        "UpdateProjectRequest",
    ] {
        assert_eq!(
            schemas[request]["additionalProperties"], false,
            "{request} rejects unknown properties, and says so"
        );
        assert!(
            schemas[request]["example"].is_object(),
            "{request} has an example"
        );
    }
}

/// Client authors read the spec: every operation has an id, a tag, a summary, a description
/// and a documented bearer scheme (except the anonymous ones); every schema field has a
/// description; every field has a format or bounds where the type calls for one.
#[test]
fn the_spec_documents_every_operation_and_field() {
    let spec: serde_json::Value = serde_json::from_str(
        &tenantry::api::spec(tenantry::config::SpecFormat::Json).expect("the spec"),
    )
    .expect("JSON");
    let anonymous = [
        "signup",
        "login",
        "refresh",
        "requestPasswordReset",
        "confirmPasswordReset",
        "verifyEmail",
        "acceptInvitation",
        "healthz",
        "readyz",
        "metrics",
    ];
    let mut problems = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("operations") {
            let name = format!("{} {path}", method.to_uppercase());
            let id = op["operationId"].as_str().unwrap_or_default();
            for key in ["operationId", "summary", "description"] {
                if op[key].as_str().is_none_or(str::is_empty) {
                    problems.push(format!("{name}: no {key}"));
                }
            }
            if op["tags"].as_array().is_none_or(Vec::is_empty) {
                problems.push(format!("{name}: no tag"));
            }
            if !anonymous.contains(&id) && op["security"].as_array().is_none_or(Vec::is_empty) {
                problems.push(format!("{name}: no bearer scheme"));
            }
            for status in ["401", "422", "500", "503"] {
                if op["responses"].get(status).is_none() && !["healthz", "metrics"].contains(&id) {
                    problems.push(format!("{name}: status {status} undocumented"));
                }
            }
        }
    }
    for (schema_name, schema) in spec["components"]["schemas"].as_object().expect("schemas") {
        let Some(properties) = schema["properties"].as_object() else {
            continue;
        };
        for (field, property) in properties {
            let described = property["description"]
                .as_str()
                .is_some_and(|d| !d.is_empty());
            if !described {
                problems.push(format!("{schema_name}.{field}: no description"));
            }
            if (field == "id" || field.ends_with("_id"))
                && field != "request_id"
                && property["format"] != "uuid"
            {
                problems.push(format!("{schema_name}.{field}: not a uuid"));
            }
            // Who acted is a user or an API key: the Actor object ({type, id}).
            if field.ends_with("_by") && property["$ref"] != "#/components/schemas/Actor" {
                problems.push(format!("{schema_name}.{field}: not an Actor"));
            }
            if field.ends_with("_at") && property["format"] != "date-time" {
                problems.push(format!("{schema_name}.{field}: not a date-time"));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "the spec is incomplete:\n{}",
        problems.join("\n")
    );
}
