//! The errors of [`crate::acme`]: what failed, with the ACME server's
//! problem document as data.

use std::time::SystemTime;

/// The ACME problem type of a rate limit (RFC 8555 section 6.7).
pub const RATE_LIMITED: &str = "urn:ietf:params:acme:error:rateLimited";

/// An RFC 7807 problem document returned by the ACME server, with the
/// `Retry-After` the server sent alongside it (rate limits, RFC 8555
/// section 6.6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The problem type, e.g. `urn:ietf:params:acme:error:rateLimited`.
    pub kind: Option<String>,
    /// The server's human-readable explanation.
    pub detail: Option<String>,
    /// The HTTP status the server answered with.
    pub status: Option<u16>,
    /// Per-identifier problems: (identifier, type, detail).
    pub subproblems: Vec<Subproblem>,
    /// When the server says to try again (its `Retry-After`), if it said.
    pub retry_after: Option<SystemTime>,
}

/// A problem about one identifier of an order (RFC 8555 section 6.7.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subproblem {
    /// The identifier (a DNS name or an IP address), if given.
    pub identifier: Option<String>,
    /// The problem type.
    pub kind: Option<String>,
    /// The server's explanation.
    pub detail: Option<String>,
}

impl Problem {
    pub(crate) fn from_acme(problem: &instant_acme::Problem, retry_after: Option<SystemTime>) -> Self {
        Self {
            kind: problem.r#type.clone(),
            detail: problem.detail.clone(),
            status: problem.status,
            subproblems: problem
                .subproblems
                .iter()
                .map(|s| Subproblem {
                    identifier: s.identifier.as_ref().map(|i| i.authorized(false).to_string()),
                    kind: s.r#type.clone(),
                    detail: s.detail.clone(),
                })
                .collect(),
            retry_after,
        }
    }

    /// Whether this is a rate limit (`urn:ietf:params:acme:error:rateLimited`).
    pub fn is_rate_limited(&self) -> bool {
        self.kind.as_deref() == Some(RATE_LIMITED)
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.kind.as_deref().unwrap_or("untyped problem"))?;
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        Ok(())
    }
}

/// Which step of getting a certificate failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// Fetching the directory, or making or finding the account.
    Account,
    /// Creating the order.
    NewOrder,
    /// Fetching an authorization or answering its challenge.
    Authorization,
    /// Waiting for the order to become ready.
    Validation,
    /// Sending the CSR.
    Finalize,
    /// Downloading the certificate.
    Download,
    /// Asking for renewal information (RFC 9773).
    RenewalInfo,
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Step::Account => "account",
            Step::NewOrder => "new order",
            Step::Authorization => "authorization",
            Step::Validation => "validation",
            Step::Finalize => "finalize",
            Step::Download => "certificate download",
            Step::RenewalInfo => "renewal information",
        })
    }
}

/// Why getting a certificate failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The ACME server answered with a problem document.
    #[error("the ACME server refused the {step} step: {problem}")]
    Server {
        /// The step.
        step: Step,
        /// The server's problem document (and `Retry-After`).
        problem: Problem,
    },
    /// A challenge failed validation: the server's verdict for `identifier`.
    #[error("validation of {identifier} failed: {problem}")]
    Validation {
        /// The identifier (DNS name) whose authorization failed.
        identifier: String,
        /// The challenge's error as the server gave it.
        problem: Problem,
    },
    /// The server offers no challenge of the solver's type for `identifier`.
    #[error("no {challenge} challenge offered for {identifier}")]
    NoChallenge {
        /// The identifier.
        identifier: String,
        /// The challenge type wanted (`http-01`, `tls-alpn-01`, `dns-01`).
        challenge: &'static str,
    },
    /// The order or an authorization ended in a state we cannot go on from.
    #[error("the {step} step ended in state {state}")]
    BadState {
        /// The step.
        step: Step,
        /// The state, as the server named it.
        state: String,
    },
    /// The server did not finish in time (`retry_at`: when it suggested to look again).
    #[error("timed out in the {step} step")]
    Timeout {
        /// The step.
        step: Step,
        /// When the server suggested polling again, if it did.
        retry_at: Option<std::time::Instant>,
    },
    /// Talking to the ACME server failed (connection, TLS, HTTP, JSON).
    #[error("talking to the ACME server failed in the {step} step")]
    Transport {
        /// The step.
        step: Step,
        /// Why.
        source: instant_acme::Error,
    },
    /// A key could not be made, loaded or used.
    #[error("unusable key")]
    Key(#[from] super::keys::KeyError),
    /// The CSR or the TLS-ALPN-01 validation certificate could not be made.
    #[error("cannot make a certificate request")]
    Certificate(#[from] rcgen::Error),
    /// The downloaded chain is not usable.
    #[error("the issued chain is not usable")]
    Chain(#[from] crate::certs::CertError),
    /// A certificate was asked for no name at all.
    #[error("no name to get a certificate for")]
    NoNames,
    /// The issued certificate could not be parsed.
    #[error("the issued certificate could not be parsed: {0}")]
    Parse(String),
    /// Publishing or removing the DNS-01 record failed.
    #[error("the DNS-01 record could not be published")]
    Dns(#[from] super::dns01::DnsError),
    /// The certificate store failed.
    #[error("the certificate store failed")]
    Store(#[from] super::store::StoreError),
}

impl Error {
    /// The server's problem document, if the server refused something.
    pub fn problem(&self) -> Option<&Problem> {
        match self {
            Error::Server { problem, .. } | Error::Validation { problem, .. } => Some(problem),
            _ => None,
        }
    }

    /// When to try again, if the server rate-limited us and said when.
    pub fn retry_after(&self) -> Option<SystemTime> {
        self.problem()
            .filter(|p| p.is_rate_limited())
            .and_then(|p| p.retry_after)
    }

    /// Maps an instant-acme error at `step`, taking the `Retry-After` the
    /// HTTP client saw with it.
    pub(crate) fn acme(step: Step, error: instant_acme::Error, retry_after: Option<SystemTime>) -> Self {
        match error {
            instant_acme::Error::Api(problem) => Error::Server {
                step,
                problem: Problem::from_acme(&problem, retry_after),
            },
            instant_acme::Error::Timeout(retry_at) => Error::Timeout { step, retry_at },
            source => Error::Transport { step, source },
        }
    }
}
