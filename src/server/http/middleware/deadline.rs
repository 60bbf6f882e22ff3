//! A total deadline for streamed answers. The request timeout ends when the handler
//! returns its response; an export or a live chart keeps streaming after that, and a
//! client reading one byte a minute would otherwise hold its task, its buffers and
//! (for an export) a database cursor for as long as it liked. Past the deadline the body
//! ends with an error, which makes hyper drop the connection: the client sees a cut-off
//! answer, not a complete-looking short one.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use axum::{body::Body, response::Response};
use bytes::Bytes;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// `res` with its body limited to end by `until`, when the body is streamed; a body of
/// known length is already complete and is left alone.
pub fn limit(res: Response, until: Instant) -> Response {
    if res.body().size_hint().exact().is_some() {
        return res;
    }
    res.map(|inner| {
        Body::new(Deadline {
            inner,
            sleep: Box::pin(tokio::time::sleep_until(until)),
        })
    })
}

struct Deadline {
    inner: Body,
    sleep: Pin<Box<Sleep>>,
}

impl HttpBody for Deadline {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        if self.sleep.as_mut().poll(cx).is_ready() {
            tracing::warn!("a streamed answer ran past its deadline and was cut off");
            return Poll::Ready(Some(Err(axum::Error::new(
                "the answer took longer than HEADROOM_STREAM_TIMEOUT_SECS",
            ))));
        }
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
