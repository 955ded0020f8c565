//! Racing the targets of one transport (RFC 8305, "Happy Eyeballs v2").
//!
//! The first attempt starts at once; each next one starts when the delay
//! has passed since the previous start, or as soon as an attempt fails.
//! The first success wins; dropping the others cancels them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};

use crate::error::{Attempt, Stage};
use crate::flow::Flow;
use crate::protocol::{DynTransport, ErasedTarget};
use crate::resolver::Log;

/// Races `targets`; the index and flow of the winner, or `None` when all
/// failed (each failure is in `log`).
pub(crate) async fn race(
    transport: &dyn DynTransport,
    targets: &[ErasedTarget],
    delay: Duration,
    log: &mut Log,
) -> Option<(usize, Flow)> {
    let name = transport.name();
    let fail = |log: &mut Log, i: usize, error| {
        let shown = targets[i].shown();
        log.in_flight
            .retain(|(p, t)| !(p.as_str() == name && *t == shown));
        log.failed.push(Attempt {
            protocol: name.to_string(),
            target: Some(shown),
            stage: Stage::Connect,
            error: Arc::from(error),
        });
    };
    // One target (the common case): no timer, no set of futures.
    let start = |log: &mut Log, i: usize| {
        if log.track_in_flight {
            log.in_flight.push((name.to_string(), targets[i].shown()));
        }
    };
    if let [target] = targets {
        start(log, 0);
        return match transport.connect(target).await {
            Ok(flow) => {
                log.in_flight.clear();
                Some((0, flow))
            }
            Err(error) => {
                fail(log, 0, error);
                None
            }
        };
    }
    let mut attempts = FuturesUnordered::new();
    let mut next = 0;
    let timer = tokio::time::sleep(delay);
    tokio::pin!(timer);
    // Each turn of the loop starts the next target: at first, after an
    // attempt failed, or when the delay since the last start has passed.
    loop {
        if next < targets.len() {
            let i = next;
            next += 1;
            start(log, i);
            attempts.push(async move { (i, transport.connect(&targets[i]).await) });
            timer.as_mut().reset(tokio::time::Instant::now() + delay);
        }
        if attempts.is_empty() {
            return None;
        }
        tokio::select! {
            biased;
            Some((i, outcome)) = attempts.next() => match outcome {
                Ok(flow) => {
                    // The losers are dropped with `attempts`: cancelled.
                    log.in_flight.clear();
                    return Some((i, flow));
                }
                Err(error) => fail(log, i, error),
            },
            () = &mut timer, if next < targets.len() => {}
        }
    }
}

/// Orders addresses as RFC 8305 section 4 says: alternate the address
/// families, starting with the family of the first address.
pub fn interleave(addrs: Vec<SocketAddr>) -> Vec<SocketAddr> {
    let Some(first) = addrs.first() else {
        return addrs;
    };
    let first_v6 = first.is_ipv6();
    let (mut a, mut b): (Vec<_>, Vec<_>) = addrs.into_iter().partition(|x| x.is_ipv6() == first_v6);
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut a, mut b) = (a.drain(..), b.drain(..));
    loop {
        match (a.next(), b.next()) {
            (None, None) => return out,
            (x, y) => out.extend(x.into_iter().chain(y)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleave_alternates_families() {
        let v4 = |n: u8| SocketAddr::from(([127, 0, 0, n], 1));
        let v6 = |n: u16| SocketAddr::from(([0, 0, 0, 0, 0, 0, 0, n], 1));
        assert_eq!(
            interleave(vec![v6(1), v6(2), v6(3), v4(1), v4(2)]),
            vec![v6(1), v4(1), v6(2), v4(2), v6(3)]
        );
        assert_eq!(interleave(vec![v4(1), v4(2), v6(1)]), vec![v4(1), v6(1), v4(2)]);
        assert_eq!(interleave(vec![]), vec![]);
    }
}
