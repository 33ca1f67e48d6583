//! The database: the request pool (private), database creation, migrations, distribution on
//! Citus, the start-up row-level-security self-check, and the constructors of the two
//! transaction kinds.
//!
//! Nothing outside this module holds a pooled client or runs SQL except through
//! [`TenantTx`] and [`AnonTx`].

mod sql;
mod tx;

pub use sql::Sql;
pub use tx::{ANON_ROLE, AnonTx, Params, RUNTIME_ROLE, TenantTx, WorkerTx};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

use crate::auth::Principal;
use crate::domain::{OrgId, Role};
use crate::error::AppError;
use crate::retry::Backoff;

/// The application schema: every table in it must force row-level security.
pub const APP_SCHEMA: &str = "app";

mod embedded {
    refinery::embed_migrations!("sql/migrations");
}

/// Why the service cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("cannot reach PostgreSQL: {0}")]
    Connect(#[source] tokio_postgres::Error),
    #[error("timed out connecting to PostgreSQL after {0:?}")]
    ConnectTimeout(Duration),
    #[error("PostgreSQL stayed unreachable for {waited:?}; giving up (last error: {last})")]
    Unreachable { waited: Duration, last: String },
    #[error("database error during start-up: {0}")]
    Database(#[from] tokio_postgres::Error),
    #[error("cannot create database {name:?}: {source}")]
    CreateDatabase {
        name: String,
        #[source]
        source: tokio_postgres::Error,
    },
    #[error("migration failed: {0}")]
    Migration(#[from] refinery::Error),
    #[error("cannot build the connection pool: {0}")]
    Pool(String),
    #[error("row-level security self-check failed: {0}")]
    SelfCheck(String),
    #[error("cannot distribute: {0}")]
    Distribute(String),
}

/// What the request pool is built from (the settings own the values and their defaults).
#[derive(Debug, Clone)]
pub struct DbConfig {
    /// Where and as whom the pool connects.
    pub url: tokio_postgres::Config,
    pub pool_size: usize,
    /// How long a request waits for a pooled connection.
    pub acquire_timeout: Duration,
    /// How long opening (or recycling) a connection may take.
    pub connect_timeout: Duration,
    /// `statement_timeout` of pooled connections, in milliseconds (0 disables it).
    pub statement_timeout_ms: u64,
    /// `idle_in_transaction_session_timeout` of pooled connections, in milliseconds.
    pub idle_in_transaction_timeout_ms: u64,
}

/// The request pool. Cloning is cheap (the pool is shared).
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    /// The database is a Citus coordinator (found by the start-up self-check): readiness then
    /// also checks that every worker answers.
    citus: Arc<AtomicBool>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("status", &self.pool.status())
            .finish()
    }
}

impl Db {
    /// Builds the pool; connections are opened lazily, on first use.
    pub fn new(settings: &DbConfig) -> Result<Self, StartupError> {
        let mut config = settings.url.clone();
        config.application_name("tenantry");
        config.connect_timeout(settings.connect_timeout);
        // Session-level guards, set once per connection at no per-request cost.
        config.options(format!(
            "-c statement_timeout={} -c idle_in_transaction_session_timeout={}",
            settings.statement_timeout_ms, settings.idle_in_transaction_timeout_ms
        ));
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                // Fast: only checks the connection is open. Safe because request state lives
                // in transaction-local settings, which end with every transaction.
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(settings.pool_size)
            .wait_timeout(Some(settings.acquire_timeout))
            .create_timeout(Some(settings.connect_timeout))
            .recycle_timeout(Some(settings.connect_timeout))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|err| StartupError::Pool(err.to_string()))?;
        Ok(Self {
            pool,
            citus: Arc::new(AtomicBool::new(false)),
        })
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, AppError> {
        Ok(self.pool.get().await?)
    }

    /// A transaction in `principal`'s organization. Its context is sent with its first query.
    pub async fn tenant_tx(&self, principal: &Principal) -> Result<TenantTx, AppError> {
        Ok(TenantTx::begin(self.client().await?, principal))
    }

