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
