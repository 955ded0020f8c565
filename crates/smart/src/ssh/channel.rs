//! An SSH exec channel as a byte stream: stdout in, stdin out, stderr and
//! the exit status kept so that a command that fails says why.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use russh::ChannelMsg;
use russh::ChannelReadHalf;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Bytes of the remote command's stderr kept for an error message.
const MAX_STDERR: usize = 16 * 1024;

/// The remote command ended with a failure (its stderr says why: a
/// missing repository, a refused command...).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{} with exit status {}: {}", .command, .status.map_or_else(|| "?".to_string(), |s| s.to_string()), .stderr.trim_end())]
#[non_exhaustive]
pub struct CommandFailed {
    /// The command run (`git-upload-pack '/x.git'`).
    pub command: String,
    /// Its exit status (`None`: killed by a signal, or the server refused to run it).
    pub status: Option<u32>,
    /// What it wrote to stderr (the first 16 KiB), or why it did not run.
    pub stderr: String,
}

type Wait = Pin<Box<dyn Future<Output = (ChannelReadHalf, Option<ChannelMsg>)> + Send>>;

enum Reader {
    Idle(ChannelReadHalf),
    Waiting(Wait),
    Finished,
}

/// The exec channel as `AsyncRead + AsyncWrite`. Keeps the SSH session
/// alive (`_session`) as long as it lives.
pub(crate) struct ChannelIo<S: Send + Unpin + 'static> {
    reader: Reader,
    pending: Bytes,
    stdout_eof: bool,
    exit: Option<Option<u32>>,
    stderr: Vec<u8>,
    command: String,
    writer: Pin<Box<dyn AsyncWrite + Send>>,
    _session: S,
}

impl<S: Send + Unpin + 'static> ChannelIo<S> {
    pub(crate) fn new(
        read: ChannelReadHalf,
        writer: impl AsyncWrite + Send + 'static,
        command: String,
        session: S,
    ) -> Self {
        Self {
            reader: Reader::Idle(read),
            pending: Bytes::new(),
            stdout_eof: false,
            exit: None,
            stderr: Vec::new(),
            command,
            writer: Box::pin(writer),
            _session: session,
        }
    }

    /// The end of stdout: clean when the command succeeded (or said
    /// nothing), an error carrying its stderr when it failed.
    fn end(&self) -> io::Result<()> {
        match self.exit {
            Some(Some(0)) => Ok(()),
            None if self.stderr.is_empty() => Ok(()),
            status => Err(io::Error::other(CommandFailed {
                command: self.command.clone(),
                status: status.flatten(),
                stderr: String::from_utf8_lossy(&self.stderr).into_owned(),
            })),
        }
    }

    fn keep_stderr(&mut self, data: &[u8]) {
        let room = MAX_STDERR.saturating_sub(self.stderr.len());
        self.stderr.extend_from_slice(&data[..data.len().min(room)]);
    }
}

impl<S: Send + Unpin + 'static> AsyncRead for ChannelIo<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if !this.pending.is_empty() {
                let n = this.pending.len().min(buf.remaining());
                buf.put_slice(&this.pending[..n]);
                this.pending.advance(n);
                return Poll::Ready(Ok(()));
            }
            let wait = match std::mem::replace(&mut this.reader, Reader::Finished) {
                Reader::Finished => return Poll::Ready(this.end()),
                Reader::Idle(mut read) => Box::pin(async move {
                    let msg = read.wait().await;
                    (read, msg)
                }),
                Reader::Waiting(wait) => wait,
            };
            let mut wait = wait;
            let (read, msg) = match wait.as_mut().poll(cx) {
                Poll::Pending => {
                    this.reader = Reader::Waiting(wait);
                    return Poll::Pending;
                }
                Poll::Ready(out) => out,
            };
            this.reader = Reader::Idle(read);
            match msg {
                Some(ChannelMsg::Data { data }) => this.pending = data,
                Some(ChannelMsg::ExtendedData { data, .. }) => this.keep_stderr(&data),
                Some(ChannelMsg::Eof) => this.stdout_eof = true,
                Some(ChannelMsg::ExitStatus { exit_status }) => this.exit = Some(Some(exit_status)),
                Some(ChannelMsg::ExitSignal {
                    signal_name,
                    error_message,
                    ..
                }) => {
                    this.keep_stderr(format!("killed by signal {signal_name:?} {error_message}").as_bytes());
                    this.exit = Some(None);
                }
                Some(ChannelMsg::Failure) => {
                    this.keep_stderr(b"the server refused to run the command");
                    this.exit = Some(None);
                    this.reader = Reader::Finished;
                }
                Some(ChannelMsg::Close) | None => this.reader = Reader::Finished,
                Some(_) => {}
            }
            if this.stdout_eof && this.exit.is_some() {
                this.reader = Reader::Finished;
            }
        }
    }
}

impl<S: Send + Unpin + 'static> AsyncWrite for ChannelIo<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let n = ready!(self.writer.as_mut().poll_write(cx, buf));
        Poll::Ready(n)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.writer.as_mut().poll_flush(cx)
    }

    /// Sends EOF (the remote command's stdin ends).
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.writer.as_mut().poll_shutdown(cx)
    }
}
