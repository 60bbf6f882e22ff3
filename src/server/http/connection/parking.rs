//! The three pieces that let a connection give hyper's state back when it idles:
//!
//! - [`Tracked`], the service hyper calls: it counts each request as in flight from the
//!   moment its head is parsed until hyper drops its response body (a streamed answer
//!   such as the live chart stays in flight as long as it streams);
//! - [`Parking`], the socket as hyper sees it: when hyper waits for the next request's
//!   head and the connection has been idle for the park delay, it reports the end of
//!   input, which hyper takes as the client closing between requests;
//! - [`Rewound`], the socket with the bytes hyper had read ahead put back in front.
//!
//! Reporting the end of input is safe only when hyper is between requests, so it
//! happens only if all of these hold: no request in flight, everything hyper wrote has
//! been flushed, and no bytes have arrived since the last request began (otherwise hyper
//! may hold the start of the next request: it then keeps its own header timeout). A
//! pipelined request read together with the previous one is the one case hyper may
//! still hold bytes; they come back in `Parts::read_buf` and go in front of the socket.

use std::{
    convert::Infallible,
    future::Future,
    io,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    task::{Context, Poll, ready},
    time::Duration,
};

use axum::body::Body;
use bytes::{Buf as _, Bytes};
use hyper::body::{Frame, Incoming, SizeHint};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
    time::Sleep,
};
use tower::Service as _;

use crate::server::http::replay::front::Front;

/// What the service tells the socket about the requests on one connection.
#[derive(Debug, Default)]
pub struct Activity {
    /// Requests whose head hyper has parsed, ever, on this connection.
    begun: AtomicU64,
    /// Of those, the ones whose answer hyper has not finished with.
    in_flight: AtomicU64,
}

impl Activity {
    fn begin(self: &Arc<Self>) -> InFlight {
        self.begun.fetch_add(1, Relaxed);
        self.in_flight.fetch_add(1, Relaxed);
        InFlight(self.clone())
    }
}

/// One request in flight until dropped (with its response body, or unanswered).
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Relaxed);
    }
}

/// The front door, as the hyper service of one connection, counting its requests.
#[derive(Clone)]
pub struct Tracked {
    front: Front,
    activity: Arc<Activity>,
}

impl Tracked {
    pub fn new(front: Front, activity: Arc<Activity>) -> Self {
        Tracked { front, activity }
    }
}

impl hyper::service::Service<hyper::Request<Incoming>> for Tracked {
    type Response = hyper::Response<Body>;
    type Error = Infallible;
    type Future = TrackedAnswer;

    fn call(&self, req: hyper::Request<Incoming>) -> TrackedAnswer {
        let in_flight = self.activity.begin();
        TrackedAnswer {
            answer: self.front.clone().call(req.map(Body::new)),
            in_flight: Some(in_flight),
        }
    }
}

type FrontAnswer = <Front as tower::Service<axum::extract::Request>>::Future;

/// The front door's answer; its body carries the request's in-flight mark.
pub struct TrackedAnswer {
    answer: FrontAnswer,
    in_flight: Option<InFlight>,
}

impl Future for TrackedAnswer {
    type Output = Result<hyper::Response<Body>, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Ok(response) = ready!(self.answer.as_mut().poll(cx));
        let in_flight = self.in_flight.take();
        Poll::Ready(Ok(response.map(|body| {
            Body::new(TrackedBody {
                body,
                _in_flight: in_flight,
            })
        })))
    }
}

/// A response body that keeps its request in flight until hyper drops it.
struct TrackedBody {
    body: Body,
    _in_flight: Option<InFlight>,
}

impl hyper::body::Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The socket with bytes put back in front of it.
pub struct Rewound {
    unread: Bytes,
    tcp: TcpStream,
}

impl Rewound {
    pub fn new(tcp: TcpStream) -> Self {
        Rewound {
            unread: Bytes::new(),
            tcp,
        }
    }

    /// Puts `bytes` back in front of whatever is still unread.
    pub fn unread(&mut self, bytes: Bytes) {
        if bytes.is_empty() {
            return;
        }
        self.unread = if self.unread.is_empty() {
            bytes
        } else {
            [bytes, std::mem::take(&mut self.unread)].concat().into()
        };
    }

    pub fn has_unread(&self) -> bool {
        !self.unread.is_empty()
    }

    pub fn get_ref(&self) -> &TcpStream {
        &self.tcp
    }

    /// The socket itself (for reading before anything was put back).
    pub fn get_mut(&mut self) -> &mut TcpStream {
        &mut self.tcp
    }
}

impl AsyncRead for Rewound {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.unread.is_empty() {
            let n = self.unread.len().min(buf.remaining());
            buf.put_slice(&self.unread[..n]);
            self.unread.advance(n);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for Rewound {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

/// The socket as one hyper connection sees it: it ends the input when the connection
/// has idled between requests for the park delay (see the module comment).
pub struct Parking {
    io: Rewound,
    activity: Arc<Activity>,
    park_after: Duration,
    /// Running while hyper waits for a next request on an idle connection.
    idle: Option<Pin<Box<Sleep>>>,
    /// `Activity::begun` when bytes last reached hyper.
    input_at: Option<u64>,
    /// Written since the last completed flush.
    unflushed: bool,
    parked: bool,
}

impl Parking {
    pub fn new(io: Rewound, activity: Arc<Activity>, park_after: Duration) -> Self {
        Parking {
            io,
            activity,
            park_after,
            idle: None,
            input_at: None,
            unflushed: false,
            parked: false,
        }
    }

    /// Whether this connection ended because it parked (not because hyper closed it).
    pub fn parked(&self) -> bool {
        self.parked
    }

    pub fn into_inner(self) -> Rewound {
        self.io
    }

    /// Between requests: nothing in flight, nothing unflushed, and every byte hyper got
    /// arrived before the last request began (so its buffer holds no next request).
    fn between_requests(&self) -> bool {
        let begun = self.activity.begun.load(Relaxed);
        self.activity.in_flight.load(Relaxed) == 0
            && !self.unflushed
            && self.input_at.is_some_and(|at| at < begun)
    }
}

impl AsyncRead for Parking {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.parked {
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.input_at = Some(this.activity.begun.load(Relaxed));
                    this.idle = None;
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => {
                if !this.between_requests() {
                    this.idle = None;
                    return Poll::Pending;
                }
                let park_after = this.park_after;
                let idle = this
                    .idle
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(park_after)));
                ready!(idle.as_mut().poll(cx));
                // Nothing read: hyper takes it as the client closing between requests.
                this.parked = true;
                this.idle = None;
                Poll::Ready(Ok(()))
            }
        }
    }
}

impl AsyncWrite for Parking {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.unflushed = true;
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.unflushed = true;
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(Pin::new(&mut self.io).poll_flush(cx))?;
        self.unflushed = false;
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
