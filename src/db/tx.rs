//! [`TenantTx`] and [`AnonTx`]: the only ways to run SQL during a request.
//!
//! Both are one PostgreSQL transaction whose first statements switch to a role that cannot
//! bypass RLS: the runtime role `tenantry_app` for a [`TenantTx`], which then sets
//! `app.org_id`, `app.user_id` and `app.role` transaction-locally; the pre-authentication role
//! `tenantry_anon` for an [`AnonTx`], which may only call the log-in and refresh functions and
//! read the migration history (tenant transactions cannot call those functions). These
//! statements are not sent when the transaction is created: they are pipelined with its first
//! query, so setting the tenant context costs no extra round trip. For a request that is
//! `BEGIN`, `SET LOCAL ROLE tenantry_app`, the setting that lets Citus forward `SET LOCAL` to
//! its workers, and one prepared, bound `SELECT app.enter($1, $2, $3)` that sets the
//! settings with `SET LOCAL`, checks the session and returns the user's current role (for an
//! API key, `SELECT app.enter_key($1, $2, $3)`, which checks the key the same way): no SQL
//! text is built per request, and each statement is its own message (Citus forwards a
//! multi-statement string whole and fails).
//!
//! Dropping a transaction without [`TenantTx::commit`] rolls it back before its connection
//! returns to the pool, so no request ever sees another's transaction or settings.

use std::time::Instant;

use deadpool_postgres::Object;
use futures_util::future::{join, join_all, join3, try_join_all};
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};
use uuid::Uuid;

use super::Sql;
use crate::auth::{Caller, Person, Principal};
use crate::domain::{OrgId, Role, UserId};
use crate::error::AppError;
use crate::metrics::METRICS;

/// The role every tenant transaction runs as. It owns nothing and cannot bypass RLS.
pub const RUNTIME_ROLE: &str = "tenantry_app";
/// The role pre-authentication transactions run as (log-in, refresh, readiness): it may
/// execute the pre-authentication functions and nothing else (migration V15).
pub const ANON_ROLE: &str = "tenantry_anon";

/// Bind parameters of a statement.
pub type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// The statement that opens a request's tenant context (migration V10).
const ENTER: &str = "SELECT app.enter($1, $2, $3)";
/// The statement that opens an API key's tenant context (migration V19).
const ENTER_KEY: &str = "SELECT app.enter_key($1, $2, $3)";
const BEGIN: &str = "BEGIN";
const COMMIT: &str = "COMMIT";
/// `SET LOCAL ROLE` + [`RUNTIME_ROLE`] (a test keeps the two in step).
const SET_ROLE: &str = "SET LOCAL ROLE tenantry_app";
/// `SET LOCAL ROLE` + [`ANON_ROLE`].
const SET_ANON_ROLE: &str = "SET LOCAL ROLE tenantry_anon";
/// On Citus, RLS is enforced again on each shard, so the workers need the tenant settings:
/// this makes Citus forward the transaction's later `SET LOCAL` statements to them. Sent in
/// tenant transactions only, after the role switch: Citus already connects to the workers as
/// the current role, and a forwarded `SET ROLE` would fail inside the pre-authentication
/// `SECURITY DEFINER` functions (so anonymous transactions never send it). Without Citus,
/// PostgreSQL keeps it as an unused placeholder setting.
const FORWARD_SETTINGS: &str = "SET LOCAL citus.propagate_set_commands = 'local'";

/// How a transaction's context is set, ahead of its first query (after BEGIN and the role).
enum Setup {
    /// An authenticated request: `app.enter(org, user, session)`.
    Session {
        org: Uuid,
        user: Uuid,
        session: Uuid,
    },
    /// A request authenticated by an API key: `app.enter_key(org, key, secret_hash)`.
    ApiKey {
        org: Uuid,
        key: Uuid,
        secret_hash: [u8; 32],
    },
    /// Sign-up and log-in (no session to check yet), as [`RUNTIME_ROLE`], and
    /// pre-authentication, as [`ANON_ROLE`] without any statement: the role switch
    /// `role` then these fixed `SET LOCAL` statements, built only from typed values.
    Statements {
        role: &'static str,
        statements: Vec<String>,
    },
}

