//! `giftbiz bench edge`: what an attack on the connections costs a well-behaved client. Four
//! keep-alive connections page through 0101 (size 20) with no attack, then while slowloris
//! connections dribble request heads a byte a second and others hold half-sent bodies (each
//! reconnecting when the server cuts it off); the ratio of the two rates is the figure, with
//! the server's resident memory during the attack and 10 s after it.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::catalog::{drive, Request};
use super::harness::CatalogServer;

const GOODS: usize = 5_000;
const CLIENTS: usize = 4;

pub async fn run(slowloris: usize, half_bodies: usize, phase: Duration) -> anyhow::Result<()> {
    // The attack's sockets are this process's descriptors too.
    giftbiz_server::http::edge::raise_descriptor_limit();
    let fixture = CatalogServer::start(None, GOODS).await?;
    let server = &fixture.server;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let client = reqwest::Client::builder().pool_max_idle_per_host(CLIENTS).build()?;
    let goods = Request::Goods { form: Arc::new(fixture.goods_form()), size: 20, pages: GOODS.div_ceil(20) as u64 };
    drive(&client, &server.base, CLIENTS, Duration::from_secs(1), goods.clone()).await?;
    let calm = drive(&client, &server.base, CLIENTS, phase, goods.clone()).await?;
    let rss_calm = server.rss_kib();

    let mut attack = Vec::new();
    for _ in 0..slowloris {
        attack.push(tokio::spawn(dribble_heads(addr.clone())));
    }
    for _ in 0..half_bodies {
        attack.push(tokio::spawn(half_sent_bodies(addr.clone())));
    }
    // Let the attack take its connections before measuring beside it.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let attacked = drive(&client, &server.base, CLIENTS, phase, goods).await?;
    let rss_attacked = server.rss_kib();
    for task in &attack {
        task.abort();
    }
    tokio::time::sleep(Duration::from_secs(10)).await;
    let rss_after = server.rss_kib();
    let peak = server.peak_rss_kib();
    fixture.server.stop();

    let mb = |kib: Option<u64>| kib.map_or("n/a".to_owned(), |k| format!("{:.1} MB", k as f64 / 1024.0));
    println!("\n0101 size=20 from {CLIENTS} keep-alive connections, {} s per phase", phase.as_secs());
    println!("{:<44} {:>10} {:>10} {:>10}", "phase", "req/s", "p50 ms", "p99 ms");
    println!("{:<44} {:>10.0} {:>10.2} {:>10.2}", "no attack", calm.rps, calm.p50_ms, calm.p99_ms);
    let label = format!("{slowloris} slowloris + {half_bodies} half-sent bodies");
    println!("{label:<44} {:>10.0} {:>10.2} {:>10.2}", attacked.rps, attacked.p50_ms, attacked.p99_ms);
    println!("ratio under attack: {:.2}", attacked.rps / calm.rps);
    println!("server RSS: {} before, {} during, {} 10 s after (peak {})", mb(rss_calm), mb(rss_attacked), mb(rss_after), mb(peak));
    Ok(())
}

/// A request head a byte a second, never finished; again on a new connection once cut off.
async fn dribble_heads(addr: String) {
    loop {
        let Ok(mut conn) = TcpStream::connect(&addr).await else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        let mut head = b"GET /health HTTP/1.1\r\nHost: bench\r\nX-Slow: ".to_vec();
        head.extend(std::iter::repeat_n(b'a', 100_000));
        for byte in head {
            if conn.write_all(&[byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// Half of a body (30 of its declared 60 KB, inside the body limit), then nothing; again on a
/// new connection once cut off.
async fn half_sent_bodies(addr: String) {
    let half = vec![b'a'; 30_000];
    let head = "POST /bizApi/goods HTTP/1.1\r\nHost: bench\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 60000\r\n\r\n";
    loop {
        let Ok(mut conn) = TcpStream::connect(&addr).await else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        let sent = async {
            conn.write_all(head.as_bytes()).await?;
            conn.write_all(&half).await
        };
        if sent.await.is_ok() {
            // Hold it open until the server lets go.
            let mut sink = [0u8; 1024];
            while matches!(tokio::io::AsyncReadExt::read(&mut conn, &mut sink).await, Ok(n) if n > 0) {}
        }
    }
}
