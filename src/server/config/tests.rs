//! The settings as a whole: defaults, problems named by variable, env over file, and
//! every section held to the keys it declares.

use std::{
    collections::{BTreeSet, HashMap},
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use super::{SECTIONS, Settings, cache, database, jobs, security, server, sources::Sources};

fn addr() -> SocketAddr {
    "127.0.0.1:3000".parse().expect("literal")
}

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn defaults_are_the_embedded_setup() {
    let s = Settings::from_sources(HashMap::new(), None, addr()).expect("defaults valid");
    assert_eq!(s.database.url.expose(), "sqlite://data/headroom.db");
    assert!(s.cache.redis_url.is_none());
    assert_eq!(s.cache.redis_namespace, "headroom");
    assert_eq!(s.server.addr, addr());
    assert_eq!(s.database.max_connections, 8);
}

#[test]
fn bad_values_name_the_variable_and_what_is_allowed() {
    let err = Settings::from_sources(
        env(&[
            ("HEADROOM_ADDR", "localhost"),
            ("HEADROOM_DATABASE_URL", "mysql://root:hunter2@db/x"),
            ("HEADROOM_LOG_FORMAT", "xml"),
            ("HEADROOM_REDIS_NAMESPACE", "two words"),
        ]),
        None,
        addr(),
    )
    .expect_err("four problems");
    let text = err.to_string();
    assert!(
        text.contains("HEADROOM_ADDR = \"localhost\": expected an address"),
        "{text}"
    );
    assert!(text.contains("HEADROOM_DATABASE_URL"), "{text}");
    assert!(
        text.contains("HEADROOM_LOG_FORMAT = \"xml\": expected pretty or json"),
        "{text}"
    );
    assert!(
        text.contains("HEADROOM_REDIS_NAMESPACE = \"two words\": expected 1 to 64 letters"),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "password leaked: {text}");
}

#[test]
fn cache_ttls_and_rate_limits_are_configurable_by_name() {
    let s = Settings::from_sources(
        env(&[
            ("HEADROOM_CACHE_TTL", "outlook=600"),
            ("HEADROOM_RATE_LIMITS", "budget=10"),
        ]),
        None,
        addr(),
    )
    .expect("valid");
    assert_eq!(
        s.cache
            .ttls
            .get(crate::server::cache::Strategy::Outlook)
            .as_secs(),
        600
    );
    assert_eq!(s.security.rate_limits.for_tier("budget"), 10);
    assert_eq!(s.security.rate_limits.for_tier("enterprise"), 500);
    assert!(!s.security.rate_limits.count_admins);
    let err = Settings::from_sources(
        env(&[
            ("HEADROOM_CACHE_TTL", "outlok=600"),
            ("HEADROOM_RATE_LIMITS", "gold=10"),
        ]),
        None,
        addr(),
    )
    .expect_err("two problems")
    .to_string();
    assert!(err.contains("HEADROOM_CACHE_TTL = \"outlok=600\""), "{err}");
    assert!(err.contains("HEADROOM_RATE_LIMITS = \"gold=10\""), "{err}");
}

#[test]
fn outbound_allow_takes_cidr_ranges_and_names_a_bad_one() {
    let s = Settings::from_sources(
        env(&[(
            "HEADROOM_OUTBOUND_ALLOW",
            "192.168.1.7/24, 127.0.0.1,fd12::/16",
        )]),
        None,
        addr(),
    )
    .expect("valid");
    let shown: Vec<String> = s
        .security
        .outbound_allow
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(shown, ["192.168.1.0/24", "127.0.0.1/32", "fd12::/16"]);
    assert!(
        Settings::from_sources(HashMap::new(), None, addr())
            .expect("defaults valid")
            .security
            .outbound_allow
            .is_empty()
    );
    let err = Settings::from_sources(
        env(&[("HEADROOM_OUTBOUND_ALLOW", "10.0.0.0/8,192.168.1.0/33")]),
        None,
        addr(),
    )
    .expect_err("bad prefix")
    .to_string();
    assert!(
        err.contains("HEADROOM_OUTBOUND_ALLOW")
            && err.contains("\"192.168.1.0/33\" is not a CIDR range"),
        "{err}"
    );
}

#[test]
fn uploads_have_a_size_limit_and_a_deadline_of_their_own() {
    let s = Settings::from_sources(HashMap::new(), None, addr()).expect("defaults valid");
    assert_eq!(s.security.upload_limit_bytes, 128 * 1024 * 1024);
    assert_eq!(s.security.upload_timeout, Duration::from_secs(300));
    let s = Settings::from_sources(
        env(&[
            ("HEADROOM_UPLOAD_LIMIT_BYTES", "1000000"),
            ("HEADROOM_UPLOAD_TIMEOUT_SECS", "5"),
        ]),
        None,
        addr(),
    )
    .expect("valid");
    assert_eq!(
        (
            s.security.upload_limit_bytes,
            s.security.upload_timeout.as_secs()
        ),
        (1_000_000, 5)
    );
    let err = Settings::from_sources(
        env(&[
            ("HEADROOM_UPLOAD_LIMIT_BYTES", "0"),
            ("HEADROOM_UPLOAD_TIMEOUT_SECS", "0"),
        ]),
        None,
        addr(),
    )
    .expect_err("two problems")
    .to_string();
    assert!(err.contains("HEADROOM_UPLOAD_LIMIT_BYTES = \"0\""), "{err}");
    assert!(
        err.contains("HEADROOM_UPLOAD_TIMEOUT_SECS = \"0\""),
        "{err}"
    );
}

#[test]
fn invite_links_last_three_days_unless_set() {
    let s = Settings::from_sources(HashMap::new(), None, addr()).expect("defaults valid");
    assert_eq!(s.security.invite_hours, 72);
    let s = Settings::from_sources(env(&[("HEADROOM_INVITE_HOURS", "2")]), None, addr())
        .expect("valid");
    assert_eq!(s.security.invite_hours, 2);
    let err = Settings::from_sources(env(&[("HEADROOM_INVITE_HOURS", "0")]), None, addr())
        .expect_err("out of range")
        .to_string();
    assert!(err.contains("HEADROOM_INVITE_HOURS = \"0\""), "{err}");
}

#[test]
fn env_overrides_the_file_and_unknown_file_keys_fail() {
    let file = Some((
        PathBuf::from("headroom.toml"),
        "addr = \"127.0.0.1:4000\"\nmemory_cache_mb = 32\n".to_string(),
    ));
    let s = Settings::from_sources(env(&[("HEADROOM_ADDR", "127.0.0.1:5000")]), file, addr())
        .expect("valid");
    assert_eq!(s.server.addr.port(), 5000);
    assert_eq!(s.cache.memory_mb, 32);

    let bad = Some((PathBuf::from("h.toml"), "adress = \"x\"".to_string()));
    let err = Settings::from_sources(HashMap::new(), bad, addr()).expect_err("typo");
    assert!(err.to_string().contains("unknown key `adress`"));
}

#[test]
fn secrets_are_redacted_in_debug() {
    let s = Settings::from_sources(
        env(&[
            (
                "HEADROOM_DATABASE_URL",
                "postgres://app:s3cret@db:5432/headroom?sslmode=require",
            ),
            ("HEADROOM_REDIS_URL", "redis://:r3dis@cache:6379/0"),
        ]),
        None,
        addr(),
    )
    .expect("valid");
    let shown = format!("{s:?}");
    assert!(
        !shown.contains("s3cret") && !shown.contains("r3dis"),
        "{shown}"
    );
    assert!(
        shown.contains("postgres://app:***@db:5432/headroom"),
        "{shown}"
    );
}

#[test]
fn each_section_reads_exactly_the_keys_it_declares() {
    reads_exactly(server::KEYS, |s| server::parse(s, addr()));
    reads_exactly(database::KEYS, |s| database::parse(s, Path::new("data")));
    reads_exactly(cache::KEYS, cache::parse);
    reads_exactly(security::KEYS, security::parse);
    reads_exactly(jobs::KEYS, jobs::parse);
}

/// Runs `parse` with nothing set and only `keys` known, so a key read but not declared
/// fails `Sources::raw`'s debug assertion; then every declared key must have been read.
fn reads_exactly<T>(keys: &'static [&'static str], parse: impl FnOnce(&mut Sources) -> T) {
    let mut src = Sources::new(HashMap::new(), None, keys.to_vec());
    parse(&mut src);
    let read: BTreeSet<_> = src.asked().iter().collect();
    assert_eq!(read, keys.iter().collect(), "declared: {keys:?}");
}

