//! Derived values: a key computed from other keys (mimic's `fold` with
//! `req`, `opt` and `dft`).

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::BoxError;
use crate::context::Value;
use crate::key::{Key, KeyId};

/// How a derivation wants one of its inputs.
#[derive(Clone)]
pub(crate) enum Need {
    /// The derivation cannot run without it.
    Required,
    /// Used when present.
    Optional,
    /// Used when present, this value otherwise.
    Default(Value),
}

#[derive(Clone)]
pub(crate) struct Input {
    pub(crate) id: KeyId,
    pub(crate) need: Need,
}

type Compute = dyn Fn(Inputs) -> BoxFuture<'static, Result<Option<Value>, BoxError>> + Send + Sync;

/// A rule that computes the value of one key from the values of others.
///
/// Made with [`Derive`] and registered on a [`Builder`](crate::Builder).
/// During one [`resolve`](crate::Resolver::resolve) a derivation runs only
/// when a protocol needs its key, after its required inputs (present in the
/// context or themselves derivable) are known, and at most once: its value,
/// its refusal (`Ok(None)`) or its error is remembered until the end of that
/// resolve.
#[derive(Clone)]
pub struct Derivation {
    pub(crate) output: KeyId,
    pub(crate) inputs: Vec<Input>,
    pub(crate) compute: Arc<Compute>,
}

impl fmt::Debug for Derivation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inputs: Vec<_> = self
            .inputs
            .iter()
            .map(|i| match i.need {
                Need::Required => format!("req {}", i.id.name),
                Need::Optional => format!("opt {}", i.id.name),
                Need::Default(_) => format!("dft {}", i.id.name),
            })
            .collect();
        f.debug_struct("Derivation")
            .field("output", &self.output.name)
            .field("inputs", &inputs)
            .finish()
    }
}

/// Builds a [`Derivation`] of the key `T`.
///
/// Declare the inputs (`req`, `opt`, `dft`), then give the computation, sync
/// ([`compute`](Self::compute)) or async ([`compute_async`](Self::compute_async)).
/// The computation returns `Ok(Some(value))`, `Ok(None)` when it does not
/// apply (the key then stays absent, as if it had no derivation), or an error,
/// which the resolve reports for each protocol that needed the key.
///
/// ```
/// use mimic::{Context, Derive, Key, Resolver};
///
/// const USER: Key<String> = Key::new("user");
/// const HOST: Key<String> = Key::new("host");
/// const PORT: Key<u16> = Key::new("port");
/// const ENDPOINT: Key<String> = Key::new("endpoint");
///
/// let endpoint = Derive::new(ENDPOINT)
///     .req(HOST)
///     .opt(USER)
///     .dft(PORT, 22)
///     .compute(|i| {
///         let host = i.req(&HOST)?;
///         let port = i.req(&PORT)?;
///         Ok(Some(match i.get(&USER) {
///             Some(user) => format!("{user}@{host}:{port}"),
///             None => format!("{host}:{port}"),
///         }))
///     });
/// let resolver = Resolver::bare().derive(endpoint).build();
/// # let _ = resolver;
/// ```
pub struct Derive<T> {
    output: Key<T>,
    inputs: Vec<Input>,
}

impl<T> fmt::Debug for Derive<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Derive")
            .field("output", &self.output.name())
            .finish_non_exhaustive()
    }
}

impl<T: Send + Sync + 'static> Derive<T> {
    /// Starts a derivation of `output`.
    pub fn new(output: Key<T>) -> Self {
        Self {
            output,
            inputs: Vec::new(),
        }
    }

    fn input<U: 'static>(mut self, key: Key<U>, need: Need) -> Self {
        self.inputs.push(Input { id: key.id(), need });
        self
    }

    /// `key` must be known (given or derivable) for the derivation to run.
    pub fn req<U: 'static>(self, key: Key<U>) -> Self {
        self.input(key, Need::Required)
    }

    /// `key` is used when it is known.
    pub fn opt<U: 'static>(self, key: Key<U>) -> Self {
        self.input(key, Need::Optional)
    }

    /// `key` is used when it is known, `default` otherwise.
    pub fn dft<U: Send + Sync + 'static>(self, key: Key<U>, default: U) -> Self {
        self.input(key, Need::Default(Arc::new(default)))
    }

    /// The derivation, computed synchronously from its inputs.
    pub fn compute<F>(self, f: F) -> Derivation
    where
        F: Fn(&Inputs) -> Result<Option<T>, BoxError> + Send + Sync + 'static,
    {
        self.finish(Arc::new(move |inputs: Inputs| {
            let out = f(&inputs).map(|v| v.map(|v| Arc::new(v) as Value));
            Box::pin(std::future::ready(out)) as BoxFuture<'static, _>
        }))
    }

    /// The derivation, computed by a future (a DNS lookup, say).
    pub fn compute_async<F, Fut>(self, f: F) -> Derivation
    where
        F: Fn(Inputs) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Option<T>, BoxError>> + Send + 'static,
    {
        self.finish(Arc::new(move |inputs: Inputs| {
            let fut = f(inputs);
            Box::pin(async move { fut.await.map(|v| v.map(|v| Arc::new(v) as Value)) })
                as BoxFuture<'static, _>
        }))
    }

    fn finish(self, compute: Arc<Compute>) -> Derivation {
        Derivation {
            output: self.output.id(),
            inputs: self.inputs,
            compute,
        }
    }
}

/// The values of a derivation's declared inputs.
#[derive(Clone)]
pub struct Inputs {
    pub(crate) values: Vec<(KeyId, Option<Value>)>,
}

impl fmt::Debug for Inputs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set()
            .entries(
                self.values
                    .iter()
                    .filter(|(_, v)| v.is_some())
                    .map(|(id, _)| id.name),
            )
            .finish()
    }
}

/// A derivation asked for an input it did not declare with `req` or `dft`.
#[derive(Debug, thiserror::Error)]
#[error("derivation input `{key}` was not declared with req or dft")]
pub struct UndeclaredInput {
    /// The key's name.
    pub key: &'static str,
}

impl Inputs {
    /// The value of `key`, when the derivation declared it and it is known.
    pub fn get<U: 'static>(&self, key: &Key<U>) -> Option<&U> {
        let id = key.id();
        let value = self.values.iter().find(|(k, _)| *k == id)?.1.as_ref()?;
        (&**value as &dyn Any).downcast_ref()
    }

    /// The value of a `req` or `dft` input, which is always there.
    pub fn req<U: 'static>(&self, key: &Key<U>) -> Result<&U, UndeclaredInput> {
        self.get(key).ok_or(UndeclaredInput { key: key.name() })
    }
}