    /// A transaction that creates `principal`'s session (sign-up and log-in only), whose
    /// user has `role`.
    pub(crate) async fn new_session_tx(
        &self,
        principal: &Principal,
        role: Role,
    ) -> Result<TenantTx, AppError> {
        let person = principal
            .person()
            .ok_or_else(|| AppError::internal("a new session is a person's"))?;
        Ok(TenantTx::begin_new_session(
            self.client().await?,
            principal.org_id(),
            person,
            role,
        ))
    }

    /// A transaction in organization `org` that redeems a token sent by email.
    pub(crate) async fn token_tx(&self, org: OrgId) -> Result<TenantTx, AppError> {
        Ok(TenantTx::begin_for_token(self.client().await?, org))
    }

    /// A transaction of the mail worker (no tenant context).
    pub(crate) async fn worker_tx(&self) -> Result<WorkerTx, AppError> {
        Ok(WorkerTx::begin(self.client().await?))
    }

    /// A transaction without tenant context, for pre-authentication lookups.
    pub async fn anon_tx(&self) -> Result<AnonTx, AppError> {
        Ok(AnonTx::begin(self.client().await?))
    }

    /// Readiness: the database answers, as the runtime role, and has every migration this
    /// binary knows (an older binary against a newer schema is ready: rolling deployments).
    /// On a Citus coordinator, every worker must also accept a connection from it.
    pub async fn readiness(&self) -> Result<(), AppError> {
        let mut tx = self.anon_tx().await?;
        let rows = tx
            .query(&crate::sql!("ops/applied_migration.sql"), &[])
            .await?;
        if self.citus.load(Ordering::Relaxed) {
            let unreachable = tx
                .query(&crate::sql!("ops/unreachable_workers.sql"), &[])
                .await?;
            if !unreachable.is_empty() {
                let nodes: Vec<String> = unreachable
                    .iter()
                    .map(|row| row.try_get("node"))
                    .collect::<Result<_, _>>()
                    .map_err(AppError::internal)?;
                return Err(AppError::database_unavailable(format!(
                    "Citus workers unreachable: {}",
                    nodes.join(", ")
                )));
            }
        }
        tx.commit().await?;
        let applied: i32 = rows
            .first()
            .map(|row| row.try_get("version"))
            .transpose()
            .map_err(AppError::internal)?
            .unwrap_or(0);
        match latest_migration_version() {
            Some(latest) if applied < latest => Err(AppError::Unavailable {
                code: "MIGRATIONS_PENDING",
                source: Some(
                    format!("database at migration {applied}, binary expects {latest}").into(),
                ),
            }),
            _ => Ok(()),
        }
    }

    /// Pool figures for diagnostics: (size, available, waiting).
    pub fn pool_status(&self) -> (usize, usize, usize) {
        let status = self.pool.status();
        (status.size, status.available, status.waiting)
    }

    pub fn close(&self) {
        self.pool.close();
    }

    /// The runtime-role part of [`Db::self_check`], for any role name (tests use it on
    /// deliberately broken roles, since the real one is shared by the whole cluster).
    pub async fn check_runtime_role(&self, role: &str) -> Result<(), StartupError> {
        let client = self
            .pool
            .get()
            .await
            .map_err(|err| StartupError::Pool(err.to_string()))?;
        let problems = runtime_role_problems(&client, role).await?;
        if problems.is_empty() {
            Ok(())
        } else {
            Err(StartupError::SelfCheck(problems.join("; ")))
        }
    }

