//! Keep-alive connections that idle give hyper's state back (they park) and lose nothing
//! by it: the next request, pipelined requests, long streams, the header timeout and
//! shutdown all behave as on a connection that never parked.

use std::time::Duration;

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::helpers::{Backend, Options, TestApp, eventually, spawn_app_with, with_env};

const LIVE: &[u8] = b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n";

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .expect("connect")
}

/// Reads one HTTP/1.1 response with a Content-Length body; returns its status line.
async fn read_response(tcp: &mut TcpStream, pending: &mut Vec<u8>) -> String {
    let deadline = Duration::from_secs(10);
    loop {
        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&pending[..end]).to_string();
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().ok())?
                })
                .expect("a Content-Length");
            if pending.len() >= end + 4 + length {
                pending.drain(..end + 4 + length);
                return head.lines().next().unwrap_or_default().to_string();
            }
        }
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(deadline, tcp.read(&mut chunk))
            .await
            .expect("an answer within 10 s")
            .expect("read");
        assert!(n > 0, "the server closed the connection mid-answer");
        pending.extend_from_slice(&chunk[..n]);
    }
}

/// Sends one `GET /health/live` on `tcp` and returns its answer's status line.
async fn ask_live(tcp: &mut TcpStream, pending: &mut Vec<u8>) -> String {
    tcp.write_all(LIVE).await.expect("write");
    read_response(tcp, pending).await
}

async fn wait_parked(app: &TestApp, count: u64) {
    let connections = app.state.perf.connections.clone();
    eventually(Duration::from_secs(10), "the connection parked", || {
        let parked = connections.parked_now();
        async move { parked == count }
    })
    .await;
}

#[tokio::test]
async fn an_idle_keep_alive_connection_parks_and_serves_its_next_request() {
    let app = spawn_app_with(Backend::Sqlite, Options::default()).await;
    let mut tcp = connect(&app).await;
    let mut pending = Vec::new();
    for round in 0..3 {
        assert_eq!(
            ask_live(&mut tcp, &mut pending).await,
            "HTTP/1.1 200 OK",
            "request {round}"
        );
        wait_parked(&app, 1).await;
    }
    assert_eq!(
        app.state.perf.connections.open(),
        1,
        "one connection all along"
    );
}

#[tokio::test]
async fn pipelined_requests_are_all_answered_even_across_a_park() {
    let app = spawn_app_with(Backend::Sqlite, Options::default()).await;
    let mut tcp = connect(&app).await;
    let mut pending = Vec::new();
    // Three whole requests in one write.
    tcp.write_all(&LIVE.repeat(3)).await.expect("write");
    for i in 0..3 {
        assert_eq!(
            read_response(&mut tcp, &mut pending).await,
            "HTTP/1.1 200 OK",
            "pipelined request {i}"
        );
    }
    // One request and the first half of the next in one write; the rest after the
    // connection has had time to park with that half read ahead.
    let (first_half, second_half) = LIVE.split_at(20);
    tcp.write_all(&[LIVE, first_half].concat())
        .await
        .expect("write");
    assert_eq!(
        read_response(&mut tcp, &mut pending).await,
        "HTTP/1.1 200 OK"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    tcp.write_all(second_half).await.expect("write");
    assert_eq!(
        read_response(&mut tcp, &mut pending).await,
        "HTTP/1.1 200 OK",
        "the request split across the park"
    );
}

#[tokio::test]
async fn a_stream_longer_than_the_park_delay_goes_on() {
    let app = spawn_app_with(
        Backend::Sqlite,
        with_env(&[("HEADROOM_TEST_HOOKS", "true")]),
    )
    .await;
    let mut res = app.get("/__test/endless").await;
    assert_eq!(res.status(), 200);
    let started = std::time::Instant::now();
    let mut ticks = 0;
    while started.elapsed() < Duration::from_secs(2) {
        let chunk = tokio::time::timeout(Duration::from_secs(5), res.chunk())
            .await
            .expect("a tick within 5 s")
            .expect("the stream goes on");
        assert!(chunk.is_some(), "the stream ended after {ticks} ticks");
        ticks += 1;
    }
    assert_eq!(app.state.perf.connections.parked_now(), 0);
}

#[tokio::test]
async fn a_parked_connection_is_closed_after_the_header_timeout() {
    let app = spawn_app_with(
        Backend::Sqlite,
        with_env(&[("HEADROOM_HEADER_TIMEOUT_SECS", "2")]),
    )
    .await;
    let mut tcp = connect(&app).await;
    let mut pending = Vec::new();
    assert_eq!(ask_live(&mut tcp, &mut pending).await, "HTTP/1.1 200 OK");
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut rest)).await;
    assert!(
        closed.is_ok(),
        "an idle connection was still open after 10 s"
    );
    assert!(rest.is_empty(), "nothing more was sent: {rest:?}");
}

#[tokio::test]
async fn parked_connections_do_not_hold_up_shutdown() {
    let mut app = spawn_app_with(Backend::Sqlite, Options::default()).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut tcp = connect(&app).await;
        let mut pending = Vec::new();
        assert_eq!(ask_live(&mut tcp, &mut pending).await, "HTTP/1.1 200 OK");
        held.push(tcp);
    }
    wait_parked(&app, 3).await;
    app.trigger_shutdown();
    let server = app.server.take().expect("running");
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stops with parked connections open")
        .expect("join")
        .expect("clean exit");
    for mut tcp in held {
        let mut rest = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut rest)).await;
        assert!(
            read.is_ok(),
            "a parked connection stayed open after shutdown"
        );
    }
}
