//! Rebuilds the binary when a migration is added, changed or removed: `embed_migrations!`
//! reads `sql/migrations/` at compile time, and Cargo would not notice a new file there.
fn main() {
    println!("cargo:rerun-if-changed=sql/migrations");
}
