//! DNS-01 (RFC 8555 section 8.4): the TXT record `_acme-challenge.<name>`
//! published by RFC 2136 dynamic update, signed with a TSIG key (RFC 8945),
//! sent to a primary DNS server given by address and port.
//!
//! On hickory-client 0.25 (`Client` over TCP, `TSigner` from hickory-proto
//! with its ring backend): hickory is the maintained pure-Rust DNS stack,
//! its client speaks RFC 2136 updates and signs them with TSIG as bind9
//! expects, and its `dnssec-ring` feature keeps ring the one crypto
//! provider of the tree. 0.26 was an alpha when this was written.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use hickory_client::client::{Client, ClientHandle};
use hickory_proto::dnssec::rdata::tsig::TsigAlgorithm;
use hickory_proto::dnssec::tsig::TSigner;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::rdata::TXT;
use hickory_proto::rr::{DNSClass, Name, RData, Record, RecordSet, RecordType};
use hickory_proto::runtime::TokioRuntimeProvider;
use hickory_proto::tcp::TcpClientStream;

/// Publishing or checking a DNS-01 record failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DnsError {
    /// The TSIG key is not `name:algorithm:base64secret`.
    #[error("TSIG key is not name:algorithm:base64secret ({what})")]
    BadKey {
        /// What was wrong.
        what: &'static str,
    },
    /// The TSIG algorithm is not one hickory signs with (hmac-sha256, -384, -512).
    #[error("unsupported TSIG algorithm {algorithm}")]
    UnsupportedAlgorithm {
        /// The algorithm as given.
        algorithm: String,
    },
    /// A name is not a valid DNS name, or not inside the zone.
    #[error("bad DNS name {name}")]
    BadName {
        /// The name.
        name: String,
    },
    /// The server answered the update or query with an error code
    /// (`REFUSED`, `NOTAUTH` for a bad signature...).
    #[error("{server} answered {rcode} for {name}")]
    Refused {
        /// The server.
        server: SocketAddr,
        /// The name updated or queried.
        name: String,
        /// The response code.
        rcode: ResponseCode,
    },
    /// The server did not answer the published value in time.
    #[error("{server} did not answer the TXT value of {name} within {waited:?}")]
    NotVisible {
        /// The server asked.
        server: SocketAddr,
        /// The record's name.
        name: String,
        /// How long we polled.
        waited: Duration,
    },
    /// Talking to the server failed.
    #[error("DNS exchange with {server} failed")]
    Exchange {
        /// The server.
        server: SocketAddr,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// A TSIG key: its name, algorithm and secret (`name:algorithm:base64secret`,
/// the form `tsig-keygen`'s output and lego's `RFC2136_TSIG_*` carry).
#[derive(Clone)]
pub struct TsigKey {
    name: String,
    algorithm: String,
    secret: Vec<u8>,
}

impl std::fmt::Debug for TsigKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TsigKey")
            .field("name", &self.name)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl std::str::FromStr for TsigKey {
    type Err = DnsError;

    /// ```
    /// let key: paf::acme::dns01::TsigKey = "k:hmac-sha256:c2VjcmV0".parse()?;
    /// assert_eq!(key.name(), "k");
    /// assert!("k:hmac-sha256:not base64!".parse::<paf::acme::dns01::TsigKey>().is_err());
    /// # Ok::<(), paf::acme::dns01::DnsError>(())
    /// ```
    fn from_str(s: &str) -> Result<Self, DnsError> {
        let mut parts = s.splitn(3, ':');
        let (Some(name), Some(algorithm), Some(secret)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(DnsError::BadKey { what: "three parts" });
        };
        if name.is_empty() {
            return Err(DnsError::BadKey { what: "empty name" });
        }
        let secret = base64::engine::general_purpose::STANDARD
            .decode(secret.trim())
            .map_err(|_| DnsError::BadKey {
                what: "secret is not base64",
            })?;
        let key = Self {
            name: name.to_string(),
            algorithm: algorithm.trim_end_matches('.').to_ascii_lowercase(),
            secret,
        };
        key.algorithm()?;
        Ok(key)
    }
}

impl TsigKey {
    /// The key's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn algorithm(&self) -> Result<TsigAlgorithm, DnsError> {
        let algorithm = match self.algorithm.as_str() {
            "hmac-sha256" => TsigAlgorithm::HmacSha256,
            "hmac-sha384" => TsigAlgorithm::HmacSha384,
            "hmac-sha512" => TsigAlgorithm::HmacSha512,
            _ => {
                return Err(DnsError::UnsupportedAlgorithm {
                    algorithm: self.algorithm.clone(),
                });
            }
        };
        Ok(algorithm)
    }

    fn signer(&self) -> Result<TSigner, DnsError> {
        let name = dns_name(&self.name)?;
        TSigner::new(self.secret.clone(), self.algorithm()?, name, 300).map_err(|_| {
            DnsError::UnsupportedAlgorithm {
                algorithm: self.algorithm.clone(),
            }
        })
    }
}

