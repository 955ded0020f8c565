//! The registry of protocols and derivations, and `resolve`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use hashbrown::HashMap;

use crate::context::{Context, Value};
use crate::derive::{Derivation, Inputs, Need};
use crate::error::{Attempt, Error, Missing, NoTarget, SharedError, Stage, TimedOut};
use crate::flow::Flow;
use crate::happy_eyeballs;
use crate::key::KeyId;
use crate::keys::{CONNECT_TIMEOUT, HAPPY_EYEBALLS_DELAY};
use crate::protocol::{Layer, SharedLayer, SharedTransport, Transport};

/// The Happy Eyeballs "connection attempt delay" when the context gives none
/// (RFC 8305 section 8 recommends 250 ms).
pub const DEFAULT_HAPPY_EYEBALLS_DELAY: Duration = Duration::from_millis(250);

/// Protocols and derivations, registered once; [`resolve`](Self::resolve)
/// turns a [`Context`] into one [`Flow`].
///
/// Cloning is cheap (the registry is shared). [`Resolver::new`] has the
/// built-in protocols and derivations (see the [crate docs](crate)); build
/// your own with [`Resolver::builder`] (built-ins included) or
/// [`Resolver::bare`] (nothing registered).
#[derive(Clone)]
pub struct Resolver {
    registry: Arc<Registry>,
}

struct Registry {
    transports: Vec<(i32, SharedTransport)>,
    layers: Vec<(i32, SharedLayer)>,
    derivations: HashMap<KeyId, Vec<Derivation>>,
}

impl Default for Resolver {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.registry;
        f.debug_struct("Resolver")
            .field(
                "transports",
                &r.transports
                    .iter()
                    .map(|(p, t)| (p, t.name()))
                    .collect::<Vec<_>>(),
            )
            .field(
                "layers",
                &r.layers.iter().map(|(p, l)| (p, l.name())).collect::<Vec<_>>(),
            )
            .field(
                "derivations",
                &r.derivations.values().flatten().collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Builds a [`Resolver`].
///
/// Priorities: a smaller number is tried first; equal priorities keep the
/// order of registration. The built-ins use `memory` 10, `unix` 20, `tcp` 30
/// and the `tls` layer 50.
pub struct Builder {
    transports: Vec<(i32, SharedTransport)>,
    layers: Vec<(i32, SharedLayer)>,
    derivations: Vec<Derivation>,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder").finish_non_exhaustive()
    }
}

impl Builder {
    /// Registers a transport at `priority`.
    pub fn transport<T: Transport>(mut self, priority: i32, transport: T) -> Self {
        self.transports.push((priority, Arc::new(transport)));
        self
    }

    /// Registers a layer at `priority` (smaller wraps first, closer to the wire).
    pub fn layer<L: Layer>(mut self, priority: i32, layer: L) -> Self {
        self.layers.push((priority, Arc::new(layer)));
        self
    }

    /// Registers a derivation. A key may have several: they are tried in the
    /// order registered until one gives a value.
    pub fn derive(mut self, derivation: Derivation) -> Self {
        self.derivations.push(derivation);
        self
    }

    /// The resolver.
    pub fn build(mut self) -> Resolver {
        // Stable sorts: equal priorities keep the order of registration.
        self.transports.sort_by_key(|(p, _)| *p);
        self.layers.sort_by_key(|(p, _)| *p);
        let mut derivations: HashMap<KeyId, Vec<Derivation>> = HashMap::new();
        for d in self.derivations {
            derivations.entry(d.output).or_default().push(d);
        }
        Resolver {
            registry: Arc::new(Registry {
                transports: self.transports,
                layers: self.layers,
                derivations,
            }),
        }
    }
}

impl Resolver {
    /// A resolver with the built-in protocols and derivations.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder that starts with the built-in protocols and derivations.
    pub fn builder() -> Builder {
        crate::builtin::register(Self::bare())
    }

    /// A builder with nothing registered.
    pub fn bare() -> Builder {
        Builder {
            transports: Vec::new(),
            layers: Vec::new(),
            derivations: Vec::new(),
        }
    }

