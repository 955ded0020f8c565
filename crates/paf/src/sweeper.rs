//! Per-connection timeouts without a timer per request: the header read
//! timeout (slowloris) and the idle keep-alive timeout.
//!
//! hyper's own header read timeout arms a fresh boxed timer for every
//! request head, and an idle timer per connection must be polled on every
//! wake-up of the connection; both showed up in profiles at a few percent
//! of a small-request workload. Instead, each connection shares a
//! [`ConnState`] of plain atomics (requests begun and under way, "bytes of a
//! head have arrived") that the request path updates with relaxed stores,
//! and one sweeper per server looks at every connection a few times per
//! timeout period, nginx-style. A connection the sweeper condemns is
//! signalled and woken; [`Signal::Close`] asks it to finish gracefully,
//! [`Signal::Cut`] drops it.
//!
//! Precision: a timeout fires between 1x and 1.25x its configured value.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What the sweeper asks of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Signal {
    /// Nothing: carry on.
    None,
    /// Finish the requests under way, then close (idle, or server shutdown).
    Close,
    /// Close now (a request head that never completes).
    Cut,
}

/// What one connection shares with the sweeper.
#[derive(Debug, Default)]
pub(crate) struct ConnState {
    /// Requests begun on this connection so far. Only the connection's
    /// task begins requests (hyper calls the service there), so this is
    /// written with a plain load and store.
    began: AtomicU64,
    /// Requests the service has answered (HTTP/2 streams end on any task).
    ended: AtomicU64,
    /// Bytes arrived while no request was under way: a head is being read.
    head_bytes: AtomicBool,
    /// HTTP/2 has no head to time out: set once the connection is known to be HTTP/2.
    http2: AtomicBool,
    signal: AtomicU8,
    waker: Mutex<Option<Waker>>,
}

impl ConnState {
    /// A request's head is complete and the service has it.
    pub(crate) fn begin(&self) {
        self.began.store(self.began.load(Relaxed) + 1, Relaxed);
        self.head_bytes.store(false, Relaxed);
    }

    /// The service has answered a request (or it was cancelled).
    pub(crate) fn end(&self) {
        self.ended.fetch_add(1, Relaxed);
    }

    /// Whether a request is in the service.
    fn active(&self) -> bool {
        self.ended.load(Relaxed) != self.began.load(Relaxed)
    }

    /// The connection speaks HTTP/2: no head timeout.
    pub(crate) fn set_http2(&self) {
        self.http2.store(true, Relaxed);
        self.head_bytes.store(false, Relaxed);
    }

    fn bytes_read(&self) {
        if !self.head_bytes.load(Relaxed) && !self.active() && !self.http2.load(Relaxed) {
            self.head_bytes.store(true, Relaxed);
        }
    }

    fn send(&self, signal: Signal) {
        let value = match signal {
            Signal::None => return,
            Signal::Close => 1,
            Signal::Cut => 2,
        };
        self.signal.fetch_max(value, Relaxed);
        if let Some(waker) = self.waker.lock().unwrap_or_else(PoisonError::into_inner).as_ref() {
            waker.wake_by_ref();
        }
    }

    /// The sweeper's word for this connection; `cx` is woken when it
    /// changes. `registered` is the caller's copy of the waker it last
    /// gave: a waker that did not change (the usual case, polled by one
    /// task) is not stored again.
    pub(crate) fn poll_signal(&self, cx: &mut Context<'_>, registered: &mut Option<Waker>) -> Signal {
        if !registered.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            *registered = Some(cx.waker().clone());
            *self.waker.lock().unwrap_or_else(PoisonError::into_inner) = Some(cx.waker().clone());
        }
        match self.signal.load(Relaxed) {
            0 => Signal::None,
            1 => Signal::Close,
            _ => Signal::Cut,
        }
    }
}

/// What the sweeper remembers of a connection between its rounds.
#[derive(Debug)]
struct Entry {
    state: Arc<ConnState>,
    last_began: u64,
    quiet_rounds: u32,
    head_rounds: u32,
}

#[derive(Debug, Default)]
struct Inner {
    next_id: u64,
    entries: hashbrown::HashMap<u64, Entry>,
    closing: bool,
}