    /// Checked before serving (and by the tests): every table of the application schema
    /// forces RLS and has a policy for each command; the runtime role and the
    /// pre-authentication role cannot bypass RLS, own nothing and cannot become another role;
    /// the runtime role cannot execute the pre-authentication (SECURITY DEFINER) functions and
    /// the pre-authentication role can touch no table of the schema; the pool's login role can
    /// enter both. Returns warnings that do not stop the service (a privileged login role,
    /// privileges PUBLIC still grants them).
    pub async fn self_check(&self) -> Result<Vec<String>, StartupError> {
        let client = self
            .pool
            .get()
            .await
            .map_err(|err| StartupError::Pool(err.to_string()))?;
        let mut problems = runtime_role_problems(&client, RUNTIME_ROLE).await?;
        problems.extend(runtime_role_problems(&client, ANON_ROLE).await?);
        if problems.is_empty() {
            problems.extend(separation_problems(&client).await?);
        }
        let unprotected = client
            .query(
                "select c.relname,
                        c.relrowsecurity and c.relforcerowsecurity as forced,
                        array(select distinct p.polcmd::text from pg_catalog.pg_policy p
                              where p.polrelid = c.oid
                                and (p.polroles = '{0}' or (select oid from pg_catalog.pg_roles
                                     where rolname = $2) = any (p.polroles))) as commands
                 from pg_catalog.pg_class c
                 join pg_catalog.pg_namespace n on n.oid = c.relnamespace
                 where n.nspname = $1 and c.relkind in ('r', 'p')
                 order by c.relname",
                &[&APP_SCHEMA, &RUNTIME_ROLE],
            )
            .await?;
        for row in unprotected {
            let table: String = row.get(0);
            let forced: bool = row.get(1);
            let commands: Vec<String> = row.get(2);
            if !forced {
                problems.push(format!(
                    "table {APP_SCHEMA}.{table} does not ENABLE and FORCE ROW LEVEL SECURITY"
                ));
            }
            let covers = |cmd: &str| commands.iter().any(|c| c == cmd || c == "*");
            let missing: Vec<&str> = [
                ("r", "SELECT"),
                ("a", "INSERT"),
                ("w", "UPDATE"),
                ("d", "DELETE"),
            ]
            .into_iter()
            .filter(|(cmd, _)| !covers(cmd))
            .map(|(_, name)| name)
            .collect();
            if !missing.is_empty() {
                problems.push(format!(
                    "table {APP_SCHEMA}.{table} has no {} policy for {RUNTIME_ROLE}",
                    missing.join("/")
                ));
            }
        }
        let citus: bool = client
            .query_one(
                "select exists (select 1 from pg_catalog.pg_extension where extname = 'citus')",
                &[],
            )
            .await?
            .get(0);
        self.citus.store(citus, Ordering::Relaxed);
        let login = client
            .query_one(
                "select current_user::text, r.rolsuper or r.rolbypassrls
                 from pg_catalog.pg_roles r where r.rolname = current_user",
                &[],
            )
            .await?;
        let (login_role, privileged): (String, bool) = (login.get(0), login.get(1));
        for role in [RUNTIME_ROLE, ANON_ROLE] {
            let can_enter: bool = client
                .query_one(
                    "select exists (select 1 from pg_catalog.pg_roles where rolname = $1)
                            and pg_catalog.pg_has_role(current_user, $1, 'MEMBER')",
                    &[&role],
                )
                .await?
                .get(0);
            if !can_enter {
                problems.push(format!(
                    "the pool's login role {login_role} cannot SET ROLE {role}: \
                     GRANT {role} TO {login_role}"
                ));
            }
        }
        let mut warnings = public_privilege_warnings(&client).await?;
        let worker_roles: Vec<String> = if citus {
            client
                .query(crate::sql!("ops/worker_roles.sql").text(), &[])
                .await?
                .iter()
                .map(|row| row.get(0))
                .collect()
        } else {
            Vec::new()
        };
        // The worker check takes a pooled connection of its own: give this one back first
        // (a pool of one would otherwise wait for itself).
        drop(client);
        // (Only when the rest passed: it runs as the pre-authentication role, which the login
        // role may be unable to enter, a problem already named.)
        if citus && problems.is_empty() {
            self.check_workers(&worker_roles, &mut problems, &mut warnings)
                .await?;
        }
        if !problems.is_empty() {
            return Err(StartupError::SelfCheck(problems.join("; ")));
        }
        if privileged {
            warnings.push(format!(
                "the pool logs in as {login_role}, a SUPERUSER or BYPASSRLS role: RLS still applies \
                 inside every transaction (SET LOCAL ROLE {RUNTIME_ROLE}), but a production \
                 deployment should log in as a NOSUPERUSER NOINHERIT member of {RUNTIME_ROLE} \
                 and {ANON_ROLE} only"
            ));
        }
        Ok(warnings)
    }
}