/// Where a transaction is in its life.
enum State {
    /// Nothing sent yet: this opens it, ahead of the first query.
    Pending(Setup),
    /// BEGIN was sent; dropping now must roll back.
    Open,
    /// Committed (or never opened): the connection is clean.
    Finished,
}

/// The shared machinery of both transaction kinds.
struct Tx {
    client: Option<Object>,
    state: State,
    /// When BEGIN was sent, for the transaction-duration metric.
    opened: Option<Instant>,
    /// A statement was sent and its answer not yet received: dropping now must cancel it.
    busy: bool,
    /// The caller's role as the database knows it, once the setup has answered.
    role: Option<Role>,
    /// The next statement is the last: send COMMIT in the same round trip.
    commit_with_next: bool,
    /// Statements to run last, in the COMMIT's round trip (the events of the change).
    before_commit: Vec<Deferred>,
}

/// A statement queued to run right before COMMIT, with its own parameters.
struct Deferred {
    sql: Sql,
    params: Vec<Box<dyn ToSql + Send + Sync>>,
}

impl Tx {
    fn new(client: Object, setup: Setup) -> Self {
        Self {
            client: Some(client),
            state: State::Pending(setup),
            opened: None,
            busy: false,
            role: None,
            commit_with_next: false,
            before_commit: Vec::new(),
        }
    }

    /// Records what the opening answered (the role read by `app.enter`) and whether a
    /// pipelined COMMIT closed the transaction. Whatever failed before it, a COMMIT the
    /// server answered ended the transaction: rolling back again would only draw a "there is
    /// no transaction in progress" warning.
    fn absorb<T>(&mut self, outcome: Outcome<T>) -> Result<T, AppError> {
        self.busy = false;
        let Outcome {
            role,
            value,
            committed,
        } = outcome;
        let value = match committed {
            // After a failed statement the server answers COMMIT with a rollback; a COMMIT
            // that fails (a deferred check, a serialization failure) rolls back too.
            Some(result) if ended_by_server(&result) => {
                self.state = State::Finished;
                self.record_duration();
                value.and_then(|value| result.map(|()| value).map_err(AppError::from))
            }
            // No answer: the outcome is unknown, Drop discards the connection.
            Some(Err(err)) => value.and(Err(err.into())),
            Some(Ok(())) | None => value,
        };
        if let Some(role) = role {
            self.role = Some(
                Role::parse(&role)
                    .ok_or_else(|| AppError::internal(format!("unknown role {role:?}")))?,
            );
        }
        value
    }

    /// The connection and, on the first call, what must precede the query.
    fn prepare(&mut self) -> Result<(&Object, Option<Setup>), AppError> {
        let setup = match std::mem::replace(&mut self.state, State::Open) {
            State::Pending(setup) => {
                self.opened = Some(Instant::now());
                Some(setup)
            }
            State::Open => None,
            State::Finished => {
                self.state = State::Finished;
                return Err(AppError::internal("query on a finished transaction"));
            }
        };
        self.busy = true;
        let client = self
            .client
            .as_ref()
            .ok_or_else(|| AppError::internal("transaction without a connection"))?;
        Ok((client, setup))
    }

    async fn query(&mut self, sql: &Sql, params: Params<'_>) -> Result<Vec<Row>, AppError> {
        let commit = std::mem::take(&mut self.commit_with_next);
        let (client, setup) = self.prepare()?;
        let outcome = pipelined(client, setup, Some(sql), params, Work::Rows, commit).await;
        self.absorb(outcome).map(Done::rows)
    }