#[test]
fn every_key_belongs_to_one_section_and_is_in_the_table() {
    let all = SECTIONS.concat();
    let distinct: BTreeSet<_> = all.iter().collect();
    assert_eq!(distinct.len(), all.len(), "a key in two sections");
    let table = include_str!("mod.rs");
    for key in all {
        let row = format!("| `{}` | `{key}` |", super::sources::env_name(key));
        assert!(table.contains(&row), "config/mod.rs has no row {row}");
    }
}

#[test]
fn scheduled_backups_are_off_by_default_and_for_sqlite_only() {
    let s = Settings::from_sources(HashMap::new(), None, addr()).expect("defaults valid");
    assert_eq!(
        (s.database.backups.every_hours, s.database.backups.keep),
        (0, 7)
    );
    let s = Settings::from_sources(
        env(&[
            ("HEADROOM_BACKUP_HOURS", "24"),
            ("HEADROOM_BACKUP_KEEP", "3"),
        ]),
        None,
        addr(),
    )
    .expect("valid");
    assert_eq!(
        (s.database.backups.every_hours, s.database.backups.keep),
        (24, 3)
    );
    let err = Settings::from_sources(
        env(&[
            ("HEADROOM_BACKUP_HOURS", "24"),
            ("HEADROOM_DATABASE_URL", "postgres://u:p@db/headroom"),
        ]),
        None,
        addr(),
    )
    .expect_err("refused on PostgreSQL")
    .to_string();
    assert!(
        err.contains("HEADROOM_BACKUP_HOURS") && err.contains("pg_dump"),
        "{err}"
    );
    let err = Settings::from_sources(env(&[("HEADROOM_BACKUP_KEEP", "0")]), None, addr())
        .expect_err("keep at least one")
        .to_string();
    assert!(err.contains("HEADROOM_BACKUP_KEEP"), "{err}");
}
