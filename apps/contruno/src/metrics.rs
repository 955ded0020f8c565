//! Counters for `/metrics` on the admin listener (Prometheus text format):
//! requests by status class, the latency of response heads as a
//! histogram, backend failures, reloads, and each certificate's expiry.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 11] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// The proxy's counters (relaxed atomics: a scrape may see a request
/// counted in one series and not yet in another).
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    /// Responses by status class: 1xx to 5xx.
    by_class: [AtomicU64; 5],
    /// Response heads within each bucket (not cumulative), and beyond.
    latency: [AtomicU64; BUCKETS.len() + 1],
    latency_micros: AtomicU64,
    pub(crate) backend_failures: AtomicU64,
    pub(crate) reloads: AtomicU64,
    pub(crate) reload_failures: AtomicU64,
}

impl Metrics {
    /// Counts one response and how long its head took.
    pub(crate) fn record(&self, status: u16, took: Duration) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.by_class[class].fetch_add(1, Relaxed);
        let secs = took.as_secs_f64();
        let bucket = BUCKETS.iter().position(|b| secs <= *b).unwrap_or(BUCKETS.len());
        self.latency[bucket].fetch_add(1, Relaxed);
        self.latency_micros
            .fetch_add(took.as_micros().min(u128::from(u64::MAX)) as u64, Relaxed);
    }

    /// The Prometheus text, with `expiries` (domain, unix seconds).
    pub(crate) fn render(&self, expiries: &[(String, u64)]) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP contruno_requests_total Responses sent, by status class."
        );
        let _ = writeln!(out, "# TYPE contruno_requests_total counter");
        for (i, count) in self.by_class.iter().enumerate() {
            let _ = writeln!(
                out,
                "contruno_requests_total{{class=\"{}xx\"}} {}",
                i + 1,
                count.load(Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP contruno_response_head_seconds Time to the response head."
        );
        let _ = writeln!(out, "# TYPE contruno_response_head_seconds histogram");
        let mut cumulative = 0;
        for (bound, count) in BUCKETS.iter().zip(&self.latency) {
            cumulative += count.load(Relaxed);
            let _ = writeln!(
                out,
                "contruno_response_head_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
            );
        }
        cumulative += self.latency[BUCKETS.len()].load(Relaxed);
        let _ = writeln!(
            out,
            "contruno_response_head_seconds_bucket{{le=\"+Inf\"}} {cumulative}"
        );
        let _ = writeln!(
            out,
            "contruno_response_head_seconds_sum {}",
            self.latency_micros.load(Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "contruno_response_head_seconds_count {cumulative}");
        for (name, help, value) in [
            (
                "contruno_backend_failures_total",
                "Backends that could not be reached or failed.",
                &self.backend_failures,
            ),
            ("contruno_reloads_total", "Reloads of the routes.", &self.reloads),
            (
                "contruno_reload_failures_total",
                "Reloads that failed (the last routes kept).",
                &self.reload_failures,
            ),
        ] {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", value.load(Relaxed));
        }
        let _ = writeln!(
            out,
            "# HELP contruno_certificate_expiry_seconds When each domain's certificate expires (unix time)."
        );
        let _ = writeln!(out, "# TYPE contruno_certificate_expiry_seconds gauge");
        for (domain, at) in expiries {
            let _ = writeln!(
                out,
                "contruno_certificate_expiry_seconds{{domain=\"{domain}\"}} {at}"
            );
        }
        out
    }
}

/// When a certificate (DER, the leaf) expires, in unix seconds.
pub(crate) fn not_after(leaf: &[u8]) -> Option<u64> {
    let (_, cert) = x509_parser::parse_x509_certificate(leaf).ok()?;
    u64::try_from(cert.validity().not_after.timestamp()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_and_a_cumulative_histogram() {
        let m = Metrics::default();
        m.record(200, Duration::from_millis(3));
        m.record(204, Duration::from_millis(30));
        m.record(502, Duration::from_secs(20));
        let text = m.render(&[("a.test".into(), 1_900_000_000)]);
        assert!(
            text.contains("contruno_requests_total{class=\"2xx\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("contruno_requests_total{class=\"5xx\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("contruno_response_head_seconds_bucket{le=\"0.005\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("contruno_response_head_seconds_bucket{le=\"0.05\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("contruno_response_head_seconds_bucket{le=\"+Inf\"} 3\n"),
            "{text}"
        );
        assert!(
            text.contains("contruno_response_head_seconds_count 3\n"),
            "{text}"
        );
        assert!(text.contains("contruno_certificate_expiry_seconds{domain=\"a.test\"} 1900000000\n"));
    }
}
