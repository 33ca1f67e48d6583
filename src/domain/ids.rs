//! Typed ids. UUIDv7 (time-ordered) made by the service, so keyset pagination by id follows
//! creation order and inserts stay at the right edge of the primary-key index.

use std::fmt;

use uuid::Uuid;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new time-ordered id.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // Canonical hyphenated form: the only shape that reaches a SET LOCAL literal.
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }
    };
}

id_type!(
    /// An organization (tenant) id.
    OrgId
);
id_type!(
    /// A user id, unique within its organization.
    UserId
);
id_type!(
    /// A session (refresh-token family) id, unique within its organization.
    SessionId
);
id_type!(
    /// A project id, unique within its organization.
    ProjectId
);
id_type!(
    /// An API key id, unique within its organization; the key's text carries it.
    ApiKeyId
);