    async fn execute(&mut self, sql: &Sql, params: Params<'_>) -> Result<u64, AppError> {
        let commit = std::mem::take(&mut self.commit_with_next);
        let (client, setup) = self.prepare()?;
        let outcome = pipelined(client, setup, Some(sql), params, Work::Count, commit).await;
        self.absorb(outcome).map(Done::count)
    }

    /// Opens the transaction, enters its context and commits, in one round trip: nothing
    /// but what the opening answers (the caller's role).
    async fn enter_and_commit(&mut self) -> Result<(), AppError> {
        if !matches!(self.state, State::Pending(_)) {
            return Err(AppError::internal(
                "the context is entered by the first statement",
            ));
        }
        let (client, setup) = self.prepare()?;
        let outcome = pipelined(client, setup, None, &[], Work::Count, true).await;
        self.absorb(outcome).map(drop)
    }

    async fn commit(mut self) -> Result<(), AppError> {
        let deferred = std::mem::take(&mut self.before_commit);
        match std::mem::replace(&mut self.state, State::Finished) {
            // A statement queued for the commit would be lost: that is a bug, and the
            // transaction (if open) rolls back when dropped.
            State::Pending(setup) if !deferred.is_empty() => {
                self.state = State::Pending(setup);
                Err(AppError::internal(
                    "statements queued in a transaction that ran none",
                ))
            }
            State::Finished if !deferred.is_empty() => Err(AppError::internal(
                "statements queued after the transaction's COMMIT was sent",
            )),
            // Nothing was sent: there is nothing to commit.
            State::Pending(_) | State::Finished => Ok(()),
            State::Open => {
                let client = self
                    .client
                    .as_ref()
                    .ok_or_else(|| AppError::internal("transaction without a connection"))?;
                self.busy = true;
                let (ran, result) = run_then_commit(client, &deferred).await;
                self.busy = false;
                if ended_by_server(&result) {
                    self.record_duration();
                } else {
                    // Unknown outcome: let Drop roll back (or discard) the connection.
                    self.state = State::Open;
                    self.busy = true;
                }
                // A failed deferred statement made the server answer COMMIT with a rollback.
                ran?;
                result.map_err(AppError::from)
            }
        }
    }
}

/// Runs the deferred statements and COMMIT in one pipeline: every request is written before
/// any answer is awaited (`join` polls in order and tokio-postgres sends a request on its
/// future's first poll). The statements are prepared first (cached per connection: no round
/// trip after a connection's first use), so that a prepare cannot reorder them.
async fn run_then_commit(
    client: &Object,
    deferred: &[Deferred],
) -> (Result<(), AppError>, Result<(), tokio_postgres::Error>) {
    let mut statements = Vec::with_capacity(deferred.len());
    for d in deferred {
        match client.prepare_cached(d.sql.text()).await {
            Ok(statement) => statements.push(statement),
            // Nothing of the pipeline was sent: COMMIT alone now rolls the change back,
            // because the caller's error must not commit a change without its event.
            Err(err) => {
                let rollback = client.batch_execute("ROLLBACK").await;
                return (Err(err.into()), rollback);
            }
        }
    }
    let params: Vec<Vec<&(dyn ToSql + Sync)>> = deferred
        .iter()
        .map(|d| {
            d.params
                .iter()
                .map(|p| p.as_ref() as &(dyn ToSql + Sync))
                .collect()
        })
        .collect();
    let runs = join_all(
        statements
            .iter()
            .zip(&params)
            .map(|(statement, params)| client.execute(statement, params)),
    );
    let (ran, committed) = join(runs, client.simple_query(COMMIT)).await;
    let ran = ran
        .into_iter()
        .find_map(Result::err)
        .map_or(Ok(()), |err| Err(AppError::from(err)));
    (ran, committed.map(drop))
}

impl Tx {
    fn defer(&mut self, sql: Sql, params: Vec<Box<dyn ToSql + Send + Sync>>) {
        self.before_commit.push(Deferred { sql, params });
    }
}

/// What a statement's caller wants back.
#[derive(Clone, Copy)]
enum Work {
    Rows,
    Count,
}

