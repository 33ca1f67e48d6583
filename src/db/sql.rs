//! [`Sql`]: statement text that comes from a file under `sql/queries/` (through [`sql!`]) or
//! another `'static` literal. A `format!`-built `String` is not `'static`, so string-built SQL
//! does not type-check: values always travel as bind parameters.

/// The text of one SQL statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sql(&'static str);

impl Sql {
    pub const fn new(text: &'static str) -> Self {
        Self(text)
    }

    pub const fn text(&self) -> &'static str {
        self.0
    }
}

/// `sql!("users/insert.sql")` embeds `sql/queries/users/insert.sql` at compile time.
#[macro_export]
macro_rules! sql {
    ($path:literal) => {
        $crate::db::Sql::new(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/sql/queries/",
            $path
        )))
    };
}
