//! Running the server: open the store, seed the demo, listen, and stop gracefully on
//! SIGINT/SIGTERM.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use giftbiz_core::time::{Clock, SystemClock};
use giftbiz_core::Store;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use crate::config::Settings;
use crate::delivery::gateway_from_settings;
use crate::http::edge::{self, Edge};
use crate::http::{router, AppState};
use crate::jobs::beat::{Beat, JobBeats};
use crate::jobs::delivery::DeliveryWorker;
use crate::jobs::expiry::ExpiryJob;
use crate::{db, operator};

/// A server running in this process (the `serve` command, tests, benchmarks).
pub struct RunningServer {
    pub addr: SocketAddr,
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    handle: JoinHandle<()>,
    /// The delivery worker, unless `delivery_interval_ms` is 0.
    delivery: Option<(watch::Sender<bool>, JoinHandle<()>)>,
    /// The expiry job, unless `expiry_interval_ms` is 0.
    expiry: Option<(watch::Sender<bool>, JoinHandle<()>)>,
    /// Drains the metrics recorder's histograms, when metrics are on.
    upkeep: Option<JoinHandle<()>>,
    /// Watches for changes to what the auth cache holds, unless it is off.
    cache_watch: Option<JoinHandle<()>>,
    /// The admin listener of `metrics_listen`.
    pub admin: Option<Admin>,
}

/// The listener of `metrics_listen`: `/metrics` (and `/ready`, `/health`) only.
pub struct Admin {
    pub addr: SocketAddr,
    shutdown: oneshot::Sender<()>,
    handle: JoinHandle<()>,
}

impl Admin {
    async fn start(listen: &str, state: &AppState) -> anyhow::Result<Admin> {
        let listener = TcpListener::bind(listen).await.with_context(|| format!("listening on {listen} (metrics_listen)"))?;
        let addr = listener.local_addr()?;
        let (shutdown, stopped) = oneshot::channel::<()>();
        let app = crate::http::observe::admin_router(state.clone());
        // The main listener's limits; plain HTTP (an internal port).
        let handle = tokio::spawn(edge::serve(listener, app, Edge::of(&state.settings, None), async {
            let _ = stopped.await;
        }));
        tracing::info!(%addr, "metrics listening");
        Ok(Admin { addr, shutdown, handle })
    }
}