enum Done {
    Rows(Vec<Row>),
    Count(u64),
}

impl Done {
    fn rows(self) -> Vec<Row> {
        match self {
            Done::Rows(rows) => rows,
            Done::Count(_) => Vec::new(),
        }
    }

    fn count(self) -> u64 {
        match self {
            Done::Count(count) => count,
            Done::Rows(rows) => rows.len() as u64,
        }
    }
}

/// Runs the statement, if any (a transaction may only enter its context).
async fn run(
    client: &Object,
    statement: Option<&tokio_postgres::Statement>,
    params: Params<'_>,
    work: Work,
) -> Result<Done, tokio_postgres::Error> {
    let Some(statement) = statement else {
        return Ok(Done::Count(0));
    };
    match work {
        Work::Rows => client.query(statement, params).await.map(Done::Rows),
        Work::Count => client.execute(statement, params).await.map(Done::Count),
    }
}

/// What a pipeline answered.
struct Outcome<T> {
    /// The role `app.enter` read, when the pipeline opened a request's context.
    role: Option<String>,
    /// The result of the opening and the statement; an error of the opening wins.
    value: Result<T, AppError>,
    /// The pipelined COMMIT's answer, when one was sent: it is reported even when the opening
    /// or the statement failed, because it decides whether the transaction is still open.
    committed: Option<Result<(), tokio_postgres::Error>>,
}

impl<T> Outcome<T> {
    /// Nothing after the failed step was sent (or it failed before the COMMIT was written).
    fn failed(err: tokio_postgres::Error) -> Self {
        Self {
            role: None,
            value: Err(err.into()),
            committed: None,
        }
    }
}

/// True when the server answered a COMMIT (with success or with an error): either way, the
/// transaction is over. Without an answer (the connection broke) the outcome is unknown.
fn ended_by_server(result: &Result<(), tokio_postgres::Error>) -> bool {
    match result {
        Ok(()) => true,
        Err(err) => err.as_db_error().is_some(),
    }
}

/// Sends COMMIT when `commit` says so (after everything polled before it).
async fn commit_if(client: &Object, commit: bool) -> Option<Result<(), tokio_postgres::Error>> {
    if commit {
        Some(client.simple_query(COMMIT).await.map(drop))
    } else {
        None
    }
}

