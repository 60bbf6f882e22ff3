//! The accept loop, driven by hand instead of `axum::serve`, for the bounds a server
//! facing the internet needs and `axum::serve` does not set.
//!
//! - **A header-read timeout.** hyper enforces one only when it has a timer, and
//!   `axum::serve` gives it none: a client that opens a connection and sends a header a
//!   minute would hold its connection (and its memory) for ever. An idle keep-alive
//!   connection is closed after the same time.
//! - **A connection cap** (`HEADROOM_MAX_CONNECTIONS`). A permit is taken *before*
//!   `accept`, so at the cap new connections wait in the kernel's queue instead of each
//!   costing a task and buffers here.
//! - **Idle connections cost a socket, not buffers**: `connection/` serves each one and
//!   gives hyper's state back while it idles between requests.
//!
//! Shutdown stops accepting, closes idle connections and lets the others finish their
//! requests; the caller bounds how long that may take.

use std::{future::Future, sync::Arc, time::Duration};

use tokio::{
    net::TcpListener,
    sync::{Semaphore, watch},
};

use crate::server::{
    http::{connection::Protocol, replay::front::MakeFront},
    perf::collect::Connections,
};

/// The bounds on clients' connections.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    /// How long a connection idles between requests before it gives hyper's buffers back.
    pub park_after: Duration,
}

/// Serves `front` on `listener` until `shutdown` resolves, then waits for the open
/// connections to finish. Each connection is counted in `connections` while open.
pub async fn serve(
    listener: TcpListener,
    front: MakeFront,
    limits: ConnectionLimits,
    connections: Arc<Connections>,
    shutdown: impl Future<Output = ()> + Send,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let protocol = Arc::new(Protocol::new(limits.header_timeout, limits.park_after));
    // Every connection holds a receiver; the sender's `closed()` is when all have ended.
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of descriptors (EMFILE) or a connection reset before accept:
                    // pause briefly instead of spinning on the error.
                    tracing::debug!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Streamed pages go out in several small writes; with Nagle's algorithm on, each
        // one after the first waits for the client's delayed ACK (40 ms on Linux).
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let open = connections.opened();
        let connection = protocol.clone().drive(
            tcp,
            front.for_peer(peer),
            connections.clone(),
            stop_rx.clone(),
        );
        tokio::spawn(async move {
            connection.await;
            drop((open, permit));
        });
    }
    drop(listener);
    drop(stop_rx);
    let _ = stop_tx.send(true);
    stop_tx.closed().await;
}
