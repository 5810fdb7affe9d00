//! `giftbiz bench edge`: what an attack on the connections costs a well-behaved client. Four
//! keep-alive connections page through 0101 (size 20) with no attack, then while slowloris
//! connections dribble request heads a byte a second and others hold half-sent bodies (each
//! reconnecting when the server cuts it off); the ratio of the two rates is the figure, with
//! the server's resident memory during the attack and 10 s after it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

use super::harness::{drive_workers, CatalogServer, Summary};

const GOODS: usize = 5_000;
const CLIENTS: usize = 4;

pub async fn run(slowloris: usize, half_bodies: usize, phase: Duration) -> anyhow::Result<()> {
    // The attack's sockets are this process's descriptors too.
    giftbiz_server::http::edge::raise_descriptor_limit();
    let fixture = CatalogServer::start(None, GOODS).await?;
    let server = &fixture.server;
    let addr = server.base.trim_start_matches("http://").to_owned();
    let form = fixture.goods_form();
    calm_or_attacked(&addr, &form, Duration::from_secs(1)).await?;
    let calm = calm_or_attacked(&addr, &form, phase).await?;
    let rss_calm = server.rss_kib();

    // Connections the attack opened: more than it runs means the server cut them off.
    let opened = Arc::new(AtomicU64::new(0));
    let mut attack = Vec::new();
    for _ in 0..slowloris {
        attack.push(tokio::spawn(dribble_heads(addr.clone(), opened.clone())));
    }
    for _ in 0..half_bodies {
        attack.push(tokio::spawn(half_sent_bodies(addr.clone(), opened.clone())));
    }
    // Let the attack take its connections before measuring beside it.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let attacked = calm_or_attacked(&addr, &form, phase).await?;
    let rss_attacked = server.rss_kib();
    let opened = opened.load(Ordering::Relaxed);
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
    println!("attack connections opened: {opened} for {} attackers (the rest were cut off and reopened)", slowloris + half_bodies);
    println!("server RSS: {} before, {} during, {} 10 s after (peak {})", mb(rss_calm), mb(rss_attacked), mb(rss_after), mb(peak));
    Ok(())
}

/// [`CLIENTS`] tasks, each on one keep-alive connection of its own opened before the phase,
/// paging through 0101 for `phase`. (A pooling client would open extra connections when a
/// returned one is not back in its pool yet; under the attack those wait behind it in the
/// kernel's backlog, which measures the pool, not the server's service to a kept connection.)
async fn calm_or_attacked(addr: &str, form: &[(String, String)], phase: Duration) -> anyhow::Result<Summary> {
    let form: String = form.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&");
    let pages = GOODS.div_ceil(20) as u64;
    let mut conns = Vec::new();
    for _ in 0..CLIENTS {
        conns.push(BufReader::new(TcpStream::connect(addr).await?));
    }
    drive_workers(conns, phase, move |mut conn: BufReader<TcpStream>, n| {
        let body = format!("{form}&start={}&size=20", n % pages + 1);
        async move {
            tokio::time::timeout(Duration::from_secs(30), post_goods(&mut conn, &body)).await??;
            Ok(conn)
        }
    })
    .await
}

/// One 0101 call on a kept connection: the request, then the answer's head and its
/// `content-length` bytes, which must be the envelope of a success.
async fn post_goods(conn: &mut BufReader<TcpStream>, body: &str) -> anyhow::Result<()> {
    let head = format!(
        "POST /bizApi/goods HTTP/1.1\r\nHost: bench\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    conn.get_mut().write_all(format!("{head}{body}").as_bytes()).await?;
    let (mut line, mut length) = (String::new(), None);
    conn.read_line(&mut line).await?;
    anyhow::ensure!(line.starts_with("HTTP/1.1 200"), "answer {line:?}");
    loop {
        line.clear();
        anyhow::ensure!(conn.read_line(&mut line).await? > 0, "the server closed the connection");
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(value.trim().parse::<usize>()?);
            }
        }
    }
    let mut answer = vec![0; length.ok_or_else(|| anyhow::anyhow!("no content-length"))?];
    conn.read_exact(&mut answer).await?;
    anyhow::ensure!(answer.starts_with(b"{\"code\":\"0000\""), "not a success: {}", String::from_utf8_lossy(&answer[..answer.len().min(80)]));
    Ok(())
}

/// A request head a byte a second, never finished; again on a new connection once cut off.
async fn dribble_heads(addr: String, opened: Arc<AtomicU64>) {
    loop {
        let Ok(mut conn) = TcpStream::connect(&addr).await else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        opened.fetch_add(1, Ordering::Relaxed);
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
async fn half_sent_bodies(addr: String, opened: Arc<AtomicU64>) {
    let half = vec![b'a'; 30_000];
    let head = "POST /bizApi/goods HTTP/1.1\r\nHost: bench\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 60000\r\n\r\n";
    loop {
        let Ok(mut conn) = TcpStream::connect(&addr).await else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        };
        opened.fetch_add(1, Ordering::Relaxed);
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
