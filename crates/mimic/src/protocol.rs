//! Protocols: transports that make a flow, and layers that wrap one.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::BoxError;
use crate::context::Value;
use crate::flow::Flow;
use crate::key::{Key, KeyId};

/// A protocol that makes a flow from nothing but its endpoint: TCP, a Unix
/// socket, an in-memory pipe, or yours.
///
/// The transport names the [`Key`] of its endpoint; a resolve tries it when
/// that key is in the context or derivable. The endpoint expands into one or
/// more *targets* (the addresses a host name resolved to, say), which the
/// resolver races the Happy Eyeballs way (RFC 8305): staggered attempts, the
/// first success wins, the others are dropped.
///
/// Most transports are written with [`transport_fn`] (one target) or
/// [`transport_each`] (one target per element of a `Vec` endpoint).
pub trait Transport: Send + Sync + 'static {
    /// The value this transport needs from the context.
    type Endpoint: Send + Sync + 'static;
    /// One thing to connect to.
    type Target: fmt::Display + Send + Sync + 'static;

    /// The protocol's name, as facts and errors show it.
    fn name(&self) -> &str;
    /// The key of the endpoint.
    fn key(&self) -> Key<Self::Endpoint>;
    /// The targets to try for `endpoint`, in order of preference.
    fn targets(&self, endpoint: &Self::Endpoint) -> Vec<Self::Target>;
    /// Connects to one target.
    fn connect(&self, target: &Self::Target) -> impl Future<Output = Result<Flow, BoxError>> + Send;
}

/// A protocol that wraps the flow of a transport: TLS, SSH, a framing or
/// logging wrapper, or yours.
///
/// After a transport connected, every layer whose endpoint key is in the
/// context or derivable wraps the flow, in priority order. A layer that fails
/// fails the whole attempt: a layer is never skipped to fall back to a weaker
/// connection (a TLS handshake that fails is not retried in clear text).
pub trait Layer: Send + Sync + 'static {
    /// The value this layer needs from the context.
    type Endpoint: Send + Sync + 'static;

    /// The layer's name, as facts and errors show it.
    fn name(&self) -> &str;
    /// The key of the endpoint.
    fn key(&self) -> Key<Self::Endpoint>;
    /// Wraps `flow`.
    fn wrap(
        &self,
        flow: Flow,
        endpoint: &Self::Endpoint,
    ) -> impl Future<Output = Result<Flow, BoxError>> + Send;
}

/// A transport from a closure that connects to the endpoint itself.
///
/// ```
/// use mimic::{Flow, Key, transport_fn};
///
/// const PIPE: Key<usize> = Key::new("example.pipe-size");
/// let pipe = transport_fn("pipe", PIPE, |size: usize| async move {
///     let (client, _server) = tokio::io::duplex(size);
///     Ok(Flow::new(client, "pipe"))
/// });
/// # let _ = pipe;
/// ```
pub fn transport_fn<E, F, Fut>(
    name: impl Into<Cow<'static, str>>,
    key: Key<E>,
    connect: F,
) -> TransportFn<E, F>
where
    E: Clone + Send + Sync + 'static,
    F: Fn(E) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Flow, BoxError>> + Send + 'static,
{
    TransportFn {
        name: name.into(),
        key,
        connect,
    }
}

/// A transport made by [`transport_fn`].
pub struct TransportFn<E, F> {
    name: Cow<'static, str>,
    key: Key<E>,
    connect: F,
}

impl<E, F> fmt::Debug for TransportFn<E, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportFn")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The target of a [`transport_fn`]: the endpoint, shown by its key's name.
#[derive(Clone)]
pub struct Whole<E> {
    name: &'static str,
    endpoint: E,
}

impl<E> fmt::Debug for Whole<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Whole")
            .field("key", &self.name)
            .finish_non_exhaustive()
    }
}

impl<E> fmt::Display for Whole<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl<E, F, Fut> Transport for TransportFn<E, F>
where
    E: Clone + Send + Sync + 'static,
    F: Fn(E) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Flow, BoxError>> + Send + 'static,
{
    type Endpoint = E;
    type Target = Whole<E>;

    fn name(&self) -> &str {
        &self.name
    }
    fn key(&self) -> Key<E> {
        self.key
    }
    fn targets(&self, endpoint: &E) -> Vec<Whole<E>> {
        vec![Whole {
            name: self.key.name(),
            endpoint: endpoint.clone(),
        }]
    }
    fn connect(&self, target: &Whole<E>) -> impl Future<Output = Result<Flow, BoxError>> + Send {
        (self.connect)(target.endpoint.clone())
    }
}

/// A transport over a `Vec` endpoint from a closure that connects to one
/// element; the elements are raced the Happy Eyeballs way.
///
/// ```
/// use std::net::SocketAddr;
/// use mimic::{Flow, keys::ADDRS, transport_each};
///
/// // TCP, written again: one attempt per address, staggered.
/// let tcp = transport_each("my-tcp", ADDRS, |addr: SocketAddr| async move {
///     let stream = tokio::net::TcpStream::connect(addr).await?;
///     Ok(Flow::new(stream, "my-tcp"))
/// });
/// # let _ = tcp;
/// ```
pub fn transport_each<E, F, Fut>(
    name: impl Into<Cow<'static, str>>,
    key: Key<Vec<E>>,
    connect: F,
) -> TransportEach<E, F>
where
    E: Clone + fmt::Display + Send + Sync + 'static,
    F: Fn(E) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Flow, BoxError>> + Send + 'static,
{
    TransportEach {
        name: name.into(),
        key,
        connect,
    }
}

