//! The records the service works with: what the repositories read from the database, and what
//! the API maps to its response bodies. Neither layer's types leak into the other: the
//! repositories know nothing of JSON bodies, the API nothing of rows.
//!
//! Users and projects also serialize (serde) for idempotent replays: the first response of a
//! create is stored as its record and replayed through the same mapping as a fresh one. The
//! field names are those of the response bodies, so replays stored by earlier versions still
//! read.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{OrgId, ProjectId, ProjectStatus, Role, SessionId, UserId};

/// An organization (tenant).
#[derive(Debug, Clone)]
pub struct Organization {
    pub id: OrgId,
    pub slug: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A member of an organization, without its password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    /// Bumped by every change: the ETag.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set when the user was removed (soft delete).
    #[serde(default)]
    pub deleted_at: Option<DateTime<Utc>>,
}

/// A project, the example business resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    pub id: ProjectId,
    pub name: String,
    pub description: String,
    pub owner_id: UserId,
    pub status: ProjectStatus,
    /// Bumped by every change: the ETag.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default)]
    pub created_by: Option<Uuid>,
    #[serde(default)]
    pub updated_by: Option<Uuid>,
    #[serde(default)]
    pub deleted_at: Option<DateTime<Utc>>,
}

/// The orders a list of projects can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectOrder {
    /// Oldest first.
    Created,
    /// Newest first.
    CreatedDesc,
    /// By name, ignoring case.
    Name,
    /// By name, ignoring case, descending.
    NameDesc,
}

/// A live session as its user sees it (never its token hashes).
#[derive(Debug, Clone)]
pub struct Session {
    pub id: SessionId,
    pub user_agent: Option<String>,
    pub client_addr: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Replays stored before the records were stored hold the response body instead: it reads
    /// as the same record.
    #[test]
    fn a_response_body_stored_by_an_earlier_version_reads_as_the_record() {
        let stored = serde_json::json!({
            "id": "0192f3c4-5d6e-7f80-9a1b-2c3d4e5f6a7b",
            "name": "Apollo",
            "description": "",
            "owner_id": "0192f3c4-5d6e-7f80-9a1b-2c3d4e5f6a7c",
            "status": "archived",
            "version": 3,
            "created_at": "2026-11-28T10:00:00.123456+00:00",
            "updated_at": "2026-11-28T10:00:00.123456+00:00",
            "created_by": null,
            "updated_by": "0192f3c4-5d6e-7f80-9a1b-2c3d4e5f6a7c"
        });

        let project: Project = serde_json::from_value(stored).expect("a project");

        assert_eq!(project.status, ProjectStatus::Archived);
        assert_eq!(project.version, 3);
        assert_eq!(project.deleted_at, None);
        let again: Project =
            serde_json::from_value(serde_json::to_value(&project).expect("json")).expect("back");
        assert_eq!(again, project);
    }
}
