//! TCP proxies between the service and PostgreSQL: one counts round trips (a round trip is
//! the client sending again after the server has answered), delaying each chunk in each
//! direction so that everything a client writes without waiting arrives before the first
//! answer, however the machine schedules the writes; the other records what the service says
//! to the server and which notices come back.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
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

/// What a [`tapping_proxy`] saw of the PostgreSQL protocol.
#[derive(Debug, Default)]
pub struct Tapped {
    /// Connections opened through the proxy.
    pub connections: usize,
    /// The text of every simple-protocol query (`Query` message) the service sent.
    pub queries: Vec<String>,
    /// The message of every notice (`NoticeResponse`, e.g. a WARNING) the server sent.
    pub notices: Vec<String>,
    /// Every extended-protocol statement the service ran, in order: the statement's text (from
    /// its `Parse`, by the name a `Bind` uses) and the byte length of each bound parameter
    /// (`None` for NULL).
    pub bound: Vec<(String, Vec<Option<usize>>)>,
    /// Prepared statements' texts by name.
    statements: std::collections::HashMap<String, String>,
}

/// Starts a proxy to `upstream` that forwards everything unchanged and records, from the
/// frontend/backend protocol, the simple queries sent and the notices received.
pub async fn tapping_proxy(upstream: SocketAddr) -> (SocketAddr, Arc<Mutex<Tapped>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let tapped = Arc::new(Mutex::new(Tapped::default()));
    let record = tapped.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = TcpStream::connect(upstream).await else {
                continue;
            };
            record.lock().expect("tap").connections += 1;
            let (client_read, client_write) = client.into_split();
            let (server_read, server_write) = server.into_split();
            tokio::spawn(tap(
                client_read,
                server_write,
                Direction::Frontend,
                record.clone(),
            ));
            tokio::spawn(tap(
                server_read,
                client_write,
                Direction::Backend,
                record.clone(),
            ));
        }
    });
    (addr, tapped)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// Service to server: the first message (startup or cancel request) has no type byte.
    Frontend,
    Backend,
}

async fn tap(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    direction: Direction,
    record: Arc<Mutex<Tapped>>,
) {
    let mut pending: Vec<u8> = Vec::new();
    let mut typed = direction == Direction::Backend;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        pending.extend_from_slice(&buf[..n]);
        // Record every complete message before forwarding: the other side cannot react to
        // a message before the test can see it.
        loop {
            let header = if typed { 5 } else { 4 };
            if pending.len() < header {
                break;
            }
            let len_at = usize::from(typed);
            let len =
                u32::from_be_bytes(pending[len_at..len_at + 4].try_into().expect("four bytes"))
                    as usize;
            let total = len + len_at;
            if pending.len() < total {
                break;
            }
            let message: Vec<u8> = pending.drain(..total).collect();
            if typed {
                let payload = &message[5..];
                let mut tapped = record.lock().expect("tap");
                match (direction, message[0]) {
                    (Direction::Frontend, b'Q') => tapped.queries.push(c_string(payload)),
                    (Direction::Frontend, b'P') => {
                        let name = c_string(payload);
                        let text = c_string(&payload[name.len() + 1..]);
                        tapped.statements.insert(name, text);
                    }
                    (Direction::Frontend, b'B') => {
                        let (statement, lengths) = bind_parameters(payload);
                        let text = tapped
                            .statements
                            .get(&statement)
                            .cloned()
                            .unwrap_or(statement);
                        tapped.bound.push((text, lengths));
                    }
                    (Direction::Backend, b'N') => tapped.notices.push(notice_text(payload)),
                    _ => {}
                }
            }
            typed = true;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
}

/// A Bind message's statement name and the lengths of its parameter values.
fn bind_parameters(payload: &[u8]) -> (String, Vec<Option<usize>>) {
    let portal = c_string(payload);
    let rest = &payload[portal.len() + 1..];
    let statement = c_string(rest);
    let mut at = statement.len() + 1;
    let read_u16 = |at: usize| u16::from_be_bytes([rest[at], rest[at + 1]]) as usize;
    let formats = read_u16(at);
    at += 2 + 2 * formats;
    let count = read_u16(at);
    at += 2;
    let mut lengths = Vec::with_capacity(count);
    for _ in 0..count {
        let len = i32::from_be_bytes(rest[at..at + 4].try_into().expect("four bytes"));
        at += 4;
        if len < 0 {
            lengths.push(None);
        } else {
            lengths.push(Some(len as usize));
            at += len as usize;
        }
    }
    (statement, lengths)
}

fn c_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// The severity and message fields of a NoticeResponse.
fn notice_text(mut fields: &[u8]) -> String {
    let (mut severity, mut message) = (String::new(), String::new());
    while let Some((&code, rest)) = fields.split_first() {
        if code == 0 {
            break;
        }
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        let value = String::from_utf8_lossy(&rest[..end]).into_owned();
        fields = &rest[(end + 1).min(rest.len())..];
        match code {
            b'S' => severity = value,
            b'M' => message = value,
            _ => {}
        }
    }
    format!("{severity}: {message}")
}