impl RunningServer {
    /// Serves `store` on `listener` and starts the delivery worker (unless
    /// `delivery_interval_ms` is 0) and the expiry job (unless `expiry_interval_ms` is 0). An
    /// unset public URL becomes the bound address.
    pub async fn start(
        store: Arc<dyn Store>,
        mut settings: Settings,
        clock: Arc<dyn Clock>,
        listener: TcpListener,
    ) -> anyhow::Result<Self> {
        let addr = listener.local_addr()?;
        if settings.public_url.is_none() {
            settings.public_url = Some(format!("{}://{addr}", settings.scheme()));
        }
        // Before anything starts: a sandbox without its admin token, or a gateway that cannot
        // work, refuses the start.
        settings.validate_sandbox()?;
        settings.validate_edge()?;
        let tls = match (&settings.tls_cert_path, &settings.tls_key_path) {
            (Some(cert), Some(key)) => Some(edge::tls_acceptor(cert, key)?),
            _ => None,
        };
        if settings.sandbox {
            tracing::warn!(
                "SANDBOX MODE: fault injection (tr_id prefixes FD_/FW<N>_/FE_/FG_, header X-Giftbiz-Fault) \
                 and an advanceable clock are ON; never run a production server with sandbox = true"
            );
        }
        let gateway = (settings.delivery_interval_ms > 0).then(|| gateway_from_settings(&settings)).transpose()?;
        let mut state = AppState::new(store, settings, clock);
        let mut beats = JobBeats::default();
        let delivery = gateway.map(|gateway| {
            let worker = DeliveryWorker::new(state.store.clone(), gateway, state.clock.clone(), state.settings.clone());
            // A round ends within the lease (see `jobs::delivery::BATCH`).
            let s = &state.settings;
            let beat = Beat::new(Duration::from_millis(s.delivery_lease_ms + 2 * s.delivery_interval_ms + 10_000));
            beats.delivery = Some(beat.clone());
            let (stop, stopped) = watch::channel(false);
            (stop, Arc::new(worker).spawn(beat, stopped))
        });
        let expiry = (state.settings.expiry_interval_ms > 0).then(|| {
            let job = ExpiryJob::new(state.store.clone(), state.clock.clone());
            let interval = Duration::from_millis(state.settings.expiry_interval_ms);
            let beat = Beat::new(3 * interval + Duration::from_secs(60));
            beats.expiry = Some(beat.clone());
            let (stop, stopped) = watch::channel(false);
            (stop, Arc::new(job).spawn(interval, beat, stopped))
        });
        state.jobs = Arc::new(beats);
        let upkeep = state.metrics.map(crate::metrics::spawn_upkeep);
        let cache_watch = crate::jobs::cache_watch::spawn(state.auth.clone(), state.store.clone());
        let admin = match &state.settings.metrics_listen {
            Some(addr) if state.metrics.is_some() => Some(Admin::start(addr, &state).await?),
            _ => None,
        };
        let app = router(state.clone());
        let edge = Edge::of(&state.settings, tls);
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(edge::serve(listener, app, edge, async {
            let _ = rx.await;
        }));
        Ok(RunningServer { addr, state, shutdown: Some(tx), handle, delivery, expiry, upkeep, cache_watch, admin })
    }

    pub fn base_url(&self) -> String {
        format!("{}://{}", self.state.settings.scheme(), self.addr)
    }

    /// Stops accepting, lets in-flight requests and the delivery round in progress finish,
    /// and waits.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some((stop, _)) = &self.delivery {
            let _ = stop.send(true);
        }
        if let Some((stop, _)) = &self.expiry {
            let _ = stop.send(true);
        }
        (&mut self.handle).await?;
        if let Some((_, worker)) = self.delivery.take() {
            worker.await?;
        }
        if let Some((_, job)) = self.expiry.take() {
            job.await?;
        }
        if let Some(upkeep) = self.upkeep.take() {
            upkeep.abort();
        }
        if let Some(watch) = self.cache_watch.take() {
            watch.abort();
        }
        if let Some(admin) = self.admin.take() {
            let _ = admin.shutdown.send(());
            admin.handle.await?;
        }
        Ok(())
    }
}

/// The `serve` command.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    settings.validate_delivery()?;
    settings.validate_sandbox()?;
    if settings.sandbox {
        eprintln!("WARNING: sandbox = true: fault injection and the sandbox clock are on. Never in production.");
    }
    if let Some(limit) = edge::raise_descriptor_limit() {
        // Descriptors beyond the connections: the database pool, files, the webhook client.
        if (settings.max_connections as u64).saturating_add(64) > limit {
            tracing::warn!(limit, max_connections = settings.max_connections, "max_connections does not fit the descriptor limit");
        }
    }
    let store = db::open_store(&settings).await?;
    tracing::info!(engine = store.engine(), database = %db::redact(&settings.database_url), "store ready");
    let listener = TcpListener::bind(&settings.listen)
        .await
        .with_context(|| format!("listening on {}", settings.listen))?;
    let addr = listener.local_addr()?;
    if settings.wants_demo() {
        operator::seed_demo(store.as_ref()).await?.print(&addr.to_string());
    }
    let server = RunningServer::start(store, settings, Arc::new(SystemClock), listener).await?;
    tracing::info!(%addr, "giftbiz listening");
    println!("giftbiz listening on {} (Ctrl-C stops)", server.base_url());
    shutdown_signal().await;
    tracing::info!("shutting down");
    server.stop().await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
