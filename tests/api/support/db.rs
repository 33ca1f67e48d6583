//! Test databases: one migrated template per migration set, one clone per test.
//!
//! The template `tenantry_tpl_<hash>` is named after a hash of `sql/migrations/`, created and
//! migrated by the first test process that needs it (under an advisory lock, since tests run in
//! parallel processes and threads), then marked IS_TEMPLATE with connections disallowed.
//! Each test clones it (`CREATE DATABASE t_<epoch>_<uuid> TEMPLATE ...`) and drops its clone
//! when done; clones left by killed runs are swept after an hour.
//!
//! On a Citus cluster (`TENANTRY_TEST_CITUS=1`, with `TENANTRY_TEST_DATABASE_URL` naming the
//! coordinator) the same steps run on every node. Citus keeps its metadata and its shards per
//! database and per node, so a template cloned on the coordinator alone would have no shards
//! anywhere. Instead the template is created on every node (with the citus extension, and the
//! workers registered in its metadata, as `cluster createdb` does), migrated and distributed
//! (`tenantry::db::distribute`) through the coordinator, then marked a template on every node;
//! each test clones it on every node, so every node's copy of the metadata matches the shards
//! beside it, and drops the clone everywhere.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::OnceCell;
use tokio_postgres::{Client, Config, NoTls};

/// The admin connection: `TENANTRY_TEST_DATABASE_URL`, default the local `postgres` database
/// (on Citus, the coordinator's).
pub fn admin_config() -> Config {
    let url = std::env::var("TENANTRY_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    Config::from_str(&url).expect("TENANTRY_TEST_DATABASE_URL is a valid PostgreSQL URL")
}

/// Whether the suite runs on a Citus cluster: `TENANTRY_TEST_CITUS=1` (`scripts/citus`).
pub fn citus() -> bool {
    std::env::var("TENANTRY_TEST_CITUS").is_ok_and(|v| v == "1" || v == "true")
}

static NODES: OnceCell<Vec<Config>> = OnceCell::const_new();

/// Admin connections (to the `postgres` database) of every node: the server alone, or on
/// Citus the coordinator then each worker of its metadata.
pub async fn nodes() -> &'static [Config] {
    NODES
        .get_or_init(|| async {
            let coordinator = admin_config();
            if !citus() {
                return vec![coordinator];
            }
            let admin = connect(&coordinator).await;
            let workers = admin
                .query(
                    "select nodename, nodeport from pg_dist_node
                     where groupid <> 0 and noderole = 'primary' order by groupid",
                    &[],
                )
                .await
                .expect("the coordinator's postgres database lists the workers (cluster start)");
            let mut nodes = vec![coordinator.clone()];
            for row in workers {
                let port: i32 = row.get(1);
                let mut worker = Config::new();
                worker
                    .host(row.get::<_, &str>(0))
                    .port(u16::try_from(port).expect("a port"))
                    .user(coordinator.get_user().unwrap_or("postgres"))
                    .dbname("postgres");
                if let Some(password) = coordinator.get_password() {
                    worker.password(password);
                }
                nodes.push(worker);
            }
            nodes
        })
        .await
}

/// Runs `statement` on every node's `postgres` database, coordinator first.
async fn on_every_node(statement: &str) {
    for node in nodes().await {
        connect(node)
            .await
            .batch_execute(statement)
            .await
            .unwrap_or_else(|err| {
                let cause = err.as_db_error().map(|e| e.message().to_owned());
                panic!("{statement:?} on {:?}: {err} {cause:?}", node.get_ports())
            });
    }
}

/// Makes `name` (just created on every node) a Citus database: the extension on every node,
/// the coordinator and the workers registered in its metadata.
async fn make_citus_database(name: &str) {
    for node in nodes().await {
        let mut config = node.clone();
        config.dbname(name);
        connect(&config)
            .await
            .batch_execute("create extension if not exists citus")
            .await
            .expect("create extension citus");
    }
    let (coordinator, workers) = nodes().await.split_first().expect("a coordinator");
    let mut config = coordinator.clone();
    config.dbname(name);
    let client = connect(&config).await;
    let host = |c: &Config| match c.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        _ => "127.0.0.1".to_owned(),
    };
    let port = |c: &Config| i32::from(c.get_ports().first().copied().unwrap_or(5432));
    client
        .execute(
            "select citus_set_coordinator_host($1, $2)",
            &[&host(coordinator), &port(coordinator)],
        )
        .await
        .expect("register the coordinator");
    for worker in workers {
        client
            .execute(
                "select citus_add_node($1, $2)",
                &[&host(worker), &port(worker)],
            )
            .await
            .expect("register a worker");
    }
}