/// Runs the transaction's opening (when given), one statement and, for a transaction's last
/// statement, its COMMIT, in one pipeline: every request is written before any response is
/// awaited. `join` polls in order and tokio-postgres sends a request on its future's first
/// poll, so the server receives them in this order. Statements are prepared (and cached per
/// connection) before the pipeline's bound statements are sent, so that a first-time prepare
/// cannot reorder them.
///
/// An error of the opening wins over the statement's: after it, the statement only reports
/// the aborted transaction.
async fn pipelined(
    client: &Object,
    setup: Option<Setup>,
    sql: Option<&Sql>,
    params: Params<'_>,
    work: Work,
    commit: bool,
) -> Outcome<Done> {
    let prepare = || async {
        match sql {
            Some(sql) => client.prepare_cached(sql.text()).await.map(Some),
            None => Ok(None),
        }
    };
    let Some(setup) = setup else {
        let statement = match prepare().await {
            Ok(statement) => statement,
            Err(err) => return Outcome::failed(err),
        };
        let (value, committed) = join(
            run(client, statement.as_ref(), params, work),
            commit_if(client, commit),
        )
        .await;
        return Outcome {
            role: None,
            value: value.map_err(AppError::from),
            committed,
        };
    };
    let opening = match &setup {
        Setup::Session { .. } | Setup::ApiKey { .. } => vec![BEGIN, SET_ROLE, FORWARD_SETTINGS],
        Setup::Statements { role, .. } => vec![BEGIN, role],
    };
    let opening = try_join_all(opening.into_iter().map(|s| client.simple_query(s)));
    // The context's statement and its parameters: (org, user, session) or (org, key, hash).
    let (enter, org, caller, session, secret_hash) = match setup {
        Setup::Session { org, user, session } => (ENTER, org, user, Some(session), None),
        Setup::ApiKey {
            org,
            key,
            secret_hash,
        } => (ENTER_KEY, org, key, None, Some(secret_hash)),
        Setup::Statements { statements, .. } => {
            let settings = try_join_all(statements.iter().map(|s| client.simple_query(s)));
            let statement = async {
                let statement = prepare().await?;
                Ok::<_, tokio_postgres::Error>(
                    join(
                        run(client, statement.as_ref(), params, work),
                        commit_if(client, commit),
                    )
                    .await,
                )
            };
            let ((opened, set), chained) = join(join(opening, settings), statement).await;
            let opening_error = opened.and(set).err();
            let (value, committed) = match chained {
                Ok(chained) => chained,
                Err(err) => return Outcome::failed(opening_error.unwrap_or(err)),
            };
            return Outcome {
                role: None,
                value: value.map_err(AppError::from),
                committed,
            }
            .with_opening_error(opening_error);
        }
    };
    let hash: Option<&[u8]> = secret_hash.as_ref().map(|hash| &hash[..]);
    let proof: &(dyn ToSql + Sync) = match (&session, &hash) {
        (Some(session), _) => session,
        (None, hash) => hash,
    };
    let chain = async {
        let enter = client.prepare_cached(enter).await?;
        let statement = prepare().await?;
        let context_params: [&(dyn ToSql + Sync); 3] = [&org, &caller, proof];
        let context = client.query_one(&enter, &context_params);
        Ok::<_, tokio_postgres::Error>(
            join3(
                context,
                run(client, statement.as_ref(), params, work),
                commit_if(client, commit),
            )
            .await,
        )
    };
    let (opened, chained) = join(opening, chain).await;
    let (context, value, committed) = match chained {
        Ok(chained) => chained,
        Err(err) => return Outcome::failed(opened.err().unwrap_or(err)),
    };
    let (role, context_error) = match context.and_then(|row| row.try_get(0)) {
        Ok(role) => (Some(role), None),
        Err(err) => (None, Some(err)),
    };
    Outcome {
        role,
        value: value.map_err(AppError::from),
        committed,
    }
    .with_opening_error(opened.err().or(context_error))
}

impl<T> Outcome<T> {
    /// An error of the opening (BEGIN, the role, the context) replaces the statement's.
    fn with_opening_error(mut self, err: Option<tokio_postgres::Error>) -> Self {
        if let Some(err) = err {
            self.value = Err(err.into());
        }
        self
    }
}

impl Tx {
    fn record_duration(&mut self) {
        if let Some(opened) = self.opened.take() {
            METRICS
                .transaction_duration
                .observe(opened.elapsed().as_secs_f64());
        }
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        if !matches!(self.state, State::Open) {
            return; // the connection returns to the pool as it is: clean
        }
        self.record_duration();
        let Some(client) = self.client.take() else {
            return;
        };
        let busy = self.busy;
        match tokio::runtime::Handle::try_current() {
            // Roll back before the connection can be handed out again: the task owns it until
            // ROLLBACK is answered. A statement still running (the request was abandoned, e.g.
            // by its timeout) is cancelled instead and the connection discarded: a cancel
            // request is delivered asynchronously and could otherwise hit the next request's
            // statement. Closing the connection ends the transaction server-side. Any failure
            // means the connection's state is unknown: discard it too.
            Ok(runtime) => {
                runtime.spawn(async move {
                    if busy {
                        let _ = client.cancel_token().cancel_query(NoTls).await;
                        drop(Object::take(client));
                    } else if client.batch_execute("ROLLBACK").await.is_err() {
                        drop(Object::take(client));
                    }
                });
            }
            // No runtime to roll back on: closing the connection rolls back server-side.
            Err(_) => drop(Object::take(client)),
        }
    }
}