fn dns_name(name: &str) -> Result<Name, DnsError> {
    let mut parsed = Name::from_ascii(name).map_err(|_| DnsError::BadName {
        name: name.to_string(),
    })?;
    parsed.set_fqdn(true);
    Ok(parsed)
}

/// The name of the DNS-01 TXT record for `identifier` (a wildcard's is
/// that of its parent).
pub fn record_name(identifier: &str) -> String {
    let base = identifier.strip_prefix("*.").unwrap_or(identifier);
    format!("_acme-challenge.{}", base.trim_end_matches('.'))
}

/// Publishes TXT records by RFC 2136 update, signed with TSIG, to a primary
/// server for one zone.
#[derive(Clone)]
pub struct Rfc2136 {
    server: SocketAddr,
    zone: Name,
    signer: TSigner,
    timeout: Duration,
    visible_within: Duration,
    ttl: u32,
}

impl std::fmt::Debug for Rfc2136 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rfc2136")
            .field("server", &self.server)
            .field("zone", &self.zone.to_ascii())
            .finish_non_exhaustive()
    }
}

impl Rfc2136 {
    /// Updates of `zone` go to `server`, signed with `key`.
    pub fn new(server: SocketAddr, zone: &str, key: &TsigKey) -> Result<Self, DnsError> {
        Ok(Self {
            server,
            zone: dns_name(zone)?,
            signer: key.signer()?,
            timeout: Duration::from_secs(10),
            visible_within: Duration::from_secs(30),
            ttl: 60,
        })
    }

    /// The timeout of each exchange (default 10 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long [`wait_visible`](Self::wait_visible) polls (default 30 s).
    pub fn with_visible_within(mut self, limit: Duration) -> Self {
        self.visible_within = limit;
        self
    }

    /// Polls the server until it answers `value` among the TXT values of
    /// `name` (the server itself is asked: no recursive resolver, whose
    /// cache could lie), for at most the configured limit.
    pub async fn wait_visible(&self, name: &str, value: &str) -> Result<(), DnsError> {
        let start = tokio::time::Instant::now();
        let mut pause = Duration::from_millis(20);
        loop {
            if self.query_txt(name).await?.iter().any(|v| v == value) {
                return Ok(());
            }
            if start.elapsed() >= self.visible_within {
                return Err(DnsError::NotVisible {
                    server: self.server,
                    name: name.to_string(),
                    waited: start.elapsed(),
                });
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(1));
        }
    }

    fn record(&self, name: &str, value: &str) -> Result<(Name, Record), DnsError> {
        let fqdn = dns_name(name)?;
        if !self.zone.zone_of(&fqdn) {
            return Err(DnsError::BadName {
                name: name.to_string(),
            });
        }
        let rdata = RData::TXT(TXT::new(vec![value.to_string()]));
        Ok((fqdn.clone(), Record::from_rdata(fqdn, self.ttl, rdata)))
    }

