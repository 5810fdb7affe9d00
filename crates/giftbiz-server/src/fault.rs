//! Fault injection for the harness (`giftbiz chaos`) and the tests: a TCP proxy in front of
//! the database that forwards, refuses (every connection cut, new ones closed at once: the
//! database down or its backends terminated) or stalls (bytes held, nothing answered: a hung
//! network or server).

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ProxyMode {
    Forward,
    Refuse,
    Stall,
}

/// Listens on a loopback port and relays to `upstream` as its mode says; runs until dropped
/// with the runtime.
pub struct FaultProxy {
    /// `127.0.0.1:PORT`: put it in the database URL in place of the database's address.
    pub addr: String,
    mode: watch::Sender<ProxyMode>,
}

impl FaultProxy {
    pub async fn start(upstream: String) -> std::io::Result<FaultProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?.to_string();
        let (mode, rx) = watch::channel(ProxyMode::Forward);
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else { continue };
                if *rx.borrow() == ProxyMode::Refuse {
                    continue; // dropped: closed at once
                }
                let Ok(server) = TcpStream::connect(&upstream).await else { continue };
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::spawn(pump(cr, sw, rx.clone()));
                tokio::spawn(pump(sr, cw, rx.clone()));
            }
        });
        Ok(FaultProxy { addr, mode })
    }

    pub fn set(&self, mode: ProxyMode) {
        self.mode.send_replace(mode);
    }

    /// `url` with its host and port replaced by the proxy's.
    pub fn url_through(&self, url: &str) -> Option<String> {
        let host_port = url_host_port(url)?;
        Some(url.replacen(host_port, &self.addr, 1))
    }
}

/// The `host:port` of a database URL.
pub fn url_host_port(url: &str) -> Option<&str> {
    let authority = url.split_once("://")?.1.split('/').next()?;
    authority.rsplit('@').next()
}

/// Copies one direction; cut when refusing, held while stalling.
async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, mut mode: watch::Receiver<ProxyMode>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = tokio::select! {
            read = from.read(&mut buf) => match read { Ok(0) | Err(_) => return, Ok(n) => n },
            _ = mode.wait_for(|m| *m == ProxyMode::Refuse) => return,
        };
        loop {
            let now = *mode.borrow_and_update();
            match now {
                ProxyMode::Refuse => return,
                ProxyMode::Stall => {
                    if mode.changed().await.is_err() {
                        return;
                    }
                }
                ProxyMode::Forward => break,
            }
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