/// A transaction in one organization's context, for one principal. Repository functions that
/// touch tenant tables take `&mut TenantTx`, so the context cannot be forgotten.
#[must_use = "a transaction that is not committed is rolled back"]
pub struct TenantTx {
    inner: Tx,
    org_id: OrgId,
    /// The calling person; `None` for an API key.
    user_id: Option<UserId>,
}

impl TenantTx {
    /// A transaction for an authenticated request. Its last setup statement checks, in the
    /// same round trip, that the token's session is live and its user present, and sets
    /// `app.role` from the database; a dead session fails the first query with 401.
    pub(crate) fn begin(client: Object, principal: &Principal) -> Self {
        let org = *principal.org_id().as_uuid();
        let setup = match principal.caller() {
            Caller::Session {
                user_id,
                session_id,
            } => Setup::Session {
                org,
                user: *user_id.as_uuid(),
                session: *session_id.as_uuid(),
            },
            Caller::ApiKey { id, secret_hash } => Setup::ApiKey {
                org,
                key: *id.as_uuid(),
                secret_hash: *secret_hash,
            },
        };
        Self {
            inner: Tx::new(client, setup),
            org_id: principal.org_id(),
            user_id: principal.user_id(),
        }
    }

    /// A transaction that creates the session of `person` of organization `org` (sign-up,
    /// log-in): there is no session to check yet, and `role` was just read from the database
    /// by the caller (or, at sign-up, is the owner's being created).
    pub(crate) fn begin_new_session(
        client: Object,
        org: OrgId,
        person: Person,
        role: Role,
    ) -> Self {
        let setup = Setup::Statements {
            role: SET_ROLE,
            statements: vec![
                FORWARD_SETTINGS.to_owned(),
                format!("SET LOCAL app.org_id = '{org}'"),
                format!("SET LOCAL app.user_id = '{}'", person.user_id),
                format!("SET LOCAL app.role = '{}'", role.as_str()),
            ],
        };
        let mut inner = Tx::new(client, setup);
        inner.role = Some(role);
        Self {
            inner,
            org_id: org,
            user_id: Some(person.user_id),
        }
    }

    /// A transaction in organization `org` for redeeming a token sent by email (accepting an
    /// invitation, resetting a password, verifying an address): no person yet. Its first
    /// statement must be the redeeming function (`app.redeem_invitation`,
    /// `app.redeem_user_token`), which checks the token and enters, with `SET LOCAL`, the
    /// context of the person it acts for (the policies then judge every later statement as
    /// theirs).
    pub(crate) fn begin_for_token(client: Object, org: OrgId) -> Self {
        let setup = Setup::Statements {
            role: SET_ROLE,
            statements: vec![
                FORWARD_SETTINGS.to_owned(),
                format!("SET LOCAL app.org_id = '{org}'"),
            ],
        };
        Self {
            inner: Tx::new(client, setup),
            org_id: org,
            user_id: None,
        }
    }

    /// Declares the next statement the transaction's last: its COMMIT travels in the same
    /// round trip, and [`TenantTx::commit`] then has nothing left to do. For read-only
    /// requests of one statement (a failed statement's COMMIT is a rollback).
    pub fn commit_with_next_statement(&mut self) {
        self.inner.commit_with_next = true;
    }

    /// Enters the context alone and commits, in one round trip, and returns the caller's role
    /// as the database has it: the cheap check that refuses a caller before expensive work
    /// (hashing), without holding a connection during that work. A dead session is 401.
    pub async fn current_role(mut self) -> Result<Role, AppError> {
        self.inner.enter_and_commit().await?;
        self.role()
    }

    /// The caller's role as stored in the database now, known once the first query ran.
    pub fn role(&self) -> Result<Role, AppError> {
        self.inner
            .role
            .ok_or_else(|| AppError::internal("the role is known only after the first query"))
    }

    /// The organization of this transaction's context. Queries also filter on it explicitly
    /// (`org_id = $1`) so the planner uses the index and Citus routes to one shard; RLS stays
    /// the guarantee.
    pub fn org_id(&self) -> OrgId {
        self.org_id
    }

