//! Uploads are bounded and leave nothing behind: ownership and the declared size are
//! checked before the body is read, the limit holds while streaming, the upload has its
//! own deadline, temp files go on every failure and once their import ends, and imports
//! per meter and per user are capped.
//!
//! Most requests here are written by hand on a TCP socket: only then can a test declare a
//! size it never sends, stall half-way, or see an answer that comes before the body ends.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use headroom::server::service::import::{self, ImportFormat};

use crate::helpers::*;
use crate::on_both_backends;

const NOW: &str = "2026-11-21T12:00:00Z";
/// The upload limit the tests set: small, so exceeding it is quick.
const LIMIT: usize = 1_000_000;
const GENERIC: &str = "timestamp,value\n2026-11-21T08:00:00Z,10\n2026-11-21T09:00:00Z,12.5\n";
const BOUNDARY: &str = "XBOUNDARYx";

async fn upload_app(backend: Backend, env: &[(&'static str, &str)]) -> TestApp {
    let mut all = vec![("HEADROOM_UPLOAD_LIMIT_BYTES", LIMIT.to_string())];
    all.extend(env.iter().map(|(k, v)| (*k, v.to_string())));
    spawn_app_with(
        backend,
        Options {
            now: NOW.parse().ok(),
            env: all,
            ..Options::default()
        },
    )
    .await
}

/// The files left in the upload folder.
fn leftovers(app: &TestApp) -> Vec<String> {
    let dir = app.state.settings.server.data_dir.join("imports");
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Background imports remove their file just after they record their end.
async fn leftovers_settle(app: &TestApp) -> Vec<String> {
    let started = Instant::now();
    loop {
        let left = leftovers(app);
        if left.is_empty() || started.elapsed() > Duration::from_secs(5) {
            return left;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A new member with a session of its own (made in the database, so the short request
/// timeouts some tests set cannot cut a sign-in off); returns (id, `Cookie` header value).
async fn member(app: &TestApp, email: &str) -> (i64, String) {
    use headroom::server::auth::session;
    let id = app.add_user(email, "member", "UTC").await;
    let token = session::new_token();
    let now = app.state.clock.now_secs();
    app.state
        .db
        .create_session(&session::token_hash(&token), id, now, now + 86_400, "")
        .await
        .expect("session");
    (id, format!("{}={token}", session::COOKIE_NAME))
}

async fn meter_of(app: &TestApp, owner: i64, name: &str) -> i64 {
    app.add_quota_meter(owner, name, 1_048_576.0, "monthly:1", "UTC")
        .await
}

/// What a raw request sends after its head.
struct Sending {
    pieces: Vec<Vec<u8>>,
    /// Wait before each piece after the first.
    pause: Duration,
    /// Keep the connection open after the last piece, as a client still sending would.
    hold: bool,
}

impl Sending {
    fn all(body: Vec<u8>) -> Self {
        Sending {
            pieces: vec![body],
            pause: Duration::ZERO,
            hold: false,
        }
    }
}

/// Sends `POST path` with `headers` on a socket, the body as `send` says, and reads the
/// answer while still sending: (status, JSON body or Null).
async fn raw_post(
    app: &TestApp,
    path: &str,
    headers: &[String],
    send: Sending,
) -> (u16, serde_json::Value) {
    let addr = app.address.trim_start_matches("http://").to_string();
    let stream = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let (mut read, mut write) = stream.into_split();
    let mut head = format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\n");
    for h in headers {
        head.push_str(h);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    let writer = tokio::spawn(async move {
        write.write_all(head.as_bytes()).await?;
        for (i, piece) in send.pieces.iter().enumerate() {
            if i > 0 {
                tokio::time::sleep(send.pause).await;
            }
            write.write_all(piece).await?;
        }
        if send.hold {
            tokio::time::sleep(Duration::from_secs(120)).await;
        }
        Ok::<_, std::io::Error>(write)
    });
    let answer = tokio::time::timeout(Duration::from_secs(15), read_answer(&mut read))
        .await
        .unwrap_or_else(|_| panic!("no answer within 15 s to POST {path}"));
    writer.abort();
    answer
}

async fn read_answer(read: &mut tokio::net::tcp::OwnedReadHalf) -> (u16, serde_json::Value) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = read.read(&mut chunk).await.expect("read answer");
        assert!(
            n > 0,
            "connection closed before an answer: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let status: u16 = head[9..12].parse().expect("status");
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = read.read(&mut chunk).await.expect("read body");
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = serde_json::from_slice(&buf[head_end..]).unwrap_or(serde_json::Value::Null);
    (status, body)
}

/// A multipart form with `format` and a `file` part holding `data`: (before, after) the
/// file's bytes, so a test can send the file in pieces.
fn form_parts(format: &str) -> (Vec<u8>, Vec<u8>) {
    let before = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"format\"\r\n\r\n{format}\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n"
    );
    let after = format!("\r\n--{BOUNDARY}--\r\n");
    (before.into_bytes(), after.into_bytes())
}

fn multipart_type() -> String {
    format!("Content-Type: multipart/form-data; boundary={BOUNDARY}")
}

/// One chunk of a chunked body.
fn chunk(data: &[u8]) -> Vec<u8> {
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    out
}

/// `total` bytes of CSV-looking filler, in chunked pieces of 64 KiB.
fn chunked_filler(total: usize) -> Vec<Vec<u8>> {
    let line = b"2026-11-21T08:00:00Z,10\n";
    let data: Vec<u8> = line.iter().copied().cycle().take(total).collect();
    data.chunks(64 * 1024).map(chunk).collect()
}

/// A CSV body sent whole to the API route.
async fn upload_api(
    app: &TestApp,
    cookie: &str,
    meter: i64,
    format: &str,
    body: &str,
) -> (u16, serde_json::Value) {
    let headers = vec![
        format!("Cookie: {cookie}"),
        format!("Content-Length: {}", body.len()),
    ];
    let path = format!("/api/v1/meters/{meter}/imports?format={format}");
    raw_post(app, &path, &headers, Sending::all(body.as_bytes().to_vec())).await
}

fn error_code(body: &serde_json::Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

on_both_backends! {
    async fn ownership_and_the_declared_size_are_checked_before_the_body(backend) {
        let app = upload_app(backend, &[]).await;
        let (mia, mia_cookie) = member(&app, "mia@example.org").await;
        let (_, bob_cookie) = member(&app, "bob@example.org").await;
        let meter = meter_of(&app, mia, "Fibre").await;
        // 50 MB declared, 10 bytes sent, the connection left open: only an answer that
        // does not wait for the body comes back.
        let stalled = || Sending { pieces: vec![b"timestamp,".to_vec()], pause: Duration::ZERO, hold: true };
        for path in [format!("/api/v1/meters/{meter}/imports"), format!("/meters/{meter}/import")] {
            let headers = vec![format!("Cookie: {bob_cookie}"), "Content-Length: 50000000".into(), multipart_type()];
            let (status, body) = raw_post(&app, &path, &headers, stalled()).await;
            assert_eq!((status, error_code(&body)), (404, "not_found"), "{path}: {body}");
            assert_eq!(leftovers(&app), Vec::<String>::new(), "{path}");

            let headers = vec![format!("Cookie: {mia_cookie}"), format!("Content-Length: {}", 2 * LIMIT), multipart_type()];
            let (status, body) = raw_post(&app, &path, &headers, stalled()).await;
            assert_eq!((status, error_code(&body)), (413, "too_large"), "{path}: {body}");
            assert_eq!(leftovers(&app), Vec::<String>::new(), "{path}");
        }
    }

    async fn a_chunked_upload_over_the_limit_is_refused_and_removed(backend) {
        let app = upload_app(backend, &[]).await;
        let (mia, cookie) = member(&app, "mia@example.org").await;
        let meter = meter_of(&app, mia, "Fibre").await;
        // No Content-Length: the limit has to hold while the bytes arrive. The client
        // keeps the connection open after 2 MB, so the answer cannot be waiting for the end.
        let mut pieces = vec![chunk(b"timestamp,value\n")];
        pieces.extend(chunked_filler(2 * LIMIT));
        let headers = vec![format!("Cookie: {cookie}"), "Transfer-Encoding: chunked".into()];
        let send = Sending { pieces, pause: Duration::ZERO, hold: true };
        let (status, body) = raw_post(&app, &format!("/api/v1/meters/{meter}/imports?format=generic"), &headers, send).await;
        assert_eq!((status, error_code(&body)), (413, "too_large"), "{body}");
        assert_eq!(leftovers(&app), Vec::<String>::new());

        let (before, _) = form_parts("generic");
        let mut pieces = vec![chunk(&before)];
        pieces.extend(chunked_filler(2 * LIMIT));
        let headers = vec![format!("Cookie: {cookie}"), "Transfer-Encoding: chunked".into(), multipart_type()];
        let send = Sending { pieces, pause: Duration::ZERO, hold: true };
        let (status, body) = raw_post(&app, &format!("/meters/{meter}/import"), &headers, send).await;
        assert_eq!((status, error_code(&body)), (413, "too_large"), "{body}");
        assert_eq!(leftovers(&app), Vec::<String>::new());
    }

    async fn the_file_goes_when_its_import_is_done_or_failed(backend) {
        let app = upload_app(backend, &[]).await;
        let (mia, cookie) = member(&app, "mia@example.org").await;
        let meter = meter_of(&app, mia, "Fibre").await;
        let (status, view) = upload_api(&app, &cookie, meter, "generic", GENERIC).await;
        assert_eq!(status, 202, "{view}");
        let done = wait_for_end(&app, view["id"].as_i64().expect("id")).await;
        assert_eq!(done.status, "done");
        assert_eq!(leftovers_settle(&app).await, Vec::<String>::new(), "after a finished import");

        // The wrong shape: the import fails, and its file is not kept for a rerun that
        // would fail the same way.
        let (status, view) = upload_api(&app, &cookie, meter, "legacy", "when,how much\n1,2\n").await;
        assert_eq!(status, 202, "{view}");
        let failed = wait_for_end(&app, view["id"].as_i64().expect("id")).await;
        assert_eq!(failed.status, "failed");
        assert_eq!(leftovers_settle(&app).await, Vec::<String>::new(), "after a failed import");
    }

    async fn a_line_longer_than_4_kib_fails_the_import_and_names_the_line(backend) {
        let app = upload_app(backend, &[]).await;
        let (mia, cookie) = member(&app, "mia@example.org").await;
        let meter = meter_of(&app, mia, "Fibre").await;
        let csv = format!("timestamp,value\n2026-11-21T08:00:00Z,10\n2026-11-21T09:00:00Z,{}\n2026-11-21T10:00:00Z,11\n", "9".repeat(10_000));
        let headers = vec![format!("Cookie: {cookie}"), format!("Content-Length: {}", csv.len())];
        let (status, view) = raw_post(&app, &format!("/api/v1/meters/{meter}/imports?format=generic"), &headers, Sending::all(csv.into_bytes())).await;
        assert_eq!(status, 202, "{view}");
        let end = wait_for_end(&app, view["id"].as_i64().expect("id")).await;
        assert_eq!(end.status, "failed");
        assert_eq!(end.error.as_deref(), Some("line 3 is longer than 4096 bytes"));
        assert_eq!(leftovers_settle(&app).await, Vec::<String>::new());
    }

    async fn one_running_import_per_meter_and_three_per_user(backend) {
        let app = upload_app(backend, &[]).await;
        let (mia, cookie) = member(&app, "mia@example.org").await;
        let mut meters = Vec::new();
        for name in ["A", "B", "C", "D"] {
            meters.push(meter_of(&app, mia, name).await);
        }
        let now = app.state.clock.now_secs();
        // An import still running on A (as if its file were being read right now).
        app.state.db.start_import(meters[0], "a.csv", "aaaa", "generic", 100, now).await.expect("import");
        let (status, body) = upload_api(&app, &cookie, meters[0], "generic", GENERIC).await;
        assert_eq!((status, error_code(&body)), (409, "conflict"), "{body}");
        assert!(body["error"]["message"].as_str().unwrap_or("").contains("already running"), "{body}");
        assert_eq!(leftovers(&app), Vec::<String>::new());

        // Three running imports are the most one user may have.
        app.state.db.start_import(meters[1], "b.csv", "bbbb", "generic", 100, now).await.expect("import");
        app.state.db.start_import(meters[2], "c.csv", "cccc", "generic", 100, now).await.expect("import");
        let (status, body) = upload_api(&app, &cookie, meters[3], "generic", GENERIC).await;
        assert_eq!((status, error_code(&body)), (429, "too_many_imports"), "{body}");
        assert_eq!(leftovers(&app), Vec::<String>::new());
    }

    async fn uploads_have_their_own_deadline_and_multipart_is_not_exempt(backend) {
        let app = upload_app(backend, &[
            ("HEADROOM_REQUEST_TIMEOUT_SECS", "1"),
            ("HEADROOM_UPLOAD_TIMEOUT_SECS", "4"),
            ("HEADROOM_TEST_HOOKS", "true"),
        ]).await;
        let (mia, cookie) = member(&app, "mia@example.org").await;
        let meter = meter_of(&app, mia, "Fibre").await;
        // Saying "multipart" no longer turns the request timeout off.
        let res = app.client.get(app.url("/__test/sleep?ms=3000"))
            .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
            .send().await.expect("GET");
        assert_eq!(res.status(), 503);

        // An upload that takes 2 s is past the request timeout but within its own.
        let headers = vec![format!("Cookie: {cookie}"), format!("Content-Length: {}", GENERIC.len())];
        let (head, tail) = GENERIC.as_bytes().split_at(20);
        let slow = Sending { pieces: vec![head.to_vec(), tail.to_vec()], pause: Duration::from_secs(2), hold: false };
        let (status, view) = raw_post(&app, &format!("/api/v1/meters/{meter}/imports?format=generic"), &headers, slow).await;
        assert_eq!(status, 202, "{view}");
        wait_for_end(&app, view["id"].as_i64().expect("id")).await;
        assert_eq!(leftovers_settle(&app).await, Vec::<String>::new());

        // The same through the form.
        let (before, after) = form_parts("generic");
        let form = meter_of(&app, mia, "Form").await;
        let mut first = before;
        first.extend_from_slice(head);
        let mut second = tail.to_vec();
        second.extend_from_slice(&after);
        let length = first.len() + second.len();
        let headers = vec![format!("Cookie: {cookie}"), format!("Content-Length: {length}"), multipart_type()];
        let slow = Sending { pieces: vec![first, second], pause: Duration::from_secs(2), hold: false };
        let (status, body) = raw_post(&app, &format!("/meters/{form}/import"), &headers, slow).await;
        assert_eq!(status, 303, "{body}");
        assert_eq!(leftovers_settle(&app).await, Vec::<String>::new());

        // One that stalls is cut off at the upload deadline, and its partial file removed.
        let other = meter_of(&app, mia, "Other").await;
        let stalled = Sending { pieces: vec![GENERIC.as_bytes().to_vec()], pause: Duration::ZERO, hold: true };
        let headers = vec![format!("Cookie: {cookie}"), "Content-Length: 500000".into()];
        let started = Instant::now();
        let (status, body) = raw_post(&app, &format!("/api/v1/meters/{other}/imports?format=generic"), &headers, stalled).await;
        assert_eq!((status, error_code(&body)), (503, "timeout"), "{body}");
        assert!(started.elapsed() >= Duration::from_secs(3), "{:?}", started.elapsed());
        assert_eq!(leftovers(&app), Vec::<String>::new());

        let (before, _) = form_parts("generic");
        let mut first = before;
        first.extend_from_slice(GENERIC.as_bytes());
        let stalled = Sending { pieces: vec![first], pause: Duration::ZERO, hold: true };
        let headers = vec![format!("Cookie: {cookie}"), "Content-Length: 500000".into(), multipart_type()];
        let (status, body) = raw_post(&app, &format!("/meters/{other}/import"), &headers, stalled).await;
        assert_eq!((status, error_code(&body)), (503, "timeout"), "{body}");
        assert_eq!(leftovers(&app), Vec::<String>::new());
    }
}

/// Waits until import `id` is no longer running; returns its row.
async fn wait_for_end(app: &TestApp, id: i64) -> headroom::server::storage::imports::ImportRow {
    let started = Instant::now();
    loop {
        let row = app
            .state
            .db
            .import(id)
            .await
            .expect("query")
            .expect("import");
        if row.status != "running" {
            return row;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "import {id} did not end: {row:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphans_are_swept_at_start_and_running_imports_resume() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let db_url = format!("sqlite://{}/shared.db", dir.path().display());
    let options = || Options {
        database: Some(db_url.clone()),
        now: NOW.parse().ok(),
        env: vec![("HEADROOM_DATA_DIR", data.display().to_string())],
    };
    let first = spawn_app_with(Backend::Sqlite, options()).await;
    let mia = first.add_user("mia@example.org", "member", "UTC").await;
    let meter = meter_of(&first, mia, "Fibre").await;
    let now = first.state.clock.now_secs();
    // An import the last process left running, its file in place; the file of an import
    // that is not running; an upload cut off mid-way.
    let meter_row = first
        .state
        .db
        .meter(meter)
        .await
        .expect("query")
        .expect("meter");
    let file = dir.path().join("a.csv");
    std::fs::write(&file, GENERIC).expect("write");
    let running = import::prepare(
        &first.state.db,
        &meter_row,
        &file,
        "a.csv",
        ImportFormat::Generic,
        now,
    )
    .await
    .expect("import");
    let imports = data.join("imports");
    std::fs::create_dir_all(&imports).expect("dir");
    std::fs::write(imports.join(format!("{}.csv", running.id)), GENERIC).expect("write");
    std::fs::write(imports.join("upload-cutoff.tmp"), "timestamp,value\n2026").expect("write");
    std::fs::write(imports.join("999.csv"), GENERIC).expect("write");
    drop(first);

    let second = spawn_app_with(Backend::Sqlite, options()).await;
    let end = wait_for_end(&second, running.id).await;
    assert_eq!((end.status.as_str(), end.rows_imported), ("done", 2));
    assert_eq!(leftovers_settle(&second).await, Vec::<String>::new());
}
