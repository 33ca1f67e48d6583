//! Projects, the example business resource: everyone reads the organization's live projects;
//! members create, edit, remove and restore their own, and see their own removed ones; owners
//! and admins all of that for every project. Whoever may remove a project may restore it and
//! see it while removed. A project's new owner must be a live user (the database's foreign
//! key settles it). Concurrency control by version (`If-Match`), idempotent creates, soft
//! delete and restore. The same rules hold in the database (RLS policies of V7 and V14).

use super::events;
use super::idempotency::{self, Idempotency};
use super::{AppState, MAX_PAGE_SIZE, Precondition, authorized, decode_cursor, paginate, retrying};
use crate::auth::Principal;
use crate::db::TenantTx;
use crate::domain::{
    Description, EventType, Position, Project, ProjectId, ProjectName, ProjectOrder, ProjectStatus,
    Role, UserId,
};
use crate::error::AppError;
use crate::repo::projects::{self, Filter, NewProject, ProjectChanges};

pub(crate) struct CreateProject {
    pub name: ProjectName,
    pub description: Description,
    /// Defaults to the caller.
    pub owner_id: Option<UserId>,
    pub status: ProjectStatus,
}

#[derive(Default)]
pub(crate) struct UpdateProject {
    pub name: Option<ProjectName>,
    pub description: Option<Description>,
    pub owner_id: Option<UserId>,
    pub status: Option<ProjectStatus>,
}

pub(crate) struct ListQuery<'a> {
    pub order: ProjectOrder,
    pub status: Option<ProjectStatus>,
    pub owner_id: Option<UserId>,
    pub name_prefix: Option<&'a str>,
    pub include_deleted: bool,
    pub cursor: Option<&'a str>,
    pub limit: u32,
}

fn manages(role: Role) -> bool {
    matches!(role, Role::Owner | Role::Admin)
}

/// Members act on their own projects only, and cannot give them away. `caller` is the calling
/// person: a member's API key is nobody, and owns no project.
fn authorize_edit(
    role: Role,
    caller: Option<UserId>,
    project: &Project,
    new_owner: Option<UserId>,
) -> Result<(), AppError> {
    if manages(role) {
        return Ok(());
    }
    if Some(project.owner_id) != caller {
        return Err(AppError::forbidden(
            "members change only their own projects",
        ));
    }
    if new_owner.is_some_and(|owner| Some(owner) != caller) {
        return Err(AppError::forbidden(
            "only owners and admins reassign projects",
        ));
    }
    Ok(())
}

/// Creates a project; with an idempotency key, a repeated request gets the project the first
/// one created.
pub(crate) async fn create(
    state: &AppState,
    principal: &Principal,
    input: CreateProject,
    idem: Option<Idempotency>,
) -> Result<Project, AppError> {
    // A person's project is theirs unless they name another owner; a key owns nothing and
    // names the owner.
    let owner_id = input.owner_id.or(principal.user_id()).ok_or_else(|| {
        AppError::validation(
            "owner_id",
            "is required when an API key creates a project (a key owns no projects)",
        )
    })?;
    let new_project = NewProject {
        id: ProjectId::generate(),
        name: input.name.as_str(),
        description: input.description.as_str(),
        owner_id,
        status: input.status,
    };
    let authorize = |role: Role| {
        if !manages(role) && Some(owner_id) != principal.user_id() {
            return Err(AppError::forbidden(
                "only owners and admins create projects for others",
            ));
        }
        Ok(())
    };
    let (new_project, idem, authorize) = (&new_project, &idem, &authorize);
    retrying(|| async move {
        let mut tx = state.db.tenant_tx(principal).await?;
        if let Some(project) = idempotency::replay(&mut tx, idem.as_ref(), authorize).await? {
            tx.commit().await?;
            return Ok(project);
        }
        let inserted = projects::insert(&mut tx, new_project).await;
        let project = authorized(&tx, inserted, authorize)?;
        if let Some(idem) = idem {
            idempotency::finish(&mut tx, idem, &project).await?;
        }
        events::record(&mut tx, EventType::ProjectCreated, &project);
        tx.commit().await?;
        Ok(project)
    })
    .await
}

pub(crate) async fn get(
    state: &AppState,
    principal: &Principal,
    id: ProjectId,
) -> Result<Project, AppError> {
    let mut tx = state.db.tenant_tx(principal).await?;
    tx.commit_with_next_statement();
    let project = projects::get(&mut tx, id).await?;
    tx.commit().await?;
    project.ok_or(AppError::NotFound)
}

