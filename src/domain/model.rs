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

use super::{ApiKeyId, OrgId, ProjectId, ProjectStatus, Role, SessionId, UserId};

/// What kind of caller acted: a person (a user's session) or an API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    User,
    ApiKey,
}

impl ActorKind {
    /// The name the database stores (`created_by_type`, ...) and `app.current_actor_type()`
    /// returns.
    pub const fn as_str(self) -> &'static str {
        match self {
            ActorKind::User => "user",
            ActorKind::ApiKey => "api_key",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "user" => Some(ActorKind::User),
            "api_key" => Some(ActorKind::ApiKey),
            _ => None,
        }
    }
}

/// Who acted: the one definition that audit fields and events share. The database stamps the
/// same pair (`app.current_actor_type()`, `app.current_actor_id()`) from the transaction's
/// context, which the service sets from the [`crate::auth::Principal`] that yields this value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Actor {
    #[serde(rename = "type")]
    pub kind: ActorKind,
    pub id: Uuid,
}

impl Actor {
    /// The actor of an audit pair read from the database (`created_by_type`, `created_by`):
    /// none without an id (a row written outside any request).
    pub fn from_columns(kind: Option<&str>, id: Option<Uuid>) -> Result<Option<Self>, String> {
        let Some(id) = id else {
            return Ok(None);
        };
        kind.and_then(ActorKind::parse)
            .map(|kind| Some(Self { kind, id }))
            .ok_or_else(|| format!("actor {id} of unknown type {kind:?}"))
    }
}

/// Stored replays of records made before actors had a kind hold a bare user id.
impl<'de> Deserialize<'de> for Actor {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Stored {
            Actor {
                #[serde(rename = "type")]
                kind: ActorKind,
                id: Uuid,
            },
            UserId(Uuid),
        }
        Ok(match Stored::deserialize(deserializer)? {
            Stored::Actor { kind, id } => Actor { kind, id },
            Stored::UserId(id) => Actor {
                kind: ActorKind::User,
                id,
            },
        })
    }
}

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
    /// When the user proved they receive email at `email`; `None` until then.
    #[serde(default)]
    pub email_verified_at: Option<DateTime<Utc>>,
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
    pub created_by: Option<Actor>,
    #[serde(default)]
    pub updated_by: Option<Actor>,
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

/// A live (not revoked) API key as owners and admins see it: never its secret, nor the
/// secret's hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub name: String,
    /// `Admin` or `Member`: a key acts at most as an admin.
    pub role: Role,
    pub expires_at: Option<DateTime<Utc>>,
    /// When it last authenticated a request, to the minute.
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<Actor>,
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
        assert_eq!(
            project.updated_by.map(|actor| actor.kind),
            Some(ActorKind::User),
            "a bare id is a user's"
        );
        assert_eq!(project.version, 3);
        assert_eq!(project.deleted_at, None);
        let again: Project =
            serde_json::from_value(serde_json::to_value(&project).expect("json")).expect("back");
        assert_eq!(again, project);
    }
}

/// Where an invitation is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationStatus {
    /// Waiting for its link to be used.
    Pending,
    /// Its link expired unused; resending gives it a new one.
    Expired,
    Accepted,
    Revoked,
}

/// An invitation to join the organization (its token is never part of it).
#[derive(Debug, Clone)]
pub struct Invitation {
    pub id: Uuid,
    /// The invited address, as stored (its key).
    pub email: String,
    pub role: Role,
    pub invited_by: UserId,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub status: InvitationStatus,
}

/// The emails the service sends: each has a template (templates/email) and is a metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmailKind {
    Invitation,
    PasswordReset,
    PasswordChanged,
    VerifyEmail,
    EmailChanged,
}

impl EmailKind {
    pub const ALL: [EmailKind; 5] = [
        EmailKind::Invitation,
        EmailKind::PasswordReset,
        EmailKind::PasswordChanged,
        EmailKind::VerifyEmail,
        EmailKind::EmailChanged,
    ];

    /// The name `app.outbound_emails.kind` stores, and the templates' file names start with.
    pub const fn as_str(self) -> &'static str {
        match self {
            EmailKind::Invitation => "invitation",
            EmailKind::PasswordReset => "password_reset",
            EmailKind::PasswordChanged => "password_changed",
            EmailKind::VerifyEmail => "verify_email",
            EmailKind::EmailChanged => "email_changed",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == value)
    }
}
