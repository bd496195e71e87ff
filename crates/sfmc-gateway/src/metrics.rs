//! The request metrics: a small registry on atomics (no lock on the request path). One series
//! per (connection, route), allocated on first use, counts answers by status and keeps a latency
//! histogram; [`Metrics::render`] writes them in Prometheus' text format. Labels come from a
//! fixed set (connection names of the config file, route names), never from the request, so
//! callers cannot grow them.

use std::borrow::Cow;
use std::fmt::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 13] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];
const BUCKET_MICROS: [u64; 13] = [
    500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000,
    2_500_000, 10_000_000,
];
/// Statuses 100 to 599 are counted one by one.
const FIRST_STATUS: u16 = 100;
const STATUSES: usize = 500;

mod route;

use route::{FIXED_ROUTES, route_of};
pub(crate) use route::{Observed, Route};

/// One (connection, route) series.
struct Series {
    statuses: [AtomicU64; STATUSES],
    buckets: [AtomicU64; BUCKETS.len()],
    sum_micros: AtomicU64,
    count: AtomicU64,
}

impl Series {
    fn new() -> Self {
        Self {
            statuses: std::array::from_fn(|_| AtomicU64::new(0)),
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_micros: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }
}

/// The registry.
pub(crate) struct Metrics {
    connections: Vec<String>,
    mounts: Vec<String>,
    cells: Box<[OnceLock<Box<Series>>]>,
    in_flight: AtomicI64,
}

impl Metrics {
    /// A registry for these connection names and mount paths.
    pub(crate) fn new(connections: Vec<String>, mounts: Vec<String>) -> Self {
        let cells = (0..(connections.len() + 1) * (FIXED_ROUTES + mounts.len()))
            .map(|_| OnceLock::new())
            .collect();
        Self {
            connections,
            mounts,
            cells,
            in_flight: AtomicI64::new(0),
        }
    }

    fn cell(&self, observed: Observed) -> Option<&OnceLock<Box<Series>>> {
        let slot = observed
            .connection
            .filter(|&c| c < self.connections.len())
            .unwrap_or(self.connections.len());
        self.cells
            .get(slot * (FIXED_ROUTES + self.mounts.len()) + observed.route.index())
    }

    /// Counts one answer.
    pub(crate) fn record(&self, observed: Observed, status: u16, elapsed: Duration) {
        let Some(cell) = self.cell(observed) else {
            return;
        };
        let series = cell.get_or_init(|| Box::new(Series::new()));
        if let Some(count) = status
            .checked_sub(FIRST_STATUS)
            .and_then(|i| series.statuses.get(usize::from(i)))
        {
            count.fetch_add(1, Ordering::Relaxed);
        }
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        if let Some(bucket) = BUCKET_MICROS.iter().position(|&b| micros <= b) {
            series.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        }
        series.sum_micros.fetch_add(micros, Ordering::Relaxed);
        series.count.fetch_add(1, Ordering::Relaxed);
    }

    /// Changes the count of requests in flight.
    pub(crate) fn in_flight_add(&self, delta: i64) {
        self.in_flight.fetch_add(delta, Ordering::Relaxed);
    }

    /// The mount paths (route labels of mounted routers).
    pub(crate) fn mounts(&self) -> &[String] {
        &self.mounts
    }