    /// Connects with the first protocol that can, given what `ctx` holds.
    ///
    /// Transports whose endpoint is in `ctx` or derivable are tried in
    /// priority order; the targets of one transport are raced the Happy
    /// Eyeballs way (staggered by [`HAPPY_EYEBALLS_DELAY`], 250 ms by
    /// default; the first success wins and the others are dropped). The
    /// winning flow then goes through every layer whose endpoint is known
    /// (TLS when the context asks for it). A layer that fails fails that
    /// transport; the next one is tried, with the same layers.
    ///
    /// The whole resolve is bounded by [`CONNECT_TIMEOUT`] when the context
    /// has one. Cancel-safe: dropping the future drops every attempt under
    /// way; nothing keeps running in the background.
    pub async fn resolve(&self, ctx: &Context) -> Result<Flow, Error> {
        let Some(after) = ctx.get(&CONNECT_TIMEOUT).copied() else {
            return self.resolve_logged(ctx, &mut Log::default()).await;
        };
        // Only a resolve that may time out needs to know what is under way.
        let mut log = Log {
            track_in_flight: true,
            ..Log::default()
        };
        let outcome = tokio::time::timeout(after, self.resolve_logged(ctx, &mut log)).await;
        match outcome {
            Ok(result) => result,
            Err(_) => {
                let mut attempts = log.failed;
                attempts.extend(log.in_flight.into_iter().map(|(protocol, target)| Attempt {
                    protocol,
                    target: Some(target),
                    stage: Stage::Connect,
                    error: Arc::new(TimedOut),
                }));
                Err(Error::Timeout { after, attempts })
            }
        }
    }

    async fn resolve_logged(&self, ctx: &Context, log: &mut Log) -> Result<Flow, Error> {
        let registry = &*self.registry;
        let mut session = Session {
            registry,
            ctx,
            cache: Cache::default(),
        };
        let delay = ctx
            .get(&HAPPY_EYEBALLS_DELAY)
            .copied()
            .unwrap_or(DEFAULT_HAPPY_EYEBALLS_DELAY);
        let mut missing = Vec::new();
        let mut tried = false;
        for (_, transport) in &registry.transports {
            let key = transport.key();
            let endpoint = match session.get(key).await {
                Ok(Some(endpoint)) => endpoint,
                Ok(None) => {
                    missing.push(Missing {
                        protocol: transport.name().to_string(),
                        key: key.name,
                        inputs: session.missing_inputs(key),
                    });
                    continue;
                }
                Err(failure) => {
                    tried = true;
                    log.failed.push(failure.attempt(transport.name()));
                    continue;
                }
            };
            tried = true;
            // The layers' endpoints, before any connection is made: a bad
            // server name fails here, not after a wasted connect.
            let mut layers = Vec::new();
            let mut layers_ok = true;
            for (_, layer) in &registry.layers {
                match session.get(layer.key()).await {
                    Ok(Some(endpoint)) => layers.push((layer, endpoint)),
                    Ok(None) => {}
                    Err(failure) => {
                        log.failed.push(failure.attempt(layer.name()));
                        layers_ok = false;
                        break;
                    }
                }
            }
            if !layers_ok {
                continue;
            }
            let targets = transport.targets(&endpoint);
            if targets.is_empty() {
                log.failed.push(Attempt {
                    protocol: transport.name().to_string(),
                    target: None,
                    stage: Stage::Connect,
                    error: Arc::new(NoTarget),
                });
                continue;
            }
            let Some((winner, flow)) = happy_eyeballs::race(&**transport, &targets, delay, log).await else {
                continue;
            };
            match apply_layers(flow, &layers).await {
                Ok(flow) => return Ok(flow),
                Err((layer, error)) => log.failed.push(Attempt {
                    protocol: layer.to_string(),
                    target: Some(targets[winner].shown()),
                    stage: Stage::Layer {
                        layer: layer.to_string(),
                    },
                    error: Arc::from(error),
                }),
            }
        }
        if tried {
            Err(Error::Failed {
                attempts: std::mem::take(&mut log.failed),
            })
        } else {
            Err(Error::NoProtocol { missing })
        }
    }
}

/// Wraps `flow` in each layer; the name and error of the layer that failed.
async fn apply_layers<'a>(
    mut flow: Flow,
    layers: &'a [(&SharedLayer, Value)],
) -> Result<Flow, (&'a str, crate::BoxError)> {
    for (layer, endpoint) in layers {
        let mut facts = flow.facts().clone();
        let mut wrapped = layer.wrap(flow, endpoint).await.map_err(|e| (layer.name(), e))?;
        // A layer may build its flow afresh: keep what was known below it,
        // and say it was applied.
        facts.extend(wrapped.facts());
        let mut names = facts.get::<crate::facts::Layers>().cloned().unwrap_or_default();
        names.0.push(layer.name().to_string().into());
        facts.insert(names);
        *wrapped.facts_mut() = facts;
        flow = wrapped;
    }
    Ok(flow)
}

/// What a resolve has tried so far.
#[derive(Default)]
pub(crate) struct Log {
    pub(crate) failed: Vec<Attempt>,
    /// Attempts under way: (protocol, target), when `track_in_flight`.
    pub(crate) in_flight: Vec<(String, String)>,
    pub(crate) track_in_flight: bool,
}

