//! Request bodies, with the server's size limit enforced as they stream.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;

use crate::service::ConnInfo;

/// A request body as a paf service receives it: hyper's streaming body,
/// cut with [`BodyError::TooLarge`] once it passes the server's maximum.
/// A service that returns that error (or any error whose source chain holds
/// it) gets a `413 Payload Too Large` sent for it.
#[derive(Debug)]
pub struct Body {
    inner: Incoming,
    remaining: u64,
    limit: u64,
    conn: Arc<ConnInfo>,
}

/// A request body could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// The body is longer than the server accepts.
    #[error("request body larger than {limit} bytes")]
    TooLarge {
        /// The server's maximum, in bytes.
        limit: u64,
    },
    /// The connection failed while reading the body.
    #[error("reading the request body failed")]
    Read(#[from] hyper::Error),
}

impl Body {
    pub(crate) fn new(inner: Incoming, limit: u64, conn: Arc<ConnInfo>) -> Self {
        Self {
            inner,
            remaining: limit,
            limit,
            conn,
        }
    }

    /// The connection the request came on: the client's address, TLS,
    /// SNI, ALPN. Read it before replacing the body.
    pub fn conn_info(&self) -> &Arc<ConnInfo> {
        &self.conn
    }

    /// The maximum this body may be, in bytes.
    pub fn limit(&self) -> u64 {
        self.limit
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let frame = match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => frame,
            Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(BodyError::Read(e)))),
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => return Poll::Pending,
        };
        if let Some(data) = frame.data_ref() {
            let len = data.len() as u64;
            if len > self.remaining {
                self.remaining = 0;
                return Poll::Ready(Some(Err(BodyError::TooLarge { limit: self.limit })));
            }
            self.remaining -= len;
        }
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Whether `error` (or a cause of it) is a body over the server's limit.
pub(crate) fn is_too_large(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if matches!(e.downcast_ref::<BodyError>(), Some(BodyError::TooLarge { .. })) {
            return true;
        }
        cause = e.source();
    }
    false
}
