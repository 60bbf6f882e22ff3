//! The accept loop: hyper's connection builder driven by hand instead of `axum::serve`,
//! for the two bounds a server facing the internet needs and `axum::serve` does not set.
//!
//! - **A header-read timeout.** hyper enforces one only when it has a timer, and
//!   `axum::serve` gives it none: a client that opens a connection and sends a header a
//!   minute would hold its connection (and its memory) for ever.
//! - **A connection cap** (`HEADROOM_MAX_CONNECTIONS`). A permit is taken *before*
//!   `accept`, so at the cap new connections wait in the kernel's queue instead of each
//!   costing a task and buffers here.
//!
//! Shutdown stops accepting and lets open connections finish their requests
//! (`GracefulShutdown`); the caller bounds how long that may take.

use std::{future::Future, sync::Arc, time::Duration};

use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto::Builder, graceful::GracefulShutdown},
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::Semaphore};
use tower::ServiceExt as _;

use crate::server::{http::replay::front::MakeFront, perf::collect::Connections};

/// The bounds on clients' connections.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    pub header_timeout: Duration,
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
    let graceful = GracefulShutdown::new();
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    builder.http2().timer(TokioTimer::new());
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
        let service = front
            .for_peer(peer)
            .map_request(|req: hyper::Request<Incoming>| req.map(Body::new));
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(tcp), TowerToHyperService::new(service))
            .into_owned();
        let connection = graceful.watch(connection);
        let open = connections.opened();
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::trace!(error = %e, "connection ended with an error");
            }
            drop((open, permit));
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
