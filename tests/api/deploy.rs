//! The deployment files keep the owner's credentials out of the API: migrations run in a
//! one-shot `migrate` service the API waits for, and the API holds only the URL of a login
//! role that is a member of the two request roles. (`scripts/check-deploy` validates the
//! files' syntax; this checks what they say.)

use serde_norway::Value;

fn compose() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docker-compose.yml");
    serde_norway::from_str(&std::fs::read_to_string(path).expect("docker-compose.yml"))
        .expect("YAML")
}

fn environment(service: &Value) -> Vec<(String, String)> {
    service["environment"]
        .as_mapping()
        .expect("an environment mapping")
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().expect("a name").to_owned(),
                v.as_str().map(str::to_owned).unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn the_api_service_holds_no_owner_credentials_and_waits_for_the_migrations() {
    let compose = compose();
    let api = &compose["services"]["api"];
    let env = environment(api);
    for (name, value) in &env {
        assert!(
            !name.contains("MIGRATION")
                && !value.contains("tenantry_owner")
                && !value.contains("OWNER"),
            "the API must not hold the owner's credentials: {name}={value}"
        );
    }
    let get = |name: &str| env.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    assert_eq!(get("TENANTRY_MIGRATE_ON_START"), Some("false"));
    assert!(
        get("TENANTRY_DATABASE_URL").is_some_and(|url| url.starts_with("postgres://tenantry_api:")),
        "{env:?}"
    );
    assert_eq!(
        api["depends_on"]["migrate"]["condition"].as_str(),
        Some("service_completed_successfully")
    );

    let migrate = &compose["services"]["migrate"];
    assert_eq!(migrate["command"], Value::from(vec!["migrate"]));
    assert_eq!(migrate["image"], api["image"], "the same image");
    assert_eq!(migrate["build"], api["build"]);
    let env = environment(migrate);
    assert!(
        env.iter().all(|(name, _)| name != "TENANTRY_JWT_SECRET"),
        "migrations need no signing secret"
    );
}

#[test]
fn the_login_role_of_the_api_is_a_member_of_the_request_roles_and_the_relays() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/initdb/10-roles.sh");
    let script = std::fs::read_to_string(path).expect("10-roles.sh");
    assert!(
        script.contains("grant tenantry_app, tenantry_anon, tenantry_relay to tenantry_api;"),
        "{script}"
    );
    assert!(script.contains("create role tenantry_api login nosuperuser nobypassrls noinherit"));
}
