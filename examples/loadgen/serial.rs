//! A query's round trip over a pseudo-terminal to the simulated Sangaboard: labthings'
//! `LineDevice` beside the Python `sangaboard` 0.4.1 driver, in the same run.

use std::time::{Duration, Instant};

use labthings::transport::{Endpoint, LineDevice, LineSettings};

use crate::sim::SimBoard;
use crate::stats::Latencies;

/// Measure `count` `p?` queries each way, and print a Markdown table.
pub(crate) async fn report(count: usize, python: Option<std::ffi::OsString>) {
    let dir = tempfile::tempdir().unwrap();
    let board = SimBoard::start(&dir.path().join("ttyACM0")).unwrap();
    let device = LineDevice::open(
        "stage",
        Endpoint::serial(board.path()),
        LineSettings::default(),
    )
    .await
    .unwrap();
    for _ in 0..50 {
        device.query("p?").await.unwrap();
    }
    let mut rust = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        device.query("p?").await.unwrap();
        rust.push(started.elapsed());
    }
    drop(device);
    println!("| `p?` round trip over a pty ({count} queries) | p50 / p99 / max (ms) |");
    println!("|---|---|");
    println!(
        "| labthings `LineDevice::query` | {} |",
        Latencies::new(rust).p50_p99_max()
    );
    let Some(python) = python else {
        println!("| Python `sangaboard` 0.4.1 `query` | not measured (give --python) |");
        return;
    };
    let script = format!(
        "{}/tests/python/sangaboard_latency.py",
        env!("CARGO_MANIFEST_DIR")
    );
    let output = tokio::process::Command::new(python)
        .arg(script)
        .arg(board.path())
        .arg(count.to_string())
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let samples: Vec<Duration> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| l.trim().parse::<f64>().ok())
        .map(Duration::from_secs_f64)
        .collect();
    assert_eq!(
        samples.len(),
        count,
        "the script printed one time per query"
    );
    println!(
        "| Python `sangaboard` 0.4.1 `query` | {} |",
        Latencies::new(samples).p50_p99_max()
    );
}