pub async fn connect(config: &Config) -> Client {
    let (client, connection) = config
        .connect(NoTls)
        .await
        .expect("PostgreSQL is reachable (is it running?)");
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

fn migrations_hash() -> u64 {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sql/migrations");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("sql/migrations exists")
        .map(|entry| entry.expect("readable entry").path())
        .collect();
    files.sort();
    let mut hasher = DefaultHasher::new();
    for file in files {
        file.file_name().hash(&mut hasher);
        std::fs::read(&file)
            .expect("readable migration")
            .hash(&mut hasher);
    }
    hasher.finish()
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// The migrated template's name, creating it on first use.
pub async fn template() -> String {
    TEMPLATE
        .get_or_init(|| async {
            let hash = migrations_hash();
            let name = format!("tenantry_tpl_{:012x}", hash & 0xffff_ffff_ffff);
            let admin = connect(&admin_config()).await;
            let lock_key = (hash >> 1) as i64;
            admin
                .execute("select pg_advisory_lock($1)", &[&lock_key])
                .await
                .expect("advisory lock");
            let state: Option<bool> = admin
                .query_opt(
                    "select datistemplate from pg_database where datname = $1",
                    &[&name],
                )
                .await
                .expect("catalog query")
                .map(|row| row.get(0));
            if state != Some(true) {
                // Absent, or a run died half-way through creating it (on some node).
                on_every_node(&format!("drop database if exists \"{name}\" with (force)")).await;
                on_every_node(&format!("create database \"{name}\"")).await;
                let mut config = admin_config();
                config.dbname(&name);
                if citus() {
                    make_citus_database(&name).await;
                }
                tenantry::db::migrate(&config).await.expect("migrations apply");
                if citus() {
                    tenantry::db::distribute(&config)
                        .await
                        .expect("the schema distributes");
                }
                // Workers first: the coordinator's copy, which says the template is complete,
                // is marked last. Citus's maintenance daemon is connected to it on each node.
                for node in nodes().await.iter().rev() {
                    connect(node)
                        .await
                        .batch_execute(&format!(
                            "alter database \"{name}\" with is_template true allow_connections false;
                             select pg_terminate_backend(pid) from pg_stat_activity where datname = '{name}';"
                        ))
                        .await
                        .expect("mark template");
                }
            }
            sweep_stale_clones().await;
            admin
                .execute("select pg_advisory_unlock($1)", &[&lock_key])
                .await
                .expect("advisory unlock");
            name
        })
        .await
        .clone()
}

/// Drops clones older than an hour, on every node: leftovers of killed runs.
async fn sweep_stale_clones() {
    let cutoff = now_secs().saturating_sub(3600);
    for node in nodes().await {
        let admin = connect(node).await;
        let rows = admin
            .query(
                "select datname from pg_database where datname ~ '^t_[0-9]+_[0-9a-f]{32}$'",
                &[],
            )
            .await
            .expect("list clones");
        for row in rows {
            let name: String = row.get(0);
            let created: u64 = name
                .split('_')
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(u64::MAX);
            if created < cutoff {
                let _ = admin
                    .batch_execute(&format!("drop database if exists \"{name}\" with (force)"))
                    .await;
            }
        }
    }
}

/// A fresh database cloned from the template, dropped when this value is.
pub struct TestDb {
    pub name: String,
    pub config: Config,
    /// Dropped with this value (false for a second handle on another test's database).
    owned: bool,
}

impl TestDb {
    pub async fn new() -> Self {
        let template = template().await;
        let name = format!("t_{}_{}", now_secs(), uuid::Uuid::now_v7().simple());
        on_every_node(&format!(
            "create database \"{name}\" template \"{template}\""
        ))
        .await;
        // CREATE DATABASE does not copy a template's database privileges: restate what
        // migration V15 revokes on the database itself, as it did on the template (on every node).
        on_every_node(&format!(
            "revoke temporary on database \"{name}\" from public"
        ))
        .await;
        let mut config = admin_config();
        config.dbname(&name);
        Self {
            name,
            config,
            owned: true,
        }
    }

    /// Another handle on the database at `url`, which this handle does not drop (a second
    /// service instance on the same database).
    pub fn attach(url: &str) -> Self {
        let config = Config::from_str(url).expect("a valid URL");
        let name = config.get_dbname().expect("a database name").to_owned();
        Self {
            name,
            config,
            owned: false,
        }
    }

    /// This database's URL (the admin URL with the database name replaced).
    pub fn url(&self) -> String {
        let admin = std::env::var("TENANTRY_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let (base, query) = admin
            .split_once('?')
            .map_or((admin.as_str(), ""), |(b, q)| (b, q));
        let prefix = base.rsplit_once('/').map_or(base, |(prefix, _)| prefix);
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        format!("{prefix}/{}{query}", self.name)
    }

    /// A superuser connection to this database, for arranging and inspecting state.
    pub async fn superuser(&self) -> Client {
        connect(&self.config).await
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if !self.owned {
            return;
        }
        let statement = format!("drop database if exists \"{}\" with (force)", self.name);
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                for node in nodes().await {
                    let admin = connect(node).await;
                    let _ = admin.batch_execute(&statement).await;
                }
            });
        })
        .join();
    }
}

/// Runs an admin statement from a `Drop`: drops happen inside the test's runtime, so this uses
/// a runtime of its own on another thread. Failures are ignored (clean-up is best effort;
/// stale clones are swept later).
pub fn run_admin_blocking(statement: String) {
    let _ = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let admin = connect(&admin_config()).await;
            let _ = admin.batch_execute(&statement).await;
        });
    })
    .join();
}
