//! Running the server: open the store, seed the demo, listen, and stop gracefully on
//! SIGINT/SIGTERM.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use giftbiz_core::time::{Clock, SystemClock};
use giftbiz_core::Store;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::Settings;
use crate::http::{router, AppState};
use crate::{db, operator};

/// A server running in this process (the `serve` command, tests, benchmarks).
pub struct RunningServer {
    pub addr: SocketAddr,
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    handle: JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// Serves `store` on `listener`. An unset public URL becomes the bound address.
    pub async fn start(
        store: Arc<dyn Store>,
        mut settings: Settings,
        clock: Arc<dyn Clock>,
        listener: TcpListener,
    ) -> anyhow::Result<Self> {
        let addr = listener.local_addr()?;
        if settings.public_url.is_none() {
            settings.public_url = Some(format!("http://{addr}"));
        }
        let state = AppState::new(store, settings, clock);
        let app = router(state.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
        });
        Ok(RunningServer { addr, state, shutdown: Some(tx), handle })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets in-flight requests finish, and waits.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        (&mut self.handle).await??;
        Ok(())
    }
}

/// The `serve` command.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let store = db::open_store(&settings.database_url).await?;
    tracing::info!(engine = store.engine(), database = %db::redact(&settings.database_url), "store ready");
    let listener = TcpListener::bind(&settings.listen)
        .await
        .with_context(|| format!("listening on {}", settings.listen))?;
    let addr = listener.local_addr()?;
    if settings.demo {
        operator::seed_demo(store.as_ref()).await?.print(&addr.to_string());
    }
    let server = RunningServer::start(store, settings, Arc::new(SystemClock), listener).await?;
    tracing::info!(%addr, "giftbiz listening");
    println!("giftbiz listening on http://{addr} (Ctrl-C stops)");
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
