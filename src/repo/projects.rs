//! `sql/queries/projects/*.sql`.

use tokio_postgres::Row;
use uuid::Uuid;

use super::col;
use crate::db::{Sql, TenantTx};
use crate::domain::{Actor, Project, ProjectId, ProjectOrder, ProjectStatus, UserId};
use crate::error::AppError;
use crate::sql;

impl TryFrom<&Row> for Project {
    type Error = AppError;

    fn try_from(row: &Row) -> Result<Self, AppError> {
        let status: &str = col(row, "status")?;
        Ok(Self {
            id: ProjectId::from_uuid(col(row, "id")?),
            name: col(row, "name")?,
            description: col(row, "description")?,
            owner_id: UserId::from_uuid(col(row, "owner_id")?),
            status: ProjectStatus::parse(status)
                .ok_or_else(|| AppError::internal(format!("unknown status {status:?}")))?,
            version: col(row, "version")?,
            created_at: col(row, "created_at")?,
            updated_at: col(row, "updated_at")?,
            created_by: Actor::from_columns(col(row, "created_by_type")?, col(row, "created_by")?)
                .map_err(AppError::internal)?,
            updated_by: Actor::from_columns(col(row, "updated_by_type")?, col(row, "updated_by")?)
                .map_err(AppError::internal)?,
            deleted_at: col(row, "deleted_at")?,
        })
    }
}

pub(crate) struct NewProject<'a> {
    pub id: ProjectId,
    pub name: &'a str,
    pub description: &'a str,
    pub owner_id: UserId,
    pub status: ProjectStatus,
}

#[derive(Default)]
pub(crate) struct ProjectChanges<'a> {
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    pub owner_id: Option<UserId>,
    pub status: Option<ProjectStatus>,
}

/// The statement of each list order: each is its own statement (no SQL is built at run time).
fn list_sql(order: ProjectOrder) -> Sql {
    match order {
        ProjectOrder::Created => sql!("projects/list_by_created.sql"),
        ProjectOrder::CreatedDesc => sql!("projects/list_by_created_desc.sql"),
        ProjectOrder::Name => sql!("projects/list_by_name.sql"),
        ProjectOrder::NameDesc => sql!("projects/list_by_name_desc.sql"),
    }
}

pub(crate) struct Filter<'a> {
    pub status: Option<ProjectStatus>,
    pub owner_id: Option<UserId>,
    /// Names whose key starts with this prefix's key (the database computes both keys).
    pub name_prefix: Option<&'a str>,
    pub include_deleted: bool,
}

pub(crate) async fn insert(tx: &mut TenantTx, p: &NewProject<'_>) -> Result<Project, AppError> {
    let org_id = *tx.org_id().as_uuid();
    let row = tx
        .query_one(
            &sql!("projects/insert.sql"),
            &[
                &org_id,
                p.id.as_uuid(),
                &p.name,
                &p.description,
                p.owner_id.as_uuid(),
                &p.status.as_str(),
            ],
        )
        .await?;
    Project::try_from(&row)
}

async fn one(tx: &mut TenantTx, sql: Sql, id: ProjectId) -> Result<Option<Project>, AppError> {
    let org_id = *tx.org_id().as_uuid();
    tx.query_opt(&sql, &[&org_id, id.as_uuid()])
        .await?
        .as_ref()
        .map(Project::try_from)
        .transpose()
}

pub(crate) async fn get(tx: &mut TenantTx, id: ProjectId) -> Result<Option<Project>, AppError> {
    one(tx, sql!("projects/get.sql"), id).await
}

/// The live project, locked until the transaction ends.
pub(crate) async fn get_for_update(
    tx: &mut TenantTx,
    id: ProjectId,
) -> Result<Option<Project>, AppError> {
    one(tx, sql!("projects/get_for_update.sql"), id).await
}

/// The project, deleted or not, locked.
pub(crate) async fn get_any(tx: &mut TenantTx, id: ProjectId) -> Result<Option<Project>, AppError> {
    one(tx, sql!("projects/get_any.sql"), id).await
}

/// A page of projects, each with its sort key (`name_key`) as the database computed it: the
/// next page's cursor carries that key back, so the service never computes one.
pub(crate) async fn list(
    tx: &mut TenantTx,
    order: ProjectOrder,
    filter: &Filter<'_>,
    after: Option<(Uuid, Option<String>)>,
    limit: i64,
) -> Result<Vec<(Project, String)>, AppError> {
    let org_id = *tx.org_id().as_uuid();
    let status = filter.status.map(ProjectStatus::as_str);
    let owner = filter.owner_id.map(|id| *id.as_uuid());
    let (after_id, after_key) = match after {
        Some((id, key)) => (Some(id), key),
        None => (None, None),
    };
    let rows = tx
        .query(
            &list_sql(order),
            &[
                &org_id,
                &status,
                &owner,
                &filter.name_prefix,
                &filter.include_deleted,
                &after_id,
                &after_key,
                &limit,
            ],
        )
        .await?;
    rows.iter()
        .map(|row| Ok((Project::try_from(row)?, col(row, "name_key")?)))
        .collect()
}

pub(crate) async fn update(
    tx: &mut TenantTx,
    id: ProjectId,
    changes: &ProjectChanges<'_>,
) -> Result<Option<Project>, AppError> {
    let org_id = *tx.org_id().as_uuid();
    let owner = changes.owner_id.map(|id| *id.as_uuid());
    let status = changes.status.map(ProjectStatus::as_str);
    tx.query_opt(
        &sql!("projects/update.sql"),
        &[
            &org_id,
            id.as_uuid(),
            &changes.name,
            &changes.description,
            &owner,
            &status,
        ],
    )
    .await?
    .as_ref()
    .map(Project::try_from)
    .transpose()
}

/// Soft-deletes the live project and returns it as removed.
pub(crate) async fn delete(tx: &mut TenantTx, id: ProjectId) -> Result<Option<Project>, AppError> {
    one(tx, sql!("projects/delete.sql"), id).await
}

pub(crate) async fn restore(tx: &mut TenantTx, id: ProjectId) -> Result<Option<Project>, AppError> {
    one(tx, sql!("projects/restore.sql"), id).await
}