impl Db {
    /// The Citus part of the self-check: every role Citus connects to the workers as can log
    /// in there (else every request, log-in or purge touching that role fails). Run as the
    /// pre-authentication role, which therefore must reach each worker itself. A worker that does not
    /// answer now is a warning (readiness reports it), not a reason to refuse to start.
    async fn check_workers(
        &self,
        roles: &[String],
        problems: &mut Vec<String>,
        warnings: &mut Vec<String>,
    ) -> Result<(), StartupError> {
        let startup = |err: AppError| StartupError::SelfCheck(err.to_string());
        let mut tx = self.anon_tx().await.map_err(startup)?;
        let rows = tx
            .query(&crate::sql!("ops/workers_without_login.sql"), &[&roles])
            .await
            .map_err(startup)?;
        tx.commit().await.map_err(startup)?;
        for row in rows {
            let (node, reached, roles): (String, bool, String) =
                (row.get("node"), row.get("reached"), row.get("roles"));
            if reached && !roles.is_empty() {
                problems.push(format!(
                    "on Citus worker {node}, {roles} cannot log in: run `tenantry distribute`"
                ));
            } else if !reached && roles.contains("not permitted to log in") {
                problems.push(format!(
                    "{ANON_ROLE} cannot log in to Citus worker {node}: run `tenantry distribute`"
                ));
            } else if !reached {
                warnings.push(format!("Citus worker {node} does not answer: {roles}"));
            }
        }
        Ok(())
    }
}

/// Why the two request roles would not be kept apart: the runtime role must not execute any
/// SECURITY DEFINER function of the schema (they are the pre-authentication entry points, which
/// read across tenants), and the pre-authentication role must have no privilege on its tables.
async fn separation_problems(client: &tokio_postgres::Client) -> Result<Vec<String>, StartupError> {
    let row = client
        .query_one(
            "select array(select p.oid::regprocedure::text from pg_catalog.pg_proc p
                           where p.pronamespace = $1::text::regnamespace and p.prosecdef
                             and pg_catalog.has_function_privilege($2, p.oid, 'EXECUTE')
                           order by 1),
                    array(select c.oid::regclass::text from pg_catalog.pg_class c
                           where c.relnamespace = $1::text::regnamespace and c.relkind in ('r', 'p')
                             and (pg_catalog.has_table_privilege($3, c.oid,
                                      'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')
                                  or pg_catalog.has_any_column_privilege($3, c.oid,
                                      'SELECT, INSERT, UPDATE, REFERENCES'))
                           order by 1)",
            &[&APP_SCHEMA, &RUNTIME_ROLE, &ANON_ROLE],
        )
        .await?;
    let (definers, tables): (Vec<String>, Vec<String>) = (row.get(0), row.get(1));
    let mut problems = Vec::new();
    if !definers.is_empty() {
        problems.push(format!(
            "{RUNTIME_ROLE} can execute the pre-authentication function(s) {}: REVOKE EXECUTE \
             from it (only {ANON_ROLE} may)",
            definers.join(", ")
        ));
    }
    if !tables.is_empty() {
        problems.push(format!(
            "{ANON_ROLE} has privileges on table(s) {}: it may only execute the \
             pre-authentication functions",
            tables.join(", ")
        ));
    }
    Ok(problems)
}

/// What the request roles still get through PUBLIC that migration V15 revokes: revoking needs
/// the database's owner (TEMP) or a superuser (functions), so a migration run by another role
/// leaves them. Warnings, naming what to revoke.
async fn public_privilege_warnings(
    client: &tokio_postgres::Client,
) -> Result<Vec<String>, StartupError> {
    let mut warnings = Vec::new();
    for role in [RUNTIME_ROLE, ANON_ROLE] {
        let row = client
            .query_one(
                "select pg_catalog.has_database_privilege($1, pg_catalog.current_database(), 'TEMP'),
                        array(select f from unnest(array['lo_create(oid)', 'lo_from_bytea(oid,bytea)',
                                                         'pg_advisory_lock(bigint)',
                                                         'pg_notify(text,text)']) f
                               where pg_catalog.has_function_privilege($1, f, 'EXECUTE'))",
                &[&role],
            )
            .await?;
        let (temp, functions): (bool, Vec<String>) = (row.get(0), row.get(1));
        if temp {
            warnings.push(format!(
                "{role} can create temporary tables in this database: \
                 REVOKE TEMPORARY ON DATABASE <this database> FROM PUBLIC"
            ));
        }
        if !functions.is_empty() {
            warnings.push(format!(
                "{role} can execute {}: run the migrations as a superuser, or REVOKE EXECUTE \
                 ON these FUNCTIONs FROM PUBLIC",
                functions.join(", ")
            ));
        }
    }
    Ok(warnings)
}