/// A derivation that failed, remembered for the rest of the resolve.
#[derive(Clone)]
struct DeriveFailure {
    key: &'static str,
    error: SharedError,
}

impl DeriveFailure {
    fn attempt(&self, protocol: &str) -> Attempt {
        Attempt {
            protocol: protocol.to_string(),
            target: None,
            stage: Stage::Derive { key: self.key },
            error: self.error.clone(),
        }
    }
}

#[derive(Clone)]
enum Slot {
    /// Being computed: asking for it again is a cycle.
    Pending,
    Done(Option<Value>),
    Failed(DeriveFailure),
}

/// The state of one resolve: the context, and the derived values so far
/// (a few per resolve: a vector beats a hash map).
struct Session<'a> {
    registry: &'a Registry,
    ctx: &'a Context,
    cache: Cache,
}

#[derive(Default)]
struct Cache(Vec<(KeyId, Slot)>);

impl Cache {
    fn get(&self, key: &KeyId) -> Option<&Slot> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, slot)| slot)
    }

    fn insert(&mut self, key: KeyId, slot: Slot) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = slot,
            None => self.0.push((key, slot)),
        }
    }
}

impl Session<'_> {
    /// Whether `key` is given or may be derived (without running anything).
    fn available(&self, key: KeyId, visiting: &mut Vec<KeyId>) -> bool {
        if self.ctx.get_erased(&key).is_some() {
            return true;
        }
        match self.cache.get(&key) {
            Some(Slot::Done(value)) => return value.is_some(),
            Some(Slot::Failed(_)) => return true,
            Some(Slot::Pending) => return false,
            None => {}
        }
        if visiting.contains(&key) {
            return false;
        }
        let Some(derivations) = self.registry.derivations.get(&key) else {
            return false;
        };
        visiting.push(key);
        let found = derivations.iter().any(|d| {
            d.inputs
                .iter()
                .filter(|i| matches!(i.need, Need::Required))
                .all(|i| self.available(i.id, visiting))
        });
        visiting.pop();
        found
    }

    /// The required inputs, missing too, of the derivations of `key`.
    fn missing_inputs(&self, key: KeyId) -> Vec<&'static str> {
        let mut missing = Vec::new();
        for d in self.registry.derivations.get(&key).into_iter().flatten() {
            for input in d.inputs.iter().filter(|i| matches!(i.need, Need::Required)) {
                if !self.available(input.id, &mut Vec::new()) && !missing.contains(&input.id.name) {
                    missing.push(input.id.name);
                }
            }
        }
        missing
    }

    /// The value of `key`: from the context, or derived (once per resolve).
    fn get(&mut self, key: KeyId) -> BoxFuture<'_, Result<Option<Value>, DeriveFailure>> {
        Box::pin(async move {
            if let Some(entry) = self.ctx.get_erased(&key) {
                return Ok(Some(entry.value.clone()));
            }
            match self.cache.get(&key) {
                Some(Slot::Done(value)) => return Ok(value.clone()),
                Some(Slot::Failed(failure)) => return Err(failure.clone()),
                Some(Slot::Pending) => return Ok(None),
                None => {}
            }
            let registry = self.registry;
            let Some(derivations) = registry.derivations.get(&key) else {
                return Ok(None);
            };
            self.cache.insert(key, Slot::Pending);
            let mut result = Ok(None);
            'derivations: for d in derivations {
                let ready = d
                    .inputs
                    .iter()
                    .filter(|i| matches!(i.need, Need::Required))
                    .all(|i| self.available(i.id, &mut vec![key]));
                if !ready {
                    continue;
                }
                let mut values = Vec::with_capacity(d.inputs.len());
                for input in &d.inputs {
                    let known = self.available(input.id, &mut vec![key]);
                    let value = if known {
                        match self.get(input.id).await {
                            Ok(value) => value,
                            Err(failure) => {
                                result = Err(failure);
                                break 'derivations;
                            }
                        }
                    } else {
                        None
                    };
                    let value = match (&input.need, value) {
                        (Need::Required, None) => continue 'derivations,
                        (Need::Default(default), None) => Some(default.clone()),
                        (_, value) => value,
                    };
                    values.push((input.id, value));
                }
                match (d.compute)(Inputs { values }).await {
                    Ok(Some(value)) => {
                        result = Ok(Some(value));
                        break;
                    }
                    Ok(None) => {}
                    Err(error) => {
                        result = Err(DeriveFailure {
                            key: key.name,
                            error: Arc::from(error),
                        });
                        break;
                    }
                }
            }
            let slot = match &result {
                Ok(value) => Slot::Done(value.clone()),
                Err(failure) => Slot::Failed(failure.clone()),
            };
            self.cache.insert(key, slot);
            result
        })
    }
}
