//! What the server counts, for Prometheus: requests by route and status with their latency,
//! answers being generated, tokens relayed and provider errors by endpoint, SQLite busy waits,
//! changes not yet in the search index, and the process's resident memory. Served in the
//! OpenMetrics text format (which Prometheus reads) on the listener `METRICS_ADDR` names, and
//! only there: nothing is exposed unless asked for.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EndpointLabels {
    endpoint: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    endpoint: String,
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
}

/// What is read when Prometheus asks, rather than counted as it happens.
#[derive(Debug, Default, Clone, Copy)]
pub struct Snapshot {
    pub active_streams: i64,
    pub search_pending: i64,
    pub sqlite_busy_waits: u64,
    pub resident_bytes: i64,
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    tokens: Family<EndpointLabels, Counter>,
    provider_errors: Family<ErrorLabels, Counter>,
    active_streams: Gauge,
    search_pending: Gauge,
    busy_waits: Counter,
    resident: Gauge,
    /// One scrape at a time: the gauges and the busy-wait counter are set, then read.
    rendering: std::sync::Mutex<()>,
    /// Where the metrics listener is bound, once it is.
    pub bound: OnceLock<SocketAddr>,
}

fn latency_histogram() -> Histogram {
    // 1 ms to about 33 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("librechat");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route, method and status",
            requests.clone(),
        );
        let latency: Family<RouteLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request (to the first byte of a streamed answer)",
            latency.clone(),
        );
        let tokens = Family::<EndpointLabels, Counter>::default();
        registry.register(
            "tokens_relayed",
            "Tokens of answers relayed from the AI providers, by endpoint",
            tokens.clone(),
        );
        let provider_errors = Family::<ErrorLabels, Counter>::default();
        registry.register(
            "provider_errors",
            "Answers that failed at the provider, by endpoint and error code",
            provider_errors.clone(),
        );
        let active_streams = Gauge::default();
        registry.register(
            "generation_streams_active",
            "Answers being generated now",
            active_streams.clone(),
        );
        let search_pending = Gauge::default();
        registry.register(
            "search_index_pending_changes",
            "Changes written to the database and not yet in the search index",
            search_pending.clone(),
        );
        let busy_waits = Counter::default();
        registry.register(
            "sqlite_busy_waits",
            "Times a database connection had to wait for another's lock",
            busy_waits.clone(),
        );
        let resident = Gauge::default();
        registry.register(
            "process_resident_memory_bytes",
            "Resident memory of the server process",
            resident.clone(),
        );
        let build = Family::<BuildLabels, Gauge>::default();
        registry.register("build_info", "The running version", build.clone());
        build
            .get_or_create(&BuildLabels {
                version: crate::VERSION.to_owned(),
            })
            .set(1);
        Self {
            registry,
            requests,
            latency,
            tokens,
            provider_errors,
            active_streams,
            search_pending,
            busy_waits,
            resident,
            rendering: std::sync::Mutex::new(()),
            bound: OnceLock::new(),
        }
    }

    /// A request answered: `route` is the route's pattern (`/api/convos/{id}`), never the
    /// path itself, so the number of series stays bounded.
    pub fn request(&self, route: &str, method: &str, status: u16, took: Duration) {
        let method = method.to_owned();
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                method: method.clone(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
                method,
            })
            .observe(took.as_secs_f64());
    }

    /// Tokens of an answer relayed from `endpoint`.
    pub fn tokens_relayed(&self, endpoint: &str, tokens: u64) {
        self.tokens
            .get_or_create(&EndpointLabels {
                endpoint: endpoint.to_owned(),
            })
            .inc_by(tokens);
    }

    /// An answer that failed at `endpoint` with LibreChat's error `code`.
    pub fn provider_error(&self, endpoint: &str, code: &str) {
        self.provider_errors
            .get_or_create(&ErrorLabels {
                endpoint: endpoint.to_owned(),
                code: code.to_owned(),
            })
            .inc();
    }

    /// The text Prometheus reads, with the gauges set from `now`.
    pub fn render(&self, now: Snapshot) -> String {
        let _one = self.rendering.lock().unwrap_or_else(|p| p.into_inner());
        self.active_streams.set(now.active_streams);
        self.search_pending.set(now.search_pending);
        self.resident.set(now.resident_bytes);
        let seen = self.busy_waits.get();
        if now.sqlite_busy_waits > seen {
            self.busy_waits.inc_by(now.sqlite_busy_waits - seen);
        }
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
            let _ = writeln!(out, "# the metrics could not be encoded\n# EOF");
        }
        out
    }
}

/// The resident memory of this process, from `VmRSS` in `/proc/self/status` (0 where there is
/// none, as on macOS).
pub fn resident_bytes() -> i64 {
    let kib: i64 = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0);
    kib * 1024
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_what_was_counted() {
        let m = Metrics::new();
        m.request("/api/convos/{id}", "GET", 200, Duration::from_millis(3));
        m.request("/api/convos/{id}", "GET", 200, Duration::from_millis(5));
        m.tokens_relayed("openAI", 42);
        m.provider_error("anthropic", "rate_limit");
        let text = m.render(Snapshot {
            active_streams: 2,
            search_pending: 7,
            sqlite_busy_waits: 3,
            resident_bytes: 1024,
        });
        for line in [
            "librechat_http_requests_total{route=\"/api/convos/{id}\",method=\"GET\",status=\"200\"} 2",
            "librechat_http_request_duration_seconds_count{route=\"/api/convos/{id}\",method=\"GET\"} 2",
            "librechat_tokens_relayed_total{endpoint=\"openAI\"} 42",
            "librechat_provider_errors_total{endpoint=\"anthropic\",code=\"rate_limit\"} 1",
            "librechat_generation_streams_active 2",
            "librechat_search_index_pending_changes 7",
            "librechat_sqlite_busy_waits_total 3",
            "librechat_process_resident_memory_bytes 1024",
        ] {
            assert!(text.contains(line), "{line} in:\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
        // The busy-wait counter follows the process-wide count without counting twice.
        let text = m.render(Snapshot {
            sqlite_busy_waits: 3,
            ..Snapshot::default()
        });
        assert!(text.contains("librechat_sqlite_busy_waits_total 3"));
    }

    #[test]
    fn resident_memory_is_read() {
        if std::path::Path::new("/proc/self/status").exists() {
            assert!(resident_bytes() > 1024 * 1024);
        }
    }
}
