//! Imports of CSV files.

mod import_status;

pub use import_status::*;
