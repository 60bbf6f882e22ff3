//! The caller's notifications: the page's data and the header's unread count.

mod notifications_page;
mod unread_count;

pub use notifications_page::*;
pub use unread_count::*;