/// Why `role` could not serve as a request role: it must exist, and be NOSUPERUSER,
/// NOBYPASSRLS, NOLOGIN, a member of no other role (no SET ROLE escape) and own nothing.
async fn runtime_role_problems(
    client: &tokio_postgres::Client,
    role: &str,
) -> Result<Vec<String>, StartupError> {
    let row = client
        .query_opt(
            "select r.rolsuper, r.rolbypassrls, r.rolcanlogin,
                    exists (select 1 from pg_catalog.pg_auth_members m where m.member = r.oid),
                    (select count(*) from pg_catalog.pg_class c where c.relowner = r.oid)
                  + (select count(*) from pg_catalog.pg_namespace n where n.nspowner = r.oid)
             from pg_catalog.pg_roles r where r.rolname = $1",
            &[&role],
        )
        .await?;
    let Some(row) = row else {
        return Ok(vec![format!(
            "the runtime role {role} does not exist: run the migrations"
        )]);
    };
    let (superuser, bypassrls, login, member, owns): (bool, bool, bool, bool, i64) =
        (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4));
    let mut problems = Vec::new();
    if superuser {
        problems.push(format!("{role} is SUPERUSER"));
    }
    if bypassrls {
        problems.push(format!("{role} has BYPASSRLS"));
    }
    if login {
        problems.push(format!("{role} can LOGIN"));
    }
    if member {
        problems.push(format!(
            "{role} is a member of another role and could SET ROLE to it"
        ));
    }
    if owns > 0 {
        problems.push(format!("{role} owns {owns} relation(s) or schema(s)"));
    }
    Ok(problems)
}

async fn connect(config: &tokio_postgres::Config) -> Result<tokio_postgres::Client, StartupError> {
    let timeout = config
        .get_connect_timeout()
        .copied()
        .unwrap_or(Duration::from_secs(10));
    let (client, connection) = tokio::time::timeout(timeout, config.connect(NoTls))
        .await
        .map_err(|_| StartupError::ConnectTimeout(timeout))?
        .map_err(StartupError::Connect)?;
    tokio::spawn(async move {
        if let Err(err) = connection.await {
            tracing::debug!(error = %err, "start-up connection closed with an error");
        }
    });
    Ok(client)
}

