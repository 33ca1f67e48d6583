//! Requests that HTTP/1.1 itself cannot parse never reach the application: the HTTP layer
//! (hyper) answers them with a bare status and an empty body, then closes the connection.
//! These tests send such requests over raw TCP and pin down exactly what a client receives,
//! as SECURITY.md documents.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::TestApp;

/// What came back over the socket before the server closed it.
struct RawResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Writes `request` as it is and reads until the server closes the connection.
async fn exchange(addr: SocketAddr, request: &[u8]) -> RawResponse {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    // The server may answer and close before it has read everything: ignore write errors.
    let _ = stream.write_all(request).await;
    let mut received = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut received));
    // A reset after the answer still leaves the answer in `received`.
    let _ = read
        .await
        .expect("the server answers and closes within 10 s");
    let text = String::from_utf8_lossy(&received);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("an HTTP response, got {text:?}"));
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("a status line in {head:?}"));
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    RawResponse {
        status,
        headers,
        body: body.as_bytes().to_vec(),
    }
}

fn request_with_headers(extra: &str) -> Vec<u8> {
    format!("GET /healthz HTTP/1.1\r\nHost: x\r\n{extra}\r\n").into_bytes()
}

#[tokio::test]
async fn requests_http_cannot_parse_get_a_bare_status_from_the_http_layer_and_a_closed_connection()
{
    let app = TestApp::spawn().await;
    let many_headers: String = (0..150).map(|i| format!("X-H{i}: v\r\n")).collect();
    let huge_header = format!("X-Big: {}\r\n", "a".repeat(1024 * 1024));
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        (
            "malformed request line",
            b"GET /healthz HTTP/1.1 extra\r\nHost: x\r\n\r\n".to_vec(),
            400,
        ),
        ("not HTTP at all", b"\x16\x03\x01\x02\x00\x01\r\n\r\n".to_vec(), 400),
        (
            "two different Content-Length values",
            b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}"
                .to_vec(),
            400,
        ),
        (
            "a Content-Length that is not a number",
            b"POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n{}".to_vec(),
            400,
        ),
        ("too many headers", request_with_headers(&many_headers), 431),
        ("a header larger than the buffer", request_with_headers(&huge_header), 431),
    ];

    for (case, request, expected) in cases {
        let resp = exchange(app.addr, &request).await;
        assert_eq!(resp.status, expected, "{case}");
        assert!(
            resp.body.is_empty(),
            "{case}: an empty body, got {:?}",
            resp.body
        );
        assert_eq!(resp.header("content-length"), Some("0"), "{case}");
        assert_eq!(
            resp.header("x-request-id"),
            None,
            "{case}: the application never saw it"
        );
    }

    // The service itself is unaffected.
    app.get("/healthz").send().await.assert_status(200);
}
