//! The network edge: connections accepted up to a cap and served by hyper with a deadline for
//! every request head, so no slow or idle client holds a connection, a descriptor or memory
//! for long. (`axum::serve` sets no timer, so hyper's header timeout never ran: a slowloris
//! client or an idle keep-alive connection was held for as long as it liked.)
//!
//! What is bounded where:
//! - the connections served at once: [`Edge::max_connections`]; beyond it the listener is not
//!   read, so new connections wait in the kernel's backlog until a slot frees;
//! - the head of each request, and the wait for the next one on a kept-alive connection:
//!   [`Edge::head_timeout`] (hyper's header read timeout, which runs while a connection waits
//!   for a head, idle or not); the head's size: [`MAX_HEADER_BYTES`] (431 beyond, by hyper);
//! - the body and the whole request: in the router (`http/params.rs`, `TimeoutLayer`);
//! - a TLS handshake (when a certificate is configured): the head deadline too.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

/// At shutdown, how long a kept-alive connection with no request in flight is left open for
/// the request its client may already be sending.
const IDLE_GRACE: Duration = Duration::from_secs(1);

/// The largest request head (request line and headers) hyper reads.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// The limits of the edge, and its TLS configuration when it serves HTTPS.
#[derive(Clone)]
pub struct Edge {
    pub max_connections: usize,
    pub head_timeout: Duration,
    /// After shutdown is asked, how long the connections in flight have to finish.
    pub shutdown_timeout: Duration,
    pub tls: Option<TlsAcceptor>,
}

impl Edge {
    /// The limits `settings` give, with `tls` (or plain HTTP).
    pub fn of(settings: &crate::config::Settings, tls: Option<TlsAcceptor>) -> Edge {
        Edge {
            max_connections: settings.max_connections,
            head_timeout: Duration::from_millis(settings.request_head_timeout_ms),
            shutdown_timeout: Duration::from_millis(settings.shutdown_timeout_ms),
            tls,
        }
    }
}

/// A TLS 1.2/1.3 server configuration (rustls) from a PEM certificate chain and private key.
pub fn tls_acceptor(cert_path: &str, key_path: &str) -> anyhow::Result<TlsAcceptor> {
    use anyhow::Context;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(cert_path)
        .with_context(|| format!("reading the certificate {cert_path}"))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("reading the certificate {cert_path}"))?;
    anyhow::ensure!(!certs.is_empty(), "no certificate in {cert_path}");
    let key = PrivateKeyDer::from_pem_file(key_path).with_context(|| format!("reading the private key {key_path}"))?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .context("TLS versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("the certificate and its key")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves `app` on `listener` until `shutdown` resolves, then closes the listener, lets every
/// open connection finish its request in flight, for at most `shutdown_timeout`, and returns.
pub async fn serve(listener: TcpListener, app: Router, edge: Edge, shutdown: impl Future<Output = ()>) {
    let slots = Arc::new(Semaphore::new(edge.max_connections));
    let (closing, close) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors or memory, or a connection reset before it was
                    // accepted: none of it ends the server. A pause lets a full descriptor
                    // table drain instead of spinning on it.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let closing_now = close.clone();
        let service = app
            .clone()
            .map_request(move |req: axum::http::Request<Incoming>| {
                let mut req = req.map(Body::new);
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            })
            .map_response(move |mut resp: axum::response::Response| {
                // Shutting down: this answer ends its connection, so the client's next request
                // goes to a new connection (refused here, at connect time) instead of one we close.
                if *closing_now.borrow() {
                    resp.headers_mut().insert(axum::http::header::CONNECTION, axum::http::HeaderValue::from_static("close"));
                }
                resp
            });
        let close = close.clone();
        let edge = edge.clone();
        tokio::spawn(async move {
            let _slot = permit;
            match &edge.tls {
                None => serve_connection(stream, service, &edge, peer, close).await,
                Some(acceptor) => match tokio::time::timeout(edge.head_timeout, acceptor.accept(stream)).await {
                    Ok(Ok(tls)) => serve_connection(tls, service, &edge, peer, close).await,
                    Ok(Err(e)) => tracing::debug!(error = %e, %peer, "TLS handshake failed"),
                    Err(_) => tracing::debug!(%peer, "TLS handshake too slow"),
                },
            }
        });
    }
    // The listener goes first, so new connections are refused while the old ones finish.
    drop(listener);
    let _ = closing.send(true);
    // Every connection holds a slot until it ends: all of them back means all have finished.
    let all = slots.acquire_many(edge.max_connections as u32);
    if tokio::time::timeout(edge.shutdown_timeout, all).await.is_err() {
        let open = edge.max_connections - slots.available_permits();
        tracing::warn!(open, "connections still open at the shutdown deadline are dropped");
    }
}

/// Serves one connection's requests until it ends, or until shutdown asks it to finish the
/// request in flight.
async fn serve_connection<I, S>(io: I, service: S, edge: &Edge, peer: SocketAddr, mut close: watch::Receiver<bool>)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: tower::Service<axum::http::Request<Incoming>, Response = axum::response::Response, Error = std::convert::Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(edge.head_timeout).max_header_size(MAX_HEADER_BYTES);
    let mut conn = pin!(builder.serve_connection(TokioIo::new(io), TowerToHyperService::new(service)));
    tokio::select! {
        result = conn.as_mut() => log_end(result, peer),
        _ = close.changed() => {
            // Closing an idle kept-alive connection at once would cut a request the client
            // is sending on it that very moment. So a request that comes within the grace is
            // served (its answer says `Connection: close`); a connection idle through it is
            // closed then.
            tokio::select! {
                result = conn.as_mut() => return log_end(result, peer),
                () = tokio::time::sleep(edge.shutdown_timeout.min(IDLE_GRACE)) => {}
            }
            conn.as_mut().graceful_shutdown();
            log_end(conn.await, peer);
        }
    }
}

fn log_end(result: Result<(), hyper::Error>, peer: SocketAddr) {
    if let Err(e) = result {
        // A head that came too slowly or too large, a reset: the client's doing, not ours.
        tracing::debug!(error = %e, %peer, "connection ended with an error");
    }
}

/// Raises this process's soft limit on open descriptors to its hard limit, where the OS allows,
/// and returns the limit in force (`None` if it cannot be read).
pub fn raise_descriptor_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit/setrlimit only read and write the struct passed by pointer.
        unsafe {
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
                return None;
            }
            if limit.rlim_cur < limit.rlim_max {
                let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                    limit = raised;
                }
            }
        }
        Some(limit.rlim_cur)
    }
    #[cfg(not(unix))]
    {
        None
    }
}
