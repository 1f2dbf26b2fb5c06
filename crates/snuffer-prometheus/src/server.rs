//! [`Exporter`]: a small HTTP server (one thread, `tiny_http`) answering `GET /metrics`
//! with the latest snapshot.

use crate::collect::encode_shared;
use crate::snapshot::MetricsSnapshot;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Address used when none is given: localhost only.
pub const DEFAULT_ADDR: &str = "127.0.0.1:9184";

/// Content type of the text exposition format 0.0.4 (served by default).
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Content type of the OpenMetrics text format (served when the scraper's `Accept`
/// header names `application/openmetrics-text`).
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Resolves an exporter address; a bare port means localhost.
pub(crate) fn resolve(addr: &str) -> std::io::Result<SocketAddr> {
    let addr = addr.trim();
    let full = if addr.parse::<u16>().is_ok() {
        format!("127.0.0.1:{addr}")
    } else {
        addr.to_string()
    };
    let hint = format!("use HOST:PORT such as {DEFAULT_ADDR}");
    full.to_socket_addrs()
        .map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("prometheus exporter address {addr:?}: {e}; {hint}"),
            )
        })?
        .next()
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("prometheus exporter address {addr:?} resolves to nothing; {hint}"),
            )
        })
}

/// A running exporter; stops serving when dropped.
pub struct Exporter {
    server: Arc<tiny_http::Server>,
    snapshot: Arc<Mutex<MetricsSnapshot>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    addr: SocketAddr,
}

impl std::fmt::Debug for Exporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exporter")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Exporter {
    /// Binds `addr` (`HOST:PORT`, or a bare port for localhost) and starts serving.
    ///
    /// Errors (as `std::io::Error` with the address in the message): the address does not
    /// resolve or the port is taken.
    pub fn serve(addr: &str) -> std::io::Result<Exporter> {
        let sock = resolve(addr)?;
        let server = tiny_http::Server::http(sock).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::AddrInUse,
                format!(
                    "prometheus exporter cannot listen on {sock}: {e}; pick a free port or stop \
                     what holds it"
                ),
            )
        })?;
        let bound = server.server_addr().to_ip().unwrap_or(sock);
        let server = Arc::new(server);
        let snapshot = Arc::new(Mutex::new(MetricsSnapshot::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (server, snapshot, stop) = (server.clone(), snapshot.clone(), stop.clone());
            std::thread::Builder::new()
                .name("snuffer-prometheus".into())
                .spawn(move || serve_loop(&server, &snapshot, &stop))?
        };
        Ok(Exporter {
            server,
            snapshot,
            stop,
            thread: Some(thread),
            addr: bound,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Replaces what the next scrape sees.
    pub fn update(&self, snapshot: &MetricsSnapshot) {
        // A poisoned lock only means a scrape panicked mid-read; the snapshot is still whole.
        let mut guard = self.snapshot.lock().unwrap_or_else(|p| p.into_inner());
        guard.clone_from(snapshot);
    }
}

/// Whether the request's `Accept` header asks for OpenMetrics.
fn wants_openmetrics(request: &tiny_http::Request) -> bool {
    request.headers().iter().any(|h| {
        h.field.equiv("Accept") && h.value.as_str().contains("application/openmetrics-text")
    })
}

fn serve_loop(
    server: &tiny_http::Server,
    snapshot: &Arc<Mutex<MetricsSnapshot>>,
    stop: &AtomicBool,
) {
    while !stop.load(Ordering::Acquire) {
        let request = match server.recv_timeout(Duration::from_millis(250)) {
            Ok(Some(r)) => r,
            Ok(None) => continue,
            Err(_) => break,
        };
        let path = request.url().split('?').next().unwrap_or("");
        let response = if *request.method() != tiny_http::Method::Get {
            tiny_http::Response::from_string("only GET is served\n").with_status_code(405)
        } else if path == "/metrics" || path == "/" {
            let (text, kind) = if wants_openmetrics(&request) {
                let text = encode_shared(snapshot, prometheus_client::encoding::text::encode);
                (text, OPENMETRICS_CONTENT_TYPE)
            } else {
                let text = encode_shared(
                    snapshot,
                    prometheus_client::encoding::prometheus_text::encode,
                );
                (text, CONTENT_TYPE)
            };
            let mut r = tiny_http::Response::from_string(text);
            if let Ok(h) = tiny_http::Header::from_bytes(&b"Content-Type"[..], kind.as_bytes()) {
                r = r.with_header(h);
            }
            r
        } else {
            tiny_http::Response::from_string("not found: scrape /metrics\n").with_status_code(404)
        };
        // A client that hung up mid-response is its own problem, not the run's.
        let _ = request.respond(response);
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_port_means_localhost_and_bad_addresses_say_so() -> std::io::Result<()> {
        assert_eq!(resolve("9184")?, SocketAddr::from(([127, 0, 0, 1], 9184)));
        let err = resolve("not an address").err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("HOST:PORT")));
        Ok(())
    }
}
