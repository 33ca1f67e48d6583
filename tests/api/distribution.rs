//! Distribution on a single server: the helpers that distribute tables on Citus do nothing
//! here, and `tenantry distribute` refuses clearly. (On a Citus cluster, `citus.rs`.)

use crate::support::TestDb;

#[tokio::test]
async fn distribute_table_does_nothing_on_a_single_server() {
    let db = TestDb::new().await;
    let client = db.superuser().await;

    let distributed: bool = client
        .query_one("select app.distribute_table('app.projects')", &[])
        .await
        .expect("callable by a migration without Citus")
        .get(0);
    let schema_distributed: bool = client
        .query_one("select app.is_distributed()", &[])
        .await
        .expect("is_distributed")
        .get(0);
    let worker_roles = client
        .query(
            "select app.grant_worker_login(array['tenantry_app', 'tenantry_anon']::name[])",
            &[],
        )
        .await
        .expect("grant_worker_login");

    assert!(!distributed, "no Citus: the table stays as it is");
    assert!(!schema_distributed);
    assert!(worker_roles.is_empty(), "no workers to let roles log in to");
}

#[tokio::test]
async fn the_distribute_command_refuses_a_database_without_citus() {
    let db = TestDb::new().await;

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tenantry"))
        .arg("distribute")
        .env("TENANTRY_DATABASE_URL", db.url())
        .env("RUST_LOG", "off")
        .output()
        .expect("the binary runs");

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("the citus extension is not installed"),
        "{stderr}"
    );
}