    /// Adds the TXT record `name` = `value` (other values of `name` stay).
    pub async fn add_txt(&self, name: &str, value: &str) -> Result<(), DnsError> {
        let (_, record) = self.record(name, value)?;
        let zone = self.zone.clone();
        self.exchange(name, move |mut client| async move {
            client.append(RecordSet::from(record), zone, false).await
        })
        .await
        .map(drop)
    }

    /// Removes the TXT record `name` = `value` (absent: nothing to do).
    pub async fn remove_txt(&self, name: &str, value: &str) -> Result<(), DnsError> {
        let (_, mut record) = self.record(name, value)?;
        record.set_dns_class(DNSClass::IN);
        let zone = self.zone.clone();
        self.exchange(name, move |mut client| async move {
            client.delete_by_rdata(RecordSet::from(record), zone).await
        })
        .await
        .map(drop)
    }

    /// The TXT values of `name` as the server itself answers (the check
    /// that an update landed; no recursive resolver involved).
    pub async fn query_txt(&self, name: &str) -> Result<Vec<String>, DnsError> {
        let fqdn = dns_name(name)?;
        let response = match self
            .exchange_unsigned(name, move |mut client| async move {
                client.query(fqdn, DNSClass::IN, RecordType::TXT).await
            })
            .await
        {
            Ok(response) => response,
            Err(DnsError::Refused {
                rcode: ResponseCode::NXDomain,
                ..
            }) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        Ok(response
            .answers()
            .iter()
            .filter_map(|r| match r.data() {
                RData::TXT(txt) => Some(
                    txt.txt_data()
                        .iter()
                        .map(|part| String::from_utf8_lossy(part).into_owned())
                        .collect::<String>(),
                ),
                _ => None,
            })
            .collect())
    }

    async fn exchange<F, Fut>(&self, name: &str, op: F) -> Result<hickory_proto::xfer::DnsResponse, DnsError>
    where
        F: FnOnce(Client) -> Fut,
        Fut: std::future::Future<
                Output = Result<hickory_proto::xfer::DnsResponse, hickory_client::ClientError>,
            >,
    {
        self.run(name, Some(Arc::new(self.signer.clone())), op).await
    }

    async fn exchange_unsigned<F, Fut>(
        &self,
        name: &str,
        op: F,
    ) -> Result<hickory_proto::xfer::DnsResponse, DnsError>
    where
        F: FnOnce(Client) -> Fut,
        Fut: std::future::Future<
                Output = Result<hickory_proto::xfer::DnsResponse, hickory_client::ClientError>,
            >,
    {
        self.run(name, None, op).await
    }

    async fn run<F, Fut>(
        &self,
        name: &str,
        signer: Option<Arc<dyn hickory_proto::op::MessageFinalizer>>,
        op: F,
    ) -> Result<hickory_proto::xfer::DnsResponse, DnsError>
    where
        F: FnOnce(Client) -> Fut,
        Fut: std::future::Future<
                Output = Result<hickory_proto::xfer::DnsResponse, hickory_client::ClientError>,
            >,
    {
        let server = self.server;
        let exchange = |e: Box<dyn std::error::Error + Send + Sync>| DnsError::Exchange { server, source: e };
        let (stream, sender) =
            TcpClientStream::new(server, None, Some(self.timeout), TokioRuntimeProvider::new());
        let (client, background) = Client::with_timeout(stream, sender, self.timeout, signer)
            .await
            .map_err(|e| exchange(Box::new(e)))?;
        // Drive the connection here, alongside the request: no task is spawned.
        let response = tokio::select! {
            response = op(client) => response.map_err(|e| exchange(Box::new(e)))?,
            ended = background => {
                let why: Box<dyn std::error::Error + Send + Sync> = match ended {
                    Err(e) => Box::new(e),
                    Ok(()) => "connection closed".into(),
                };
                return Err(exchange(why));
            }
        };
        match response.response_code() {
            ResponseCode::NoError => Ok(response),
            rcode => Err(DnsError::Refused {
                server,
                name: name.to_string(),
                rcode,
            }),
        }
    }
}
