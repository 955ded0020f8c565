//! What a resolve reports when it returns no flow.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// A shared error value: derivation errors are reported by every protocol
/// that needed the key, so they are shared rather than copied.
pub type SharedError = Arc<dyn std::error::Error + Send + Sync>;

/// Why [`Resolver::resolve`](crate::Resolver::resolve) returned no flow.
///
/// Unlike most errors, [`Failed`](Error::Failed) and [`Timeout`](Error::Timeout)
/// have several causes, one per candidate tried: `Display` lists each one
/// with its reason, and [`attempts`](Error::attempts) gives them as data.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No registered transport had its endpoint in the context or derivable.
    #[error("no protocol had its inputs: {}", ListMissing(.missing))]
    NoProtocol {
        /// For each transport, what it lacked.
        missing: Vec<Missing>,
    },
    /// Every candidate was tried, and each failed.
    #[error("could not connect: {}", ListAttempts(.attempts))]
    Failed {
        /// Each candidate tried, in the order they failed.
        attempts: Vec<Attempt>,
    },
    /// The context's [`CONNECT_TIMEOUT`](crate::keys::CONNECT_TIMEOUT) expired first.
    #[error("timed out after {after:?}: {}", ListAttempts(.attempts))]
    Timeout {
        /// The timeout.
        after: Duration,
        /// The candidates that failed before, and those still under way
        /// (with a [`TimedOut`] error).
        attempts: Vec<Attempt>,
    },
}

impl Error {
    /// The candidates tried and why each failed (empty for [`Error::NoProtocol`]).
    pub fn attempts(&self) -> &[Attempt] {
        match self {
            Error::NoProtocol { .. } => &[],
            Error::Failed { attempts } | Error::Timeout { attempts, .. } => attempts,
        }
    }

    /// Whether trying again later may succeed: a timeout, or a failure where
    /// every attempt failed on a connection (not on a derivation such as a
    /// malformed server name, nor for lack of inputs).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::NoProtocol { .. } => false,
            Error::Timeout { .. } => true,
            Error::Failed { attempts } => attempts.iter().all(|a| matches!(a.stage, Stage::Connect)),
        }
    }
}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> Self {
        let kind = match &e {
            Error::NoProtocol { .. } => std::io::ErrorKind::InvalidInput,
            Error::Timeout { .. } => std::io::ErrorKind::TimedOut,
            Error::Failed { .. } => std::io::ErrorKind::ConnectionRefused,
        };
        std::io::Error::new(kind, e)
    }
}

/// A transport that could not be tried, and what it lacked.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Missing {
    /// The transport's name.
    pub protocol: String,
    /// The key of its endpoint, which is neither in the context nor derivable.
    pub key: &'static str,
    /// The required inputs of the derivations of `key` that are missing too
    /// (empty when `key` has no derivation: give it directly).
    pub inputs: Vec<&'static str>,
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} needs `{}`", self.protocol, self.key)?;
        if !self.inputs.is_empty() {
            f.write_str(" (or to derive it: ")?;
            for (i, input) in self.inputs.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "`{input}`")?;
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// One candidate that was tried, and why it failed.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Attempt {
    /// The transport (or layer, for [`Stage::Layer`]) that failed.
    pub protocol: String,
    /// What it was connecting to (`127.0.0.1:443`, a socket path...), when
    /// the failure came after the endpoint was known.
    pub target: Option<String>,
    /// Where it failed.
    pub stage: Stage,
    /// Why.
    pub error: SharedError,
}

impl fmt::Display for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.protocol)?;
        if let Some(target) = &self.target {
            write!(f, " {target}")?;
        }
        match &self.stage {
            Stage::Derive { key } => write!(f, " (deriving `{key}`)")?,
            Stage::Connect => {}
            Stage::Layer { layer } => write!(f, " (layer {layer})")?,
        }
        write!(f, ": {}", self.error)?;
        // The chain below the attempt's own error, each message once.
        let mut source = self.error.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

/// Where an attempt failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stage {
    /// Computing a derived key (a DNS lookup, a TLS configuration...).
    Derive {
        /// The key whose derivation failed.
        key: &'static str,
    },
    /// The transport's connect.
    Connect,
    /// A layer over the transport's flow (a TLS handshake, say).
    Layer {
        /// The layer's name.
        layer: String,
    },
}

/// The error of an attempt still under way when the resolve timed out.
#[derive(Clone, Copy, Debug, thiserror::Error)]
#[error("still connecting when the timeout expired")]
pub struct TimedOut;

/// A transport had no target to try (a name that resolved to no address).
#[derive(Clone, Copy, Debug, thiserror::Error)]
#[error("the endpoint has no target to try")]
pub struct NoTarget;

struct ListMissing<'a>(&'a [Missing]);

impl fmt::Display for ListMissing<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("no protocol is registered");
        }
        for (i, missing) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{missing}")?;
        }
        Ok(())
    }
}

struct ListAttempts<'a>(&'a [Attempt]);

impl fmt::Display for ListAttempts<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("nothing was tried");
        }
        write!(
            f,
            "{} attempt{} failed: ",
            self.0.len(),
            if self.0.len() == 1 { "" } else { "s" }
        )?;
        for (i, attempt) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{attempt}")?;
        }
        Ok(())
    }
}
