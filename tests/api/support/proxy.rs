//! A TCP proxy between the service and PostgreSQL that counts round trips: a round trip is
//! the client sending again after the server has answered. Each chunk is also delayed, in each
//! direction, so that everything a client writes without waiting arrives before the first
//! answer, however the machine schedules the writes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A running proxy.
pub struct Proxy {
    pub addr: SocketAddr,
    round_trips: Arc<AtomicU64>,
}

impl Proxy {
    /// Round trips so far, over every connection.
    pub fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::SeqCst)
    }
}

/// Which way the last chunk of one connection went.
#[derive(Default)]
struct Turn {
    server_answered: AtomicBool,
}

/// Starts a proxy to `upstream` that delays each forwarded chunk by `delay`. It runs until
/// the test's runtime ends.
pub async fn delaying_proxy(upstream: SocketAddr, delay: Duration) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let round_trips = Arc::new(AtomicU64::new(0));
    let counter = round_trips.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = TcpStream::connect(upstream).await else {
                continue;
            };
            // No Nagle: small pipelined writes must not wait for ACKs of earlier ones.
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let (client_read, client_write) = client.into_split();
            let (server_read, server_write) = server.into_split();
            let turn = Arc::new(Turn::default());
            let (up, down) = (turn.clone(), turn);
            let counter = counter.clone();
            tokio::spawn(pump(client_read, server_write, delay, move || {
                if up.server_answered.swap(false, Ordering::SeqCst) {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
            }));
            tokio::spawn(pump(server_read, client_write, delay, move || {
                down.server_answered.store(true, Ordering::SeqCst);
            }));
        }
    });
    Proxy { addr, round_trips }
}

/// Forwards `from` to `to`, each chunk `delay` after it was read (latency, not a per-chunk
/// serial cost), calling `on_chunk` as each chunk is read.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    delay: Duration,
    on_chunk: impl Fn() + Send + 'static,
) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(tokio::time::Instant, Vec<u8>)>();
    let writer = tokio::spawn(async move {
        while let Some((due, chunk)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            if to.write_all(&chunk).await.is_err() {
                return;
            }
        }
    });
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        on_chunk();
        if tx
            .send((tokio::time::Instant::now() + delay, buf[..n].to_vec()))
            .is_err()
        {
            break;
        }
    }
    drop(tx);
    let _ = writer.await;
}
