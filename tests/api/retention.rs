//! Retention: `tenantry purge` deletes what was removed longer ago than the retention period,
//! and nothing else.

use serde_json::json;

use crate::support::TestApp;

#[tokio::test]
async fn purge_deletes_only_rows_removed_before_the_retention_period() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    let mut ids = Vec::new();
    for name in ["old", "recent", "live"] {
        let resp = app
            .as_user(&owner)
            .post("/v1/projects")
            .json(json!({"name": name}))
            .send()
            .await;
        resp.assert_status(201);
        ids.push(resp.str("/id"));
    }
    for id in &ids[..2] {
        app.as_user(&owner)
            .delete(&format!("/v1/projects/{id}"))
            .send()
            .await
            .assert_status(204);
    }
    let db = app.db.superuser().await;
    db.execute(
        "update app.projects set deleted_at = now() - interval '40 days' where id = $1::text::uuid",
        &[&ids[0]],
    )
    .await
    .expect("age the removal");

    // The real command line, as an operator's cron job runs it.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tenantry"))
        .arg("purge")
        .env("TENANTRY_DATABASE_URL", app.db.url())
        .env("TENANTRY_RETENTION_DAYS", "30")
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs");

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("projects: 1 purged"), "{stdout}");
    let remaining: Vec<String> = db
        .query("select name from app.projects order by name", &[])
        .await
        .expect("names")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(remaining, ["live", "recent"]);
    // The recently removed project can still be restored.
    app.as_user(&owner)
        .post(&format!("/v1/projects/{}/restore", ids[1]))
        .send()
        .await
        .assert_status(200);
}

#[tokio::test]
async fn purge_deletes_events_older_than_the_event_retention_period_only() {
    let app = TestApp::spawn().await;
    let owner = app.signup("acme").await;
    for name in ["old", "recent"] {
        app.as_user(&owner)
            .post("/v1/projects")
            .json(json!({"name": name}))
            .send()
            .await
            .assert_status(201);
    }
    let db = app.db.superuser().await;
    // The sign-up's event is 100 days old, the first project's 60: only the first goes with
    // 90 days of event retention, whatever the other retention period says.
    db.execute(
        "update app.events set created_at = now() - interval '100 days' where type = 'user.created'",
        &[],
    )
    .await
    .expect("age the sign-up's event");
    db.execute(
        "update app.events set created_at = now() - interval '60 days'
         where type = 'project.created' and payload->>'name' = 'old'",
        &[],
    )
    .await
    .expect("age the first project's event");

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tenantry"))
        .arg("purge")
        .env("TENANTRY_DATABASE_URL", app.db.url())
        .env("TENANTRY_RETENTION_DAYS", "30")
        .env("TENANTRY_EVENT_RETENTION_DAYS", "90")
        .env("RUST_LOG", "warn")
        .output()
        .expect("the binary runs");

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("events: 1 purged"), "{stdout}");
    let remaining: Vec<String> = db
        .query("select type from app.events order by seq", &[])
        .await
        .expect("types")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(remaining, ["project.created", "project.created"]);
}
