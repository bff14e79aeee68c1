//! A file-backed blob of 100 MB is streamed from disk, with bounded memory; it answers range
//! requests; its file is deleted when its invocation expires. (A test binary of its own: it
//! measures the process's memory.)

mod support;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use labthings::blob::OctetStream;
use labthings::{Blob, thing};
use serde_json::{Value, json};

/// Writes archives.
#[thing]
#[derive(Debug)]
pub struct Archive {
    written: Mutex<Vec<PathBuf>>,
}

#[thing]
impl Archive {
    /// Write an archive of `megabytes` MiB to a temporary file and return it.
    #[action]
    fn export(&self, megabytes: u64) -> Result<Blob<OctetStream>, String> {
        use std::io::Write;
        let path = std::env::temp_dir().join(format!("labthings-archive-{}", uuid_like()));
        let mut file = std::fs::File::create(&path).map_err(|e| e.to_string())?;
        let block: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
        for _ in 0..megabytes {
            file.write_all(&block).map_err(|e| e.to_string())?;
        }
        self.written.lock().unwrap().push(path.clone());
        Ok(Blob::from_temporary_file(path, "application/octet-stream"))
    }
}

fn uuid_like() -> String {
    use std::hash::{BuildHasher, RandomState};
    format!(
        "{:016x}",
        RandomState::new().hash_one(std::time::SystemTime::now())
    )
}

/// The resident memory of this process.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap()
        * 1024
}

async fn export(addr: std::net::SocketAddr, megabytes: u64) -> Value {
    let invocation: Value = reqwest::Client::new()
        .post(format!("http://{addr}/archive/export"))
        .json(&json!({"megabytes": megabytes}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let href = invocation["href"].as_str().unwrap().to_owned();
    loop {
        let status: Value = reqwest::get(&href).await.unwrap().json().await.unwrap();
        if status["status"] == "completed" {
            return status;
        }
        assert!(
            matches!(status["status"].as_str(), Some("pending" | "running")),
            "{status}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100_mb_file_is_streamed_with_bounded_memory_then_deleted() {
    let archive = Arc::new(Archive {
        written: Mutex::new(Vec::new()),
    });
    // One finished invocation is kept: the next one expires the first, and its blob.
    let server = labthings::ThingServer::new()
        .max_finished_invocations(1)
        .shared_thing("archive", archive.clone());
    let (addr, _) = support::start(server).await;
    let done = export(addr, 100).await;
    let href = done["output"]["href"].as_str().unwrap().to_owned();

    let before = rss();
    let mut response = reqwest::get(&href).await.unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "application/octet-stream"
    );
    assert_eq!(
        response.headers()["content-length"],
        (100u64 << 20).to_string()
    );
    let (mut received, mut peak) = (0u64, before);
    while let Some(chunk) = response.chunk().await.unwrap() {
        received += chunk.len() as u64;
        if received % (8 << 20) < chunk.len() as u64 {
            peak = peak.max(rss());
        }
    }
    assert_eq!(received, 100 << 20);
    let grown = peak.saturating_sub(before);
    assert!(
        grown < 32 << 20,
        "streamed, 100 MB pass with memory bounded (under 32 MB more); it grew by {} MB",
        grown >> 20
    );

    // A range of it.
    let part = reqwest::Client::new()
        .get(&href)
        .header("range", "bytes=251-260")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.bytes().await.unwrap().to_vec(),
        (0..10).map(|i| i as u8).collect::<Vec<_>>()
    );

    // The next invocation expires this one: its blob is gone, its file deleted.
    let first = archive.written.lock().unwrap()[0].clone();
    assert!(first.exists());
    export(addr, 1).await;
    // The new invocation is complete before the old one is expired (just after): once its
    // blob is gone, its file is deleted too.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while reqwest::get(&href).await.unwrap().status() != 404 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the blob never expired"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert!(!first.exists(), "the file went with its invocation");
}
