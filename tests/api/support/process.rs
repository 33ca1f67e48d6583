//! The real `tenantry` binary as a child process, for what only a process shows: its logs,
//! signals, exit codes and start-up behaviour.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::TEST_JWT_SECRET;

pub struct ServiceProcess {
    pub child: Child,
    pub addr: SocketAddr,
    log_path: PathBuf,
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl ServiceProcess {
    /// Starts the binary against `database_url` with test defaults, overridden by `env`.
    pub fn spawn(database_url: &str, env: &[(&str, &str)]) -> Self {
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("addr");
        let log_path = std::env::temp_dir().join(format!("tenantry-{}.log", uuid::Uuid::now_v7()));
        let log = std::fs::File::create(&log_path).expect("log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_tenantry"));
        for (name, _) in std::env::vars() {
            if name.starts_with("TENANTRY_") || name == "RUST_LOG" {
                command.env_remove(name);
            }
        }
        command
            .env("TENANTRY_DATABASE_URL", database_url)
            .env("TENANTRY_LISTEN_ADDR", addr.to_string())
            .env("TENANTRY_JWT_SECRET", TEST_JWT_SECRET)
            .env("TENANTRY_CREATE_DATABASE", "false")
            .env("TENANTRY_MIGRATE_ON_START", "false")
            .env("TENANTRY_LOG_FORMAT", "json");
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("the binary starts");
        Self {
            child,
            addr,
            log_path,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Waits until `/healthz` answers, panicking with the logs if the process dies first.
    pub async fn wait_ready(&mut self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the service exited with {status}:\n{}", self.logs());
            }
            if client.get(self.url("/healthz")).send().await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the service did not become ready:\n{}", self.logs());
    }

    pub fn logs(&self) -> String {
        // Unreadable logs must fail the test, not pass a check for what they do not contain.
        std::fs::read_to_string(&self.log_path).expect("the service's log file is readable")
    }

    pub fn sigterm(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "SIGTERM delivered");
    }

    /// The exit status, if the process ends within `limit`.
    pub async fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log_path);
    }
}