    /// Writes the request series in Prometheus' text format.
    pub(crate) fn render(&self, out: &mut String) {
        let routes = FIXED_ROUTES + self.mounts.len();
        let labels = |i: usize| {
            let connection = self.connections.get(i / routes).map_or("", String::as_str);
            let route = route_of(i % routes).label(&self.mounts);
            format!(
                "connection=\"{}\",route=\"{}\"",
                escape(connection),
                escape(route)
            )
        };
        let live = || {
            self.cells
                .iter()
                .enumerate()
                .filter_map(|(i, c)| Some((i, c.get()?)))
        };
        header(
            out,
            "sfmc_gateway_requests_total",
            "counter",
            "Requests answered, by connection, route and status.",
        );
        for (i, series) in live() {
            let labels = labels(i);
            for (s, count) in series.statuses.iter().enumerate() {
                let count = count.load(Ordering::Relaxed);
                if count > 0 {
                    let status = usize::from(FIRST_STATUS) + s;
                    let _ = writeln!(
                        out,
                        "sfmc_gateway_requests_total{{{labels},status=\"{status}\"}} {count}"
                    );
                }
            }
        }
        header(
            out,
            "sfmc_gateway_request_duration_seconds",
            "histogram",
            "Time to the answer's head, by connection and route.",
        );
        for (i, series) in live() {
            let labels = labels(i);
            let mut cumulative = 0;
            for (bound, bucket) in BUCKETS.iter().zip(&series.buckets) {
                cumulative += bucket.load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "sfmc_gateway_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                );
            }
            let count = series.count.load(Ordering::Relaxed);
            let sum = series.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
            let _ = writeln!(
                out,
                "sfmc_gateway_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "sfmc_gateway_request_duration_seconds_sum{{{labels}}} {sum}"
            );
            let _ = writeln!(
                out,
                "sfmc_gateway_request_duration_seconds_count{{{labels}}} {count}"
            );
        }
        header(
            out,
            "sfmc_gateway_requests_in_flight",
            "gauge",
            "Requests being answered now.",
        );
        let _ = writeln!(
            out,
            "sfmc_gateway_requests_in_flight {}",
            self.in_flight.load(Ordering::Relaxed)
        );
    }
}

/// `# HELP` and `# TYPE` lines.
pub(crate) fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A label value escaped for the text format.
pub(crate) fn escape(value: &str) -> Cow<'_, str> {
    if value.contains(['\\', '"', '\n']) {
        Cow::Owned(
            value
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n"),
        )
    } else {
        Cow::Borrowed(value)
    }
}

/// A timer for request latencies (metrics and logs only: token time goes through the token
/// manager's clock).
pub(crate) struct Timer(std::time::Instant);

impl Timer {
    /// Starts now.
    #[allow(clippy::disallowed_methods)] // latency measurement, the one clock read of the gateway
    pub(crate) fn start() -> Self {
        Self(std::time::Instant::now())
    }

    /// Time since the start.
    pub(crate) fn elapsed(&self) -> Duration {
        self.0.elapsed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_label_and_renders_prometheus_text() {
        let metrics = Metrics::new(vec!["a".into(), "b\"".into()], vec!["/mcp".into()]);
        let rest_b = Observed {
            route: Route::Rest,
            connection: Some(1),
        };
        metrics.record(rest_b, 200, Duration::from_micros(700));
        metrics.record(rest_b, 200, Duration::from_millis(3));
        metrics.record(rest_b, 404, Duration::from_secs(60));
        metrics.record(
            Observed {
                route: Route::Mounted(0),
                connection: None,
            },
            202,
            Duration::ZERO,
        );
        let mut out = String::new();
        metrics.render(&mut out);
        assert!(out.contains("sfmc_gateway_requests_total{connection=\"b\\\"\",route=\"rest\",status=\"200\"} 2\n"), "{out}");
        assert!(
            out.contains("{connection=\"b\\\"\",route=\"rest\",status=\"404\"} 1\n"),
            "{out}"
        );
        assert!(
            out.contains("{connection=\"\",route=\"/mcp\",status=\"202\"} 1\n"),
            "{out}"
        );
        assert!(out.contains("sfmc_gateway_request_duration_seconds_bucket{connection=\"b\\\"\",route=\"rest\",le=\"0.001\"} 1\n"), "{out}");
        assert!(out.contains("sfmc_gateway_request_duration_seconds_bucket{connection=\"b\\\"\",route=\"rest\",le=\"0.005\"} 2\n"), "{out}");
        assert!(out.contains("sfmc_gateway_request_duration_seconds_bucket{connection=\"b\\\"\",route=\"rest\",le=\"+Inf\"} 3\n"), "{out}");
        assert!(out.contains("sfmc_gateway_request_duration_seconds_count{connection=\"b\\\"\",route=\"rest\"} 3\n"), "{out}");
        assert!(!out.contains("connection=\"a\""), "{out}");
        assert!(
            out.contains("# TYPE sfmc_gateway_request_duration_seconds histogram"),
            "{out}"
        );
    }

    #[test]
    fn counts_requests_in_flight() {
        let metrics = Metrics::new(vec![], vec![]);
        metrics.in_flight_add(1);
        let mut out = String::new();
        metrics.render(&mut out);
        assert!(out.contains("sfmc_gateway_requests_in_flight 1\n"), "{out}");
        metrics.in_flight_add(-1);
        out.clear();
        metrics.render(&mut out);
        assert!(out.contains("sfmc_gateway_requests_in_flight 0\n"), "{out}");
    }
}