pub(crate) async fn list(
    state: &AppState,
    principal: &Principal,
    query: ListQuery<'_>,
) -> Result<(Vec<Project>, Option<String>), AppError> {
    let limit = query.limit.clamp(1, MAX_PAGE_SIZE);
    // The cursor is bound to the order and the filters: it cannot be replayed on another list.
    let list = format!(
        "projects:{:?}:{:?}:{:?}:{:?}:{}",
        query.order, query.status, query.owner_id, query.name_prefix, query.include_deleted
    );
    let after = decode_cursor(state, principal.org_id(), &list, query.cursor)?;
    let filter = Filter {
        status: query.status,
        owner_id: query.owner_id,
        name_prefix: query.name_prefix,
        include_deleted: query.include_deleted,
    };
    let mut tx = state.db.tenant_tx(principal).await?;
    tx.commit_with_next_statement();
    let rows = projects::list(
        &mut tx,
        query.order,
        &filter,
        after.map(|p| (p.id, p.key)),
        i64::from(limit) + 1,
    )
    .await?;
    // With include_deleted, RLS shows a member only their own removed projects.
    tx.commit().await?;
    let by_name = matches!(query.order, ProjectOrder::Name | ProjectOrder::NameDesc);
    let (rows, next) = paginate(
        state,
        principal.org_id(),
        &list,
        rows,
        limit,
        |(p, name_key)| Position {
            id: *p.id.as_uuid(),
            // The database's key, as the list returned it.
            key: by_name.then(|| name_key.clone()),
        },
    );
    Ok((rows.into_iter().map(|(p, _)| p).collect(), next))
}

/// Locks the live project and checks the caller may edit it and the precondition holds.
async fn lock_for_edit(
    tx: &mut TenantTx,
    principal: &Principal,
    id: ProjectId,
    new_owner: Option<UserId>,
    precondition: Option<Precondition>,
) -> Result<Project, AppError> {
    let Some(project) = projects::get_for_update(tx, id).await? else {
        // FOR UPDATE only sees rows the caller may update (RLS applies the UPDATE policy):
        // tell "not yours" (403) from "not there" (404) with a plain read.
        let visible = projects::get(tx, id).await?.ok_or(AppError::NotFound)?;
        authorize_edit(tx.role()?, principal.user_id(), &visible, new_owner)?;
        return Err(AppError::NotFound);
    };
    authorize_edit(tx.role()?, principal.user_id(), &project, new_owner)?;
    Precondition::check(precondition, project.version)?;
    Ok(project)
}

pub(crate) async fn update(
    state: &AppState,
    principal: &Principal,
    id: ProjectId,
    input: UpdateProject,
    precondition: Option<Precondition>,
) -> Result<Project, AppError> {
    let changes = ProjectChanges {
        name: input.name.as_ref().map(ProjectName::as_str),
        description: input.description.as_ref().map(Description::as_str),
        owner_id: input.owner_id,
        status: input.status,
    };
    let changes = &changes;
    retrying(|| async move {
        let mut tx = state.db.tenant_tx(principal).await?;
        lock_for_edit(&mut tx, principal, id, changes.owner_id, precondition).await?;
        let project = projects::update(&mut tx, id, changes)
            .await?
            .ok_or(AppError::NotFound)?;
        events::record(&mut tx, EventType::ProjectUpdated, &project);
        tx.commit().await?;
        Ok(project)
    })
    .await
}

/// Soft-deletes a project: it leaves reads and lists, and its name becomes free.
pub(crate) async fn delete(
    state: &AppState,
    principal: &Principal,
    id: ProjectId,
    precondition: Option<Precondition>,
) -> Result<(), AppError> {
    retrying(|| async move {
        let mut tx = state.db.tenant_tx(principal).await?;
        lock_for_edit(&mut tx, principal, id, None, precondition).await?;
        let removed = projects::delete(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound)?;
        events::record(&mut tx, EventType::ProjectDeleted, &removed);
        tx.commit().await
    })
    .await
}

/// Restores a removed project (members their own, owners and admins any: who may remove it);
/// a live one is returned as it is. 409 `PROJECT_NAME_TAKEN` when a live project took its name
/// meanwhile. Another member's removed project is not visible to a member: 404.
pub(crate) async fn restore(
    state: &AppState,
    principal: &Principal,
    id: ProjectId,
) -> Result<Project, AppError> {
    retrying(|| async move {
        let mut tx = state.db.tenant_tx(principal).await?;
        let Some(project) = projects::get_any(&mut tx, id).await? else {
            // Like lock_for_edit: a live project of someone else is visible but not theirs
            // (403); anything else is not found.
            let visible = projects::get(&mut tx, id)
                .await?
                .ok_or(AppError::NotFound)?;
            authorize_edit(tx.role()?, principal.user_id(), &visible, None)?;
            return Err(AppError::NotFound);
        };
        authorize_edit(tx.role()?, principal.user_id(), &project, None)?;
        if project.deleted_at.is_none() {
            // Restoring a live project changes nothing: restore is idempotent.
            tx.commit().await?;
            return Ok(project);
        }
        let project = projects::restore(&mut tx, id)
            .await?
            .ok_or(AppError::NotFound)?;
        events::record(&mut tx, EventType::ProjectRestored, &project);
        tx.commit().await?;
        Ok(project)
    })
    .await
}
