//! Validated domain types and the records the layers exchange ([`User`], [`Project`], ...).
//! Values are parsed once at the edge; past it, an `Email` is a valid, normalised email and a
//! `Role` is one of three names. No I/O here.

mod cursor;
mod event;
mod ids;
mod model;
mod text;
pub mod webhooks;

pub use cursor::{Cursor, CursorKey, MAX_CURSOR_LEN, Position};
pub use event::{Event, EventType};
pub use ids::{ApiKeyId, OrgId, ProjectId, SessionId, UserId};
pub use model::{
    Actor, ActorKind, ApiKey, EmailKind, Invitation, InvitationStatus, Organization, Project,
    ProjectOrder, Session, User,
};
pub use text::{
    ApiKeyName, DESCRIPTION_PATTERN, DESCRIPTION_RULE, Description, DisplayName, EMAIL_PATTERN,
    EMAIL_RULE, Email, HIDDEN_IN_FREE_TEXT, INVISIBLE, INVISIBLE_RULE, IdempotencyKey,
    NAME_PATTERN, NAME_PREFIX_PATTERN, NAME_RULE, NamePrefix, OrgName, OrgSlug, PATTERN_RULES,
    Password, ProjectName, SpecText, TextSpec, is_hidden_in_free_text, is_invisible,
};

use std::fmt;

/// A member's role inside one organization, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Admin,
    Member,
}

impl Role {
    /// The fixed name stored in `users.role` and in `app.role`. Only these three strings can
    /// ever reach a `SET LOCAL` statement.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "member" => Some(Role::Member),
            _ => None,
        }
    }

    /// Owners and admins manage the organization's users.
    pub const fn manages_users(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A project's lifecycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProjectStatus {
    Active,
    Archived,
}

impl ProjectStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            ProjectStatus::Active => "active",
            ProjectStatus::Archived => "archived",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "active" => Some(ProjectStatus::Active),
            "archived" => Some(ProjectStatus::Archived),
            _ => None,
        }
    }
}
