//! Metric labels come from closed sets: an unauthenticated client inventing methods and paths
//! cannot grow `/metrics` or the process's memory. Run against the real binary, so that its
//! `/metrics` and its memory are its own.

use futures_util::StreamExt;

use crate::support::TestDb;
use crate::support::process::ServiceProcess;

/// The number of samples `/metrics` exposes (every line that is not a comment).
async fn series(client: &reqwest::Client, service: &ServiceProcess) -> usize {
    let text = client
        .get(service.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .count()
}

/// Resident memory of process `pid`, in kB.
fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// `count` requests, each with its own invented method (about 1 KB long) and its own path:
/// half under a route of the spec (405), half outside every route (404).
async fn invented_requests(
    client: &reqwest::Client,
    service: &ServiceProcess,
    from: usize,
    count: usize,
) {
    let filler = "X".repeat(1000);
    futures_util::stream::iter(from..from + count)
        .map(|i| {
            let method = reqwest::Method::from_bytes(format!("M{i}{filler}").as_bytes())
                .expect("a valid method token");
            let path = if i % 2 == 0 {
                format!("/v1/projects/{}", uuid::Uuid::now_v7())
            } else {
                format!("/invented/{i}/{}", uuid::Uuid::now_v7())
            };
            let request = client.request(method, service.url(&path));
            async move {
                let resp = request.send().await.expect("an answer");
                assert!(
                    [404, 405].contains(&resp.status().as_u16()),
                    "{}",
                    resp.status()
                );
            }
        })
        // Two at a time: enough to exercise the server, gentle on the other tests' timings.
        .buffer_unordered(2)
        .collect::<Vec<()>>()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_invented_methods_and_paths_leave_the_series_count_and_memory_flat() {
    let db = TestDb::new().await;
    let mut service = ServiceProcess::spawn(&db.url(), &[]);
    service.wait_ready().await;
    let client = reqwest::Client::new();
    let pid = service.child.id();
    // Warm-up: every label combination these requests can produce exists afterwards, and the
    // allocator has reached its working size.
    invented_requests(&client, &service, 0, 500).await;
    series(&client, &service).await; // the scrape's own series
    let series_before = series(&client, &service).await;
    let rss_before = rss_kb(pid);

    invented_requests(&client, &service, 500, 10_000).await;

    let series_after = series(&client, &service).await;
    let rss_after = rss_kb(pid);
    println!("series {series_before} -> {series_after}; RSS {rss_before} kB -> {rss_after} kB");
    assert_eq!(series_after, series_before, "no new series");
    assert!(
        rss_after < rss_before + 10 * 1024,
        "RSS grew from {rss_before} kB to {rss_after} kB"
    );
}
