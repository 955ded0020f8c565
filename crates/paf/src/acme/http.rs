//! instant-acme's HTTP client over hyper-util and a mimic connector, so the
//! ACME client trusts the roots given in mimic's context
//! ([`mimic::keys::TLS_ROOTS`]: pebble's CA in tests, webpki roots by
//! default) and needs no second TLS stack.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::Request;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use instant_acme::{BodyWrapper, BytesResponse, HttpClient};
use mimic::connector::Connector;

/// The `Retry-After` of the last error response, shared with the flow that
/// maps errors (instant-acme keeps the problem document but drops headers).
#[derive(Clone, Debug, Default)]
pub(crate) struct RetryAfter(Arc<Mutex<Option<SystemTime>>>);

impl RetryAfter {
    /// Takes the last value seen (and forgets it).
    pub(crate) fn take(&self) -> Option<SystemTime> {
        self.0.lock().ok().and_then(|mut slot| slot.take())
    }

    fn set(&self, value: Option<SystemTime>) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = value;
        }
    }
}

pub(crate) struct MimicHttp {
    client: Client<Connector, BodyWrapper<Bytes>>,
    retry_after: RetryAfter,
    timeout: Duration,
}

impl MimicHttp {
    pub(crate) fn new(connector: Connector, retry_after: RetryAfter, timeout: Duration) -> Self {
        Self {
            client: Client::builder(TokioExecutor::new()).build(connector),
            retry_after,
            timeout,
        }
    }
}

/// Parses `Retry-After` (RFC 9110 section 10.2.3): seconds or an HTTP date.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<SystemTime> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return now.checked_add(Duration::from_secs(seconds));
    }
    let format = time::format_description::well_known::Rfc2822;
    // An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) is RFC 2822 with `GMT`.
    time::OffsetDateTime::parse(value, &format)
        .ok()
        .map(SystemTime::from)
}

impl HttpClient for MimicHttp {
    fn request(
        &self,
        req: Request<BodyWrapper<Bytes>>,
    ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, instant_acme::Error>> + Send>> {
        let fut = self.client.request(req);
        let retry_after = self.retry_after.clone();
        let timeout = self.timeout;
        Box::pin(async move {
            let response = match tokio::time::timeout(timeout, fut).await {
                Ok(Ok(response)) => response,
                Ok(Err(e)) => return Err(instant_acme::Error::Other(Box::new(e))),
                Err(elapsed) => return Err(instant_acme::Error::Other(Box::new(elapsed))),
            };
            if !response.status().is_success() {
                retry_after.set(
                    response
                        .headers()
                        .get(http::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, SystemTime::now())),
                );
            }
            Ok(BytesResponse::from(response))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(now + Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