/// Every live connection of a server, for the sweeper.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    inner: Mutex<Inner>,
}

/// A connection's place in the [`Registry`]; leaving it on drop.
#[derive(Debug)]
pub(crate) struct Registration {
    registry: Arc<Registry>,
    id: u64,
    pub(crate) state: Arc<ConnState>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.registry.lock().entries.remove(&self.id);
    }
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a connection; after [`Registry::close_all`] it is told to close at once.
    pub(crate) fn register(self: &Arc<Self>) -> Registration {
        let state = Arc::new(ConnState::default());
        let mut inner = self.lock();
        if inner.closing {
            state.send(Signal::Close);
        }
        let id = inner.next_id;
        inner.next_id += 1;
        inner.entries.insert(
            id,
            Entry {
                state: state.clone(),
                last_began: 0,
                quiet_rounds: 0,
                head_rounds: 0,
            },
        );
        Registration {
            registry: self.clone(),
            id,
            state,
        }
    }

    /// Server shutdown: every connection, now and to come, finishes and closes.
    pub(crate) fn close_all(&self) {
        let mut inner = self.lock();
        inner.closing = true;
        for entry in inner.entries.values() {
            entry.state.send(Signal::Close);
        }
    }

    /// One round of the sweeper, `period` after the last one.
    fn sweep(&self, period: Duration, header_read_timeout: Duration, idle_timeout: Duration) {
        // A condition seen at n consecutive rounds has held for at least
        // (n - 1) periods.
        let rounds = |timeout: Duration| (timeout.as_nanos() / period.as_nanos().max(1)) as u32 + 1;
        let (head_limit, idle_limit) = (rounds(header_read_timeout), rounds(idle_timeout));
        let inner = &mut *self.lock();
        for entry in inner.entries.values_mut() {
            let state = &entry.state;
            let began = state.began.load(Relaxed);
            let fresh = began != entry.last_began;
            entry.last_began = began;
            let head = state.head_bytes.load(Relaxed);
            entry.head_rounds = match (head, fresh) {
                (false, _) => 0,
                (true, true) => 1,
                (true, false) => entry.head_rounds.saturating_add(1),
            };
            let quiet = !fresh && !head && !state.active();
            entry.quiet_rounds = if quiet {
                entry.quiet_rounds.saturating_add(1)
            } else {
                0
            };
            if entry.head_rounds >= head_limit {
                state.send(Signal::Cut);
            } else if entry.quiet_rounds >= idle_limit {
                state.send(Signal::Close);
            }
        }
    }

    /// Sweeps forever, four rounds per shortest timeout.
    pub(crate) async fn run(self: Arc<Self>, header_read_timeout: Duration, idle_timeout: Duration) {
        let period = (header_read_timeout.min(idle_timeout) / 4).max(Duration::from_millis(1));
        let mut ticks = tokio::time::interval(period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            self.sweep(period, header_read_timeout, idle_timeout);
        }
    }
}

const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

pin_project_lite::pin_project! {
    /// A connection's byte stream, telling its [`ConnState`] when bytes of a
    /// request head arrive. In clear text it also spots the HTTP/2 preface
    /// (h2c with prior knowledge), which turns the head timeout off.
    #[derive(Debug)]
    pub(crate) struct Watched<IO> {
        #[pin]
        io: IO,
        state: Arc<ConnState>,
        // How much of the HTTP/2 preface the first bytes matched; `u8::MAX`
        // once decided.
        preface: u8,
    }
}

impl<IO> Watched<IO> {
    /// Watches `io`; `sniff_h2` looks for the h2c preface.
    pub(crate) fn new(io: IO, state: Arc<ConnState>, sniff_h2: bool) -> Self {
        Self {
            io,
            state,
            preface: if sniff_h2 { 0 } else { u8::MAX },
        }
    }
}

