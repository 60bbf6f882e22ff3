//! One client connection, from accept to close, holding no HTTP state while it idles.
//!
//! hyper keeps an HTTP/1 connection's buffers (an 8 KB read buffer, an 8 KB header write
//! buffer) and its dispatcher for as long as the connection is open, and offers no way
//! to shrink them: 10 000 idle keep-alive connections cost ~250 MB that way, against
//! SPEC's 200 MB in all. So a connection here alternates between two states:
//!
//! - **parked**: nothing but the socket and a timer, waiting for it to become readable
//!   (for at most the header timeout, as hyper's own keep-alive wait did);
//! - **serving**: a fresh hyper HTTP/1 connection over the socket, which serves requests
//!   until the connection has been idle between requests for [`PARK_AFTER`]; then the
//!   socket tells hyper its input ended (`parking.rs` explains when that is safe), hyper
//!   finishes without closing the socket (`poll_without_shutdown`) and hands back the
//!   socket and any bytes it had read ahead, and the connection parks again.
//!
//! A busy connection never parks between its requests, so the hot path is hyper's own.
//! HTTP/2 with prior knowledge (the first bytes are its preface) is handed to hyper for
//! the connection's whole life: it multiplexes, so it is never idle in the same way.

mod parking;

use std::{future::poll_fn, pin::Pin, sync::Arc, time::Duration};

use bytes::Bytes;
use hyper::server::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
    sync::watch,
};

use crate::server::{http::replay::front::Front, perf::collect::Connections};

use parking::{Activity, Parking, Rewound, Tracked};

/// How long a connection waits between requests before it gives hyper's state back.
/// A page load's requests come within milliseconds of each other, so they never pay for
/// a park; one that comes later pays for one allocation of hyper's buffers.
pub const PARK_AFTER: Duration = Duration::from_millis(500);

/// The first bytes of an HTTP/2 connection with prior knowledge (RFC 9113 §3.4).
const H2_PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// How connections are served: hyper's builders, configured once, and the timeouts.
pub struct Protocol {
    http1: http1::Builder,
    http2: http2::Builder<TokioExecutor>,
    header_timeout: Duration,
    park_after: Duration,
}

impl Protocol {
    pub fn new(header_timeout: Duration, park_after: Duration) -> Self {
        let mut h1 = http1::Builder::new();
        h1.timer(TokioTimer::new())
            .header_read_timeout(header_timeout);
        let mut h2 = http2::Builder::new(TokioExecutor::new());
        h2.timer(TokioTimer::new());
        Protocol {
            http1: h1,
            http2: h2,
            header_timeout,
            park_after,
        }
    }

    /// Serves one connection until the client closes it, it idles past the header
    /// timeout, or `stop` turns true (then the request in progress, if any, finishes).
    pub async fn drive(
        self: Arc<Self>,
        tcp: TcpStream,
        front: Front,
        connections: Arc<Connections>,
        mut stop: watch::Receiver<bool>,
    ) {
        let activity = Arc::new(Activity::default());
        let service = Tracked::new(front, activity.clone());
        let mut io = Rewound::new(tcp);
        // The first bytes decide the protocol; waiting for them is the first park.
        let first = tokio::select! {
            sniffed = tokio::time::timeout(self.header_timeout, sniff(&mut io)) => sniffed,
            _ = stop.wait_for(|s| *s) => return,
        };
        match first {
            Ok(Ok(Sniffed::Http2)) => return self.serve_http2(io, service, stop).await,
            Ok(Ok(Sniffed::Http1)) => {}
            // Closed, failed, or silent for the whole header timeout.
            Ok(Ok(Sniffed::Closed) | Err(_)) | Err(_) => return,
        }
        loop {
            let conn = self.http1.serve_connection(
                TokioIo::new(Parking::new(io, activity.clone(), self.park_after)),
                service.clone(),
            );
            let (parts, finished) = serve_http1(conn, &mut stop).await;
            let parking = parts.io.into_inner();
            let parked = parking.parked();
            io = parking.into_inner();
            if !parked {
                // hyper ended the connection (the client closed it or asked to, or an
                // error): close the socket as hyper would have.
                if finished {
                    let _ = io.shutdown().await;
                }
                return;
            }
            // Bytes hyper read beyond the last request (a pipelined one) come first.
            io.unread(parts.read_buf);
            if *stop.borrow() {
                return;
            }
            if io.has_unread() {
                continue;
            }
            let _parked = connections.parked();
            let woke = tokio::select! {
                readable = tokio::time::timeout(self.header_timeout, io.get_ref().readable()) => readable,
                _ = stop.wait_for(|s| *s) => return,
            };
            match woke {
                Ok(Ok(())) => {}
                // Idle for the whole timeout (as hyper's keep-alive wait would close it),
                // or the socket failed.
                Ok(Err(_)) | Err(_) => return,
            }
        }
    }

    async fn serve_http2(&self, io: Rewound, service: Tracked, mut stop: watch::Receiver<bool>) {
        let conn = self.http2.serve_connection(TokioIo::new(io), service);
        tokio::pin!(conn);
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = stop.wait_for(|s| *s) => {}
        }
        conn.as_mut().graceful_shutdown();
        let _ = conn.await;
    }
}

type Http1Conn = http1::Connection<TokioIo<Parking>, Tracked>;

/// Runs one hyper HTTP/1 connection until it is done, without letting it close the
/// socket; on `stop` it finishes the request in progress and ends. Returns its parts
/// and whether it ended cleanly (an error, e.g. a malformed request, leaves nothing
/// worth closing politely).
async fn serve_http1(
    mut conn: Http1Conn,
    stop: &mut watch::Receiver<bool>,
) -> (http1::Parts<TokioIo<Parking>, Tracked>, bool) {
    let mut stopping = *stop.borrow();
    if stopping {
        Pin::new(&mut conn).graceful_shutdown();
    }
    let result = loop {
        tokio::select! {
            result = poll_fn(|cx| conn.poll_without_shutdown(cx)) => break result,
            _ = stop.wait_for(|s| *s), if !stopping => {
                stopping = true;
                Pin::new(&mut conn).graceful_shutdown();
            }
        }
    };
    if let Err(e) = &result {
        tracing::trace!(error = %e, "connection ended with an error");
    }
    (conn.into_parts(), result.is_ok())
}

enum Sniffed {
    Http1,
    Http2,
    Closed,
}

/// Reads until the first bytes are known not to be HTTP/2's preface, or are all of it;
/// what was read goes back in front of the socket for hyper.
async fn sniff(io: &mut Rewound) -> std::io::Result<Sniffed> {
    let mut seen = [0u8; H2_PREFACE.len()];
    let mut len = 0;
    let outcome = loop {
        let n = io.get_mut().read(&mut seen[len..]).await?;
        if n == 0 {
            break Sniffed::Closed;
        }
        len += n;
        if seen[..len] != H2_PREFACE[..len] {
            break Sniffed::Http1;
        }
        if len == H2_PREFACE.len() {
            break Sniffed::Http2;
        }
    };
    io.unread(Bytes::copy_from_slice(&seen[..len]));
    Ok(outcome)
}
