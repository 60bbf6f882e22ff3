//! How the process listens, logs, stops and answers in time.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use jiff::Timestamp;

use super::sources::Sources;

pub const KEYS: &[&str] = &[
    "addr",
    "data_dir",
    "log",
    "log_format",
    "shutdown_grace_secs",
    "max_connections",
    "header_timeout_secs",
    "stream_timeout_secs",
    "request_timeout_secs",
    "now",
    "test_hooks",
];

#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub log_filter: String,
    pub log_format: LogFormat,
    pub shutdown_grace_secs: u64,
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub stream_timeout: Duration,
    pub request_timeout: Duration,
    pub fixed_now: Option<Timestamp>,
    pub test_hooks: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// `default_addr` is Leptos.toml's `site-addr`, so `cargo leptos watch` and the server
/// agree without a setting.
pub fn parse(src: &mut Sources, default_addr: SocketAddr) -> ServerSettings {
    ServerSettings {
        addr: src.parse("addr", default_addr, "an address like 127.0.0.1:3000"),
        data_dir: src.parse("data_dir", PathBuf::from("data"), "a directory path"),
        log_filter: src.parse(
            "log",
            "info".to_string(),
            "a tracing filter like info or headroom=debug",
        ),
        log_format: src.parse_with(
            "log_format",
            LogFormat::Pretty,
            "pretty or json",
            |s| match s {
                "pretty" => Some(LogFormat::Pretty),
                "json" => Some(LogFormat::Json),
                _ => None,
            },
        ),
        shutdown_grace_secs: src.parse_with(
            "shutdown_grace_secs",
            20,
            "a whole number of seconds from 0 to 600",
            |s| s.parse().ok().filter(|n| *n <= 600),
        ),
        max_connections: src.parse_with(
            "max_connections",
            10_000,
            "a whole number from 1 to 1000000",
            |s| s.parse().ok().filter(|n| (1..=1_000_000).contains(n)),
        ),
        header_timeout: Duration::from_secs(src.parse_with(
            "header_timeout_secs",
            10,
            "a whole number of seconds from 1 to 300",
            |s| s.parse().ok().filter(|n| (1..=300).contains(n)),
        )),
        stream_timeout: Duration::from_secs(src.parse_with(
            "stream_timeout_secs",
            600,
            "a whole number of seconds from 1 to 86400",
            |s| s.parse().ok().filter(|n| (1..=86_400).contains(n)),
        )),
        request_timeout: Duration::from_secs(src.parse_with(
            "request_timeout_secs",
            30,
            "a whole number of seconds from 1 to 3600",
            |s| s.parse().ok().filter(|n| (1..=3600).contains(n)),
        )),
        fixed_now: src.parse_with(
            "now",
            None,
            "an RFC 3339 instant like 2026-11-20T18:00:00Z",
            |s| s.parse::<Timestamp>().ok().map(Some),
        ),
        test_hooks: src.flag("test_hooks"),
    }
}