impl<IO: AsyncRead> AsyncRead for Watched<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.project();
        let before = buf.filled().len();
        let polled = this.io.poll_read(cx, buf);
        let new = &buf.filled()[before..];
        if !new.is_empty() {
            if *this.preface != u8::MAX {
                let at = usize::from(*this.preface);
                let n = new.len().min(H2_PREFACE.len() - at);
                *this.preface = if new[..n] != H2_PREFACE[at..at + n] {
                    u8::MAX
                } else if at + n == H2_PREFACE.len() {
                    this.state.set_http2();
                    u8::MAX
                } else {
                    (at + n) as u8
                };
            }
            this.state.bytes_read();
        }
        polled
    }
}

impl<IO: AsyncWrite> AsyncWrite for Watched<IO> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        self.project().io.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.project().io.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.project().io.poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        self.project().io.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Duration = Duration::from_millis(100);

    fn sweep(registry: &Registry) {
        registry.sweep(P, Duration::from_millis(400), Duration::from_millis(800));
    }

    #[test]
    fn a_head_that_never_completes_is_cut_after_the_header_timeout() {
        let registry = Arc::new(Registry::default());
        let conn = registry.register();
        conn.state.bytes_read();
        for _ in 0..4 {
            sweep(&registry);
            assert_eq!(conn.state.signal.load(Relaxed), 0);
        }
        sweep(&registry);
        assert_eq!(conn.state.signal.load(Relaxed), 2);
    }

    #[test]
    fn a_completed_head_resets_the_count() {
        let registry = Arc::new(Registry::default());
        let conn = registry.register();
        for _ in 0..20 {
            conn.state.bytes_read();
            sweep(&registry);
            sweep(&registry);
            conn.state.begin();
            conn.state.end();
        }
        assert_eq!(conn.state.signal.load(Relaxed), 0);
    }

    #[test]
    fn a_quiet_connection_is_closed_after_the_idle_timeout_not_the_header_timeout() {
        let registry = Arc::new(Registry::default());
        let conn = registry.register();
        conn.state.begin();
        conn.state.end();
        for _ in 0..9 {
            sweep(&registry);
            assert_eq!(conn.state.signal.load(Relaxed), 0);
        }
        sweep(&registry);
        assert_eq!(conn.state.signal.load(Relaxed), 1);
    }

    #[test]
    fn a_long_request_is_not_idle() {
        let registry = Arc::new(Registry::default());
        let conn = registry.register();
        conn.state.begin();
        for _ in 0..50 {
            sweep(&registry);
        }
        assert_eq!(conn.state.signal.load(Relaxed), 0);
    }

    #[test]
    fn http2_bytes_are_not_a_head() {
        let registry = Arc::new(Registry::default());
        let conn = registry.register();
        conn.state.set_http2();
        conn.state.bytes_read();
        for _ in 0..6 {
            sweep(&registry);
        }
        assert_eq!(conn.state.signal.load(Relaxed), 0);
    }

    #[test]
    fn connections_after_close_all_are_told_to_close() {
        let registry = Arc::new(Registry::default());
        let before = registry.register();
        registry.close_all();
        let after = registry.register();
        assert_eq!(before.state.signal.load(Relaxed), 1);
        assert_eq!(after.state.signal.load(Relaxed), 1);
        drop((before, after));
        assert!(registry.lock().entries.is_empty());
    }

    #[tokio::test]
    async fn the_preface_is_spotted_across_reads() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut client, server) = tokio::io::duplex(64);
        let state = Arc::new(ConnState::default());
        let mut watched = Watched::new(server, state.clone(), true);
        let mut buf = [0; 64];
        for chunk in H2_PREFACE.chunks(5) {
            client.write_all(chunk).await.unwrap();
            let n = watched.read(&mut buf).await.unwrap();
            assert_eq!(n, chunk.len());
        }
        assert!(state.http2.load(Relaxed));
        assert!(!state.head_bytes.load(Relaxed));

        let state = Arc::new(ConnState::default());
        let (mut client, server) = tokio::io::duplex(64);
        let mut watched = Watched::new(server, state.clone(), true);
        client.write_all(b"PRI / HTTP/1.1\r\n").await.unwrap();
        let _ = watched.read(&mut buf).await.unwrap();
        assert!(!state.http2.load(Relaxed));
        assert!(state.head_bytes.load(Relaxed));
    }
}