    /// The calling person, `None` for an API key.
    pub fn user_id(&self) -> Option<UserId> {
        self.user_id
    }

    pub async fn query(&mut self, sql: &Sql, params: Params<'_>) -> Result<Vec<Row>, AppError> {
        self.inner.query(sql, params).await
    }

    pub async fn query_opt(
        &mut self,
        sql: &Sql,
        params: Params<'_>,
    ) -> Result<Option<Row>, AppError> {
        let mut rows = self.inner.query(sql, params).await?;
        if rows.len() > 1 {
            return Err(AppError::internal("query returned more than one row"));
        }
        Ok(rows.pop())
    }

    pub async fn query_one(&mut self, sql: &Sql, params: Params<'_>) -> Result<Row, AppError> {
        self.query_opt(sql, params)
            .await?
            .ok_or_else(|| AppError::internal("query returned no row"))
    }

    pub async fn execute(&mut self, sql: &Sql, params: Params<'_>) -> Result<u64, AppError> {
        self.inner.execute(sql, params).await
    }

    /// Queues `sql` to run last, in the same round trip as COMMIT (the transaction's events):
    /// it adds no round trip, and whatever it locks is held only while the server runs it and
    /// commits. If it fails, the server answers COMMIT with a rollback and [`TenantTx::commit`]
    /// returns its error: the change is not committed without it.
    pub fn run_before_commit(&mut self, sql: Sql, params: Vec<Box<dyn ToSql + Send + Sync>>) {
        self.inner.defer(sql, params);
    }

    pub async fn commit(self) -> Result<(), AppError> {
        self.inner.commit().await
    }
}

/// A transaction with no tenant context, as [`ANON_ROLE`], for the pre-authentication
/// `SECURITY DEFINER` functions only (log-in, refresh) and readiness. It has no privilege on
/// any tenant table.
#[must_use = "a transaction that is not committed is rolled back"]
pub struct AnonTx {
    inner: Tx,
}

impl AnonTx {
    pub(crate) fn begin(client: Object) -> Self {
        Self {
            inner: Tx::new(
                client,
                Setup::Statements {
                    role: SET_ANON_ROLE,
                    statements: Vec::new(),
                },
            ),
        }
    }

    pub async fn query(&mut self, sql: &Sql, params: Params<'_>) -> Result<Vec<Row>, AppError> {
        self.inner.query(sql, params).await
    }

    pub async fn commit(self) -> Result<(), AppError> {
        self.inner.commit().await
    }
}

/// A transaction of the mail worker: as [`ANON_ROLE`], without any tenant context (it has no
/// privilege on any table); it calls the worker's `SECURITY DEFINER` functions
/// (`app.mail_due_orgs`, `app.claim_emails`, `app.finish_email`, migration V30), which refuse
/// to run inside a tenant context.
#[must_use = "a transaction that is not committed is rolled back"]
pub struct WorkerTx {
    inner: Tx,
}

impl WorkerTx {
    pub(crate) fn begin(client: Object) -> Self {
        Self {
            inner: Tx::new(
                client,
                Setup::Statements {
                    role: SET_ANON_ROLE,
                    statements: Vec::new(),
                },
            ),
        }
    }

    pub async fn query(&mut self, sql: &Sql, params: Params<'_>) -> Result<Vec<Row>, AppError> {
        self.inner.query(sql, params).await
    }

    pub async fn execute(&mut self, sql: &Sql, params: Params<'_>) -> Result<u64, AppError> {
        self.inner.execute(sql, params).await
    }

    pub async fn commit(self) -> Result<(), AppError> {
        self.inner.commit().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_role_switches_name_the_roles() {
        assert_eq!(SET_ROLE, format!("SET LOCAL ROLE {RUNTIME_ROLE}"));
        assert_eq!(SET_ANON_ROLE, format!("SET LOCAL ROLE {ANON_ROLE}"));
    }
}
