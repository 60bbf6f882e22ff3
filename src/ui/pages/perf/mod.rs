//! `/admin/performance/*`: the performance center's pages (admins only; members get 403),
//! one file per page, with the shell, tables and formatting they share in `shared`.
//! Server-rendered from the same reports as the JSON API; only the live chart (on the
//! overview) is an island.

mod cache;
mod overview;
mod queries;
mod routes;
mod shared;
mod ssr;
mod system;

pub use cache::PerfCachePage;
pub use overview::PerfOverviewPage;
pub use queries::PerfQueriesPage;
pub use routes::PerfRoutesPage;
pub use ssr::PerfSsrPage;
pub use system::PerfSystemPage;