/// A transport made by [`transport_each`].
pub struct TransportEach<E, F> {
    name: Cow<'static, str>,
    key: Key<Vec<E>>,
    connect: F,
}

impl<E, F> fmt::Debug for TransportEach<E, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportEach")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl<E, F, Fut> Transport for TransportEach<E, F>
where
    E: Clone + fmt::Display + Send + Sync + 'static,
    F: Fn(E) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Flow, BoxError>> + Send + 'static,
{
    type Endpoint = Vec<E>;
    type Target = E;

    fn name(&self) -> &str {
        &self.name
    }
    fn key(&self) -> Key<Vec<E>> {
        self.key
    }
    fn targets(&self, endpoint: &Vec<E>) -> Vec<E> {
        endpoint.clone()
    }
    fn connect(&self, target: &E) -> impl Future<Output = Result<Flow, BoxError>> + Send {
        (self.connect)(target.clone())
    }
}

/// A layer from a closure.
///
/// ```
/// use mimic::{Key, layer_fn};
///
/// const TRACE: Key<String> = Key::new("example.trace-label");
/// let trace = layer_fn("trace", TRACE, |flow, label: String| async move {
///     eprintln!("{label}: connected over {:?}", flow.facts().protocol());
///     Ok(flow)
/// });
/// # let _ = trace;
/// ```
pub fn layer_fn<E, F, Fut>(name: impl Into<Cow<'static, str>>, key: Key<E>, wrap: F) -> LayerFn<E, F>
where
    E: Clone + Send + Sync + 'static,
    F: Fn(Flow, E) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Flow, BoxError>> + Send + 'static,
{
    LayerFn {
        name: name.into(),
        key,
        wrap,
    }
}

/// A layer made by [`layer_fn`].
pub struct LayerFn<E, F> {
    name: Cow<'static, str>,
    key: Key<E>,
    wrap: F,
}

impl<E, F> fmt::Debug for LayerFn<E, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LayerFn")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl<E, F, Fut> Layer for LayerFn<E, F>
where
    E: Clone + Send + Sync + 'static,
    F: Fn(Flow, E) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Flow, BoxError>> + Send + 'static,
{
    type Endpoint = E;

    fn name(&self) -> &str {
        &self.name
    }
    fn key(&self) -> Key<E> {
        self.key
    }
    fn wrap(&self, flow: Flow, endpoint: &E) -> impl Future<Output = Result<Flow, BoxError>> + Send {
        (self.wrap)(flow, endpoint.clone())
    }
}

// ---- type erasure, for the resolver's registry ----

/// A target with its type erased; shown (formatted) only when an error or a
/// timeout needs it, not on every connect.
pub(crate) struct ErasedTarget {
    target: Box<dyn std::any::Any + Send + Sync>,
    show: fn(&(dyn std::any::Any + Send + Sync)) -> String,
}

impl ErasedTarget {
    pub(crate) fn shown(&self) -> String {
        (self.show)(&*self.target)
    }
}

fn show<T: fmt::Display + 'static>(target: &(dyn std::any::Any + Send + Sync)) -> String {
    target.downcast_ref::<T>().map(T::to_string).unwrap_or_default()
}

pub(crate) trait DynTransport: Send + Sync {
    fn name(&self) -> &str;
    fn key(&self) -> KeyId;
    fn targets(&self, endpoint: &Value) -> Vec<ErasedTarget>;
    fn connect<'a>(&'a self, target: &'a ErasedTarget) -> BoxFuture<'a, Result<Flow, BoxError>>;
}

impl<T: Transport> DynTransport for T {
    fn name(&self) -> &str {
        Transport::name(self)
    }
    fn key(&self) -> KeyId {
        Transport::key(self).id()
    }
    fn targets(&self, endpoint: &Value) -> Vec<ErasedTarget> {
        let Some(endpoint) = endpoint.downcast_ref::<T::Endpoint>() else {
            return Vec::new();
        };
        Transport::targets(self, endpoint)
            .into_iter()
            .map(|t| ErasedTarget {
                target: Box::new(t),
                show: show::<T::Target>,
            })
            .collect()
    }
    fn connect<'a>(&'a self, target: &'a ErasedTarget) -> BoxFuture<'a, Result<Flow, BoxError>> {
        match target.target.downcast_ref::<T::Target>() {
            Some(target) => Box::pin(Transport::connect(self, target)),
            None => Box::pin(std::future::ready(Err("target of another transport".into()))),
        }
    }
}

pub(crate) trait DynLayer: Send + Sync {
    fn name(&self) -> &str;
    fn key(&self) -> KeyId;
    fn wrap<'a>(&'a self, flow: Flow, endpoint: &'a Value) -> BoxFuture<'a, Result<Flow, BoxError>>;
}

impl<L: Layer> DynLayer for L {
    fn name(&self) -> &str {
        Layer::name(self)
    }
    fn key(&self) -> KeyId {
        Layer::key(self).id()
    }
    fn wrap<'a>(&'a self, flow: Flow, endpoint: &'a Value) -> BoxFuture<'a, Result<Flow, BoxError>> {
        match endpoint.downcast_ref::<L::Endpoint>() {
            Some(endpoint) => Box::pin(Layer::wrap(self, flow, endpoint)),
            None => Box::pin(std::future::ready(Err("endpoint of another layer".into()))),
        }
    }
}

pub(crate) type SharedTransport = Arc<dyn DynTransport>;
pub(crate) type SharedLayer = Arc<dyn DynLayer>;