/// Waits, with exponential backoff, until the PostgreSQL server of `config` accepts
/// connections (a missing database counts as reachable: it can be created), for at most
/// `limit`. Each failed attempt is logged with the delay before the next one.
pub async fn wait_until_reachable(
    config: &tokio_postgres::Config,
    limit: Duration,
) -> Result<(), StartupError> {
    let started = tokio::time::Instant::now();
    let backoff = Backoff {
        first: Duration::from_millis(100),
        max: Duration::from_secs(2),
        attempts: u32::MAX,
        within: limit,
    };
    let reachable = || async {
        match connect(config).await {
            Ok(_) => Ok(()),
            Err(StartupError::Connect(err))
                if err.code() == Some(&tokio_postgres::error::SqlState::INVALID_CATALOG_NAME) =>
            {
                Ok(())
            }
            Err(err) => Err(err),
        }
    };
    backoff
        .retry(
            reachable,
            |_| true,
            |attempt, err, pause| {
                tracing::warn!(
                    attempt,
                    retry_in_ms = pause.as_millis() as u64,
                    error = %err,
                    "database unreachable at start-up; retrying"
                );
            },
        )
        .await
        .map_err(|last| StartupError::Unreachable {
            waited: started.elapsed(),
            last: last.to_string(),
        })
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Creates the configured database when it does not exist (connecting to `postgres`).
pub async fn ensure_database(config: &tokio_postgres::Config) -> Result<(), StartupError> {
    let Some(name) = config.get_dbname().map(str::to_owned) else {
        return Err(StartupError::Pool(
            "the database URL names no database".into(),
        ));
    };
    let mut admin = config.clone();
    admin.dbname("postgres");
    let client = connect(&admin).await?;
    let exists = client
        .query_opt(
            "select 1 from pg_catalog.pg_database where datname = $1",
            &[&name],
        )
        .await?
        .is_some();
    if exists {
        return Ok(());
    }
    // Identifiers cannot be bound; the name is quoted as an identifier.
    match client
        .batch_execute(&format!("CREATE DATABASE {}", quote_ident(&name)))
        .await
    {
        Ok(()) => {
            tracing::info!(database = %name, "created the database");
            Ok(())
        }
        Err(err) if err.code() == Some(&tokio_postgres::error::SqlState::DUPLICATE_DATABASE) => {
            Ok(())
        }
        Err(source) => Err(StartupError::CreateDatabase { name, source }),
    }
}

/// An arbitrary but fixed advisory-lock key: one migrator at a time per database.
const MIGRATION_LOCK_KEY: i64 = 0x7465_6e61_6e74_7279; // "tenantry"

/// Session settings of the migration connection, for a Citus coordinator (elsewhere they are
/// unused placeholders). A migration that adds a tenant table creates it, with its foreign
/// keys to `organizations` (a reference table) and to distributed tables, while it is still
/// local, then distributes it with `app.distribute_table`: Citus would otherwise turn it into a
/// "Citus local table" at its first foreign key and then refuse to distribute it. And a
/// migration may add a trigger to a distributed table, which Citus refuses by default;
/// Tenantry's triggers touch only their row, its organization's rows (one shard) and the
/// reference table.
const MIGRATION_SESSION: &str = "SET citus.enable_local_reference_table_foreign_keys = off;
     SET citus.enable_unsafe_triggers = on";

/// Applies pending migrations from `sql/migrations/` (embedded at build time). Concurrent
/// starts of several instances serialise on an advisory lock. On a Citus coordinator whose
/// schema is distributed, it then distributes what the migrations added and lets the roles
/// log in to the workers again (see [`distribute`]).
pub async fn migrate(config: &tokio_postgres::Config) -> Result<usize, StartupError> {
    let mut client = connect(config).await?;
    client.batch_execute(MIGRATION_SESSION).await?;
    client
        .execute(
            "select pg_catalog.pg_advisory_lock($1)",
            &[&MIGRATION_LOCK_KEY],
        )
        .await?;
    let report = embedded::migrations::runner()
        .set_abort_divergent(true)
        .run_async(&mut client)
        .await;
    let redistributed = if report.is_ok() {
        redistribute_if_distributed(&client).await.map(Some)
    } else {
        Ok(None)
    };
    // The lock dies with the session anyway; release it explicitly for clarity.
    let _ = client
        .execute(
            "select pg_catalog.pg_advisory_unlock($1)",
            &[&MIGRATION_LOCK_KEY],
        )
        .await;
    let applied = report?.applied_migrations().len();
    if let Some(Some(distribution)) = redistributed? {
        distribution.log();
    }
    Ok(applied)
}

/// What [`distribute`] did.
#[derive(Debug, Default)]
pub struct Distribution {
    /// Tables it made a reference table or distributed now (`app.x`, what was done).
    pub changed: Vec<(String, String)>,
    /// The roles it let log in to the workers.
    pub worker_roles: Vec<String>,
}

impl Distribution {
    fn log(&self) {
        for (relation, action) in &self.changed {
            tracing::info!(relation = %relation, action = %action, "distributed");
        }
        tracing::info!(
            roles = %self.worker_roles.join(", "),
            "these roles may log in to the Citus workers"
        );
    }
}

/// Runs `app.distribute()`, then `app.grant_worker_login()` for the roles of
/// `ops/worker_roles.sql` and `app.restrict_public_on_workers()`; a failure names the database's
/// reason (Citus missing, a table that cannot be distributed, a worker refusing a role).
async fn distribute_schema(client: &tokio_postgres::Client) -> Result<Distribution, StartupError> {
    let reason = |err: tokio_postgres::Error| {
        StartupError::Distribute(match err.as_db_error() {
            Some(db) => match db.hint() {
                Some(hint) => format!("{} ({hint})", db.message()),
                None => db.message().to_owned(),
            },
            None => err.to_string(),
        })
    };
    distribute_steps(client).await.map_err(reason)
}

async fn distribute_steps(
    client: &tokio_postgres::Client,
) -> Result<Distribution, tokio_postgres::Error> {
    let changed = client
        .query("select relation, action from app.distribute()", &[])
        .await?
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    let roles: Vec<String> = client
        .query(crate::sql!("ops/worker_roles.sql").text(), &[])
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let worker_roles = client
        .query(
            "select app.grant_worker_login($1::text[]::name[])::text",
            &[&roles],
        )
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    client
        .execute("select app.restrict_public_on_workers()", &[])
        .await?;
    Ok(Distribution {
        changed,
        worker_roles,
    })
}

/// After a migration run: distribute again when the schema is distributed (new tables, and
/// the worker log-ins that migrations restating NOLOGIN took away). `None` elsewhere.
async fn redistribute_if_distributed(
    client: &tokio_postgres::Client,
) -> Result<Option<Distribution>, StartupError> {
    let distributed: bool = client
        .query_one("select app.is_distributed()", &[])
        .await?
        .get(0);
    if !distributed {
        return Ok(None);
    }
    distribute_schema(client).await.map(Some)
}

/// `tenantry distribute`, on a Citus coordinator whose migrations are current: makes
/// `organizations` a reference table and distributes every other table of the schema by
/// `org_id`, colocated (`app.distribute()`), then lets the roles Citus connects as log in to
/// the workers (`ops/worker_roles.sql`, `app.grant_worker_login()`). Idempotent; holds the
/// migration lock.
pub async fn distribute(config: &tokio_postgres::Config) -> Result<Distribution, StartupError> {
    let client = connect(config).await?;
    client.batch_execute(MIGRATION_SESSION).await?;
    client
        .execute(
            "select pg_catalog.pg_advisory_lock($1)",
            &[&MIGRATION_LOCK_KEY],
        )
        .await?;
    let result = async {
        let applied: i32 = client
            .query_one(
                "select coalesce(max(version), 0)::int4 from refinery_schema_history",
                &[],
            )
            .await
            .map_err(|_| StartupError::Distribute("the database is not migrated: run `tenantry migrate` first".into()))?
            .get(0);
        if let Some(latest) = latest_migration_version()
            && applied < latest
        {
            return Err(StartupError::Distribute(format!(
                "the database is at migration {applied}, this build expects {latest}: run `tenantry migrate` first"
            )));
        }
        distribute_schema(&client).await
    }
    .await;
    let _ = client
        .execute(
            "select pg_catalog.pg_advisory_unlock($1)",
            &[&MIGRATION_LOCK_KEY],
        )
        .await;
    let distribution = result?;
    distribution.log();
    Ok(distribution)
}

/// Deletes what the retention period has expired (see migration V8), connecting as the
/// migration role; returns how many rows of each kind went.
pub async fn purge(
    config: &tokio_postgres::Config,
    retention_days: u32,
) -> Result<Vec<(String, i64)>, StartupError> {
    let client = connect(config).await?;
    let days = i32::try_from(retention_days).unwrap_or(i32::MAX);
    let rows = client
        .query(crate::sql!("maintenance/purge.sql").text(), &[&days])
        .await?;
    Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
}

/// Deletes events older than `event_retention_days` (see migration V20; the webhook
/// deliveries of those events join `app.purge_events`), connecting as the migration role;
/// returns how many rows of each kind went.
pub async fn purge_events(
    config: &tokio_postgres::Config,
    event_retention_days: u32,
) -> Result<Vec<(String, i64)>, StartupError> {
    let client = connect(config).await?;
    let days = i32::try_from(event_retention_days).unwrap_or(i32::MAX);
    let rows = client
        .query(crate::sql!("maintenance/purge_events.sql").text(), &[&days])
        .await?;
    Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
}

/// The newest migration version compiled into this binary.
pub fn latest_migration_version() -> Option<i32> {
    embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| m.version())
        .max()
}
