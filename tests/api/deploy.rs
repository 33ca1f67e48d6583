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

/// The value compose gives a variable nobody set: `${NAME:-default}` is the default.
fn compose_default(value: &str) -> String {
    match value.split_once(":-") {
        Some((_, rest)) if value.starts_with("${") => {
            rest.strip_suffix('}').expect("a closing brace").to_owned()
        }
        _ => value.to_owned(),
    }
}

/// `docker compose up` runs the API in production, which refuses to start without mail
/// settings: the file's defaults (its local mail catcher) must satisfy that check.
#[test]
fn the_api_service_starts_in_production_with_the_files_mail_defaults() {
    let compose = compose();
    let api = &compose["services"]["api"];
    let env: std::collections::HashMap<String, String> = environment(api)
        .into_iter()
        .map(|(k, v)| (k, compose_default(&v)))
        .collect();
    assert_eq!(env["TENANTRY_ENV"], "production");
    let mut settings = tenantry::config::Settings::defaults();
    settings.environment = tenantry::config::Environment::Production;
    settings.smtp_url = Some(secrecy::SecretString::from(
        env["TENANTRY_SMTP_URL"].clone(),
    ));
    settings.mail_from = Some(env["TENANTRY_MAIL_FROM"].clone());
    settings.public_url = Some(env["TENANTRY_PUBLIC_URL"].clone());
    if let Err(err) = tenantry::mail::Mailer::from_settings(&settings) {
        panic!("the compose file's mail settings are refused: {err}");
    }
    assert!(
        compose["services"]["mail"]["image"]
            .as_str()
            .is_some_and(|image| image.starts_with("axllent/mailpit:")),
        "the local mail catcher the defaults point at"
    );
    // Without the defaults, production refuses to start.
    settings.smtp_url = None;
    assert!(tenantry::mail::Mailer::from_settings(&settings).is_err());
}
