//! Soak: a long run of mixed load against the counter server, sampling its memory, file
//! descriptors, tasks and latency every few seconds, to show that nothing leaks and nothing
//! degrades.
//!
//! The load: HTTP reads; writes (one in eight invalid, answered 422 on purpose); action
//! invocations, some of them cancelled; 200 WebSocket observers that join, watch for a while
//! and leave; Web Thing Protocol requests on long-lived sockets; and one observer that reads
//! slowly. Every answer is checked: an error the load did not ask for fails the soak.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::servers::Server;
use crate::stats::Latencies;

/// One sample of the server.
#[derive(Debug, Clone)]
pub(crate) struct Sample {
    /// Seconds since the start.
    pub(crate) at: f64,
    pub(crate) rss_mib: f64,
    pub(crate) fds: u64,
    pub(crate) tasks: u64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) requests: u64,
}

/// What the load counted.
#[derive(Default)]
struct Counts {
    requests: AtomicU64,
    expected_errors: AtomicU64,
    unexpected: AtomicU64,
    observers_joined: AtomicU64,
}

/// Latencies of the current sampling window.
type Window = Arc<std::sync::Mutex<Vec<Duration>>>;

/// The verdict and the figures.
pub(crate) struct Report {
    pub(crate) samples: Vec<Sample>,
    pub(crate) requests: u64,
    pub(crate) expected_errors: u64,
    pub(crate) unexpected: u64,
    pub(crate) observers_joined: u64,
    pub(crate) rss_slope_mib_per_hour: f64,
    pub(crate) fds_slope_per_hour: f64,
    pub(crate) tasks_slope_per_hour: f64,
    pub(crate) p99_spread: f64,
}

pub(crate) async fn run(duration: Duration, every: Duration, stats: PathBuf) -> Report {
    let stats_arg = stats.display().to_string();
    let server = Server::spawn("labthings", &["--stats", &stats_arg]);
    let addr = server.addr;
    let counts = Arc::new(Counts::default());
    let window: Window = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    for _ in 0..2 {
        load.push(tokio::spawn(reader(
            addr,
            counts.clone(),
            window.clone(),
            stop.clone(),
        )));
    }
    load.push(tokio::spawn(writer(
        addr,
        counts.clone(),
        window.clone(),
        stop.clone(),
    )));
    load.push(tokio::spawn(invoker(addr, counts.clone(), stop.clone())));
    for i in 0..200 {
        load.push(tokio::spawn(observer(
            addr,
            i,
            counts.clone(),
            stop.clone(),
        )));
    }
    for _ in 0..2 {
        load.push(tokio::spawn(requester(addr, counts.clone(), stop.clone())));
    }
    load.push(tokio::spawn(slow_reader(addr, stop.clone())));

    let start = Instant::now();
    let mut samples = Vec::new();
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    while start.elapsed() < duration {
        tick.tick().await;
        let latencies = Latencies::new(std::mem::take(&mut *window.lock().unwrap()));
        samples.push(Sample {
            at: start.elapsed().as_secs_f64(),
            rss_mib: server.rss() as f64 / (1024.0 * 1024.0),
            fds: server.fds(),
            // The server rewrites the file every second; before its first write, the count
            // of the previous sample stands.
            tasks: std::fs::read_to_string(&stats)
                .ok()
                .and_then(|t| t.trim().parse().ok())
                .unwrap_or_else(|| samples.last().map_or(0, |s: &Sample| s.tasks)),
            p50_ms: latencies.percentile_ms(50.0),
            p99_ms: latencies.percentile_ms(99.0),
            requests: counts.requests.load(Ordering::Relaxed),
        });
    }
    stop.store(true, Ordering::Relaxed);
    for task in load {
        let _ = task.await;
    }
    // After warm-up: the first fifth of the run (at least one sample) is left out.
    let warm: Vec<&Sample> = samples.iter().skip((samples.len() / 5).max(1)).collect();
    let slope = |value: fn(&Sample) -> f64| slope(&warm, value) * 3600.0;
    let p99s: Vec<f64> = warm.iter().map(|s| s.p99_ms).collect();
    let median_p99 = {
        let mut sorted = p99s.clone();
        sorted.sort_by(f64::total_cmp);
        sorted.get(sorted.len() / 2).copied().unwrap_or(0.0)
    };
    let max_p99 = p99s.iter().copied().fold(0.0, f64::max);
    Report {
        rss_slope_mib_per_hour: slope(|s| s.rss_mib),
        fds_slope_per_hour: slope(|s| s.fds as f64),
        tasks_slope_per_hour: slope(|s| s.tasks as f64),
        p99_spread: max_p99 / median_p99.max(0.001),
        requests: counts.requests.load(Ordering::Relaxed),
        expected_errors: counts.expected_errors.load(Ordering::Relaxed),
        unexpected: counts.unexpected.load(Ordering::Relaxed),
        observers_joined: counts.observers_joined.load(Ordering::Relaxed),
        samples,
    }
}

/// The least-squares slope of `value` over time, per second.
fn slope(samples: &[&Sample], value: fn(&Sample) -> f64) -> f64 {
    let n = samples.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let mean_t = samples.iter().map(|s| s.at).sum::<f64>() / n;
    let mean_v = samples.iter().map(|s| value(s)).sum::<f64>() / n;
    let num: f64 = samples
        .iter()
        .map(|s| (s.at - mean_t) * (value(s) - mean_v))
        .sum();
    let den: f64 = samples.iter().map(|s| (s.at - mean_t).powi(2)).sum();
    if den == 0.0 { 0.0 } else { num / den }
}

/// Record an answer: success, an error the load asked for, or a failure of the soak.
fn record(counts: &Counts, status: u16, expected: &[u16]) {
    counts.requests.fetch_add(1, Ordering::Relaxed);
    if (200..300).contains(&status) {
        return;
    }
    if expected.contains(&status) {
        counts.expected_errors.fetch_add(1, Ordering::Relaxed);
    } else {
        counts.unexpected.fetch_add(1, Ordering::Relaxed);
        eprintln!("soak: unexpected status {status}");
    }
}

/// Requests about every millisecond on one connection: the latency probe.
async fn reader(addr: SocketAddr, counts: Arc<Counts>, window: Window, stop: Arc<AtomicBool>) {
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/counter/count");
    while !stop.load(Ordering::Relaxed) {
        let sent = Instant::now();
        match client.get(&url).send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let _ = response.bytes().await;
                window.lock().unwrap().push(sent.elapsed());
                record(&counts, status, &[]);
            }
            Err(_) => record(&counts, 0, &[]),
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Writes of `step`; one in eight out of range (422, asked for).
async fn writer(addr: SocketAddr, counts: Arc<Counts>, window: Window, stop: Arc<AtomicBool>) {
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/counter/step");
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let value = if i.is_multiple_of(8) {
            1000
        } else {
            1 + i % 100
        };
        let sent = Instant::now();
        match client
            .put(&url)
            .header("content-type", "application/json")
            .body(value.to_string())
            .send()
            .await
        {
            Ok(response) => {
                window.lock().unwrap().push(sent.elapsed());
                record(&counts, response.status().as_u16(), &[422]);
            }
            Err(_) => record(&counts, 0, &[]),
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Invocations: increments, and waits of which some are cancelled.
async fn invoker(addr: SocketAddr, counts: Arc<Counts>, stop: Arc<AtomicBool>) {
    let client = reqwest::Client::new();
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let (path, body) = if i.is_multiple_of(4) {
            ("wait", json!({"seconds": 0.2}))
        } else {
            ("increment", json!({}))
        };
        let Ok(response) = client
            .post(format!("http://{addr}/counter/{path}"))
            .json(&body)
            .send()
            .await
        else {
            record(&counts, 0, &[]);
            continue;
        };
        let status = response.status().as_u16();
        // 503: the per-action cap, with Retry-After.
        record(&counts, status, &[503]);
        if path == "wait" && status == 201 && i.is_multiple_of(8) {
            let invocation: Value = response.json().await.unwrap_or_default();
            if let Some(href) = invocation["href"].as_str() {
                // 409 when it finished first: asked for.
                let status = client
                    .delete(href)
                    .send()
                    .await
                    .map_or(0, |r| r.status().as_u16());
                record(&counts, status, &[409]);
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// An observer that joins, watches for one to five seconds, leaves, and joins again.
async fn observer(addr: SocketAddr, seed: u64, counts: Arc<Counts>, stop: Arc<AtomicBool>) {
    let mut round = seed;
    while !stop.load(Ordering::Relaxed) {
        round = round
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        let Ok((mut socket, _)) =
            tokio_tungstenite::connect_async(format!("ws://{addr}/counter/ws")).await
        else {
            record(&counts, 0, &[]);
            continue;
        };
        counts.observers_joined.fetch_add(1, Ordering::Relaxed);
        let subscribe = json!({"messageType": "addPropertyObservation",
                               "data": {"count": true, "step": true}});
        let _ = socket.send(Message::text(subscribe.to_string())).await;
        let watch = Duration::from_millis(1000 + (round >> 33) % 4000);
        let until = Instant::now() + watch;
        while Instant::now() < until && !stop.load(Ordering::Relaxed) {
            match tokio::time::timeout(Duration::from_millis(500), socket.next()).await {
                Ok(Some(Ok(_))) | Err(_) => {}
                _ => break,
            }
        }
        let _ = socket.close(None).await;
    }
}

/// Web Thing Protocol requests on a long-lived socket.
async fn requester(addr: SocketAddr, counts: Arc<Counts>, stop: Arc<AtomicBool>) {
    let Ok((mut socket, _)) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/counter/ws")).await
    else {
        record(&counts, 0, &[]);
        return;
    };
    let mut i = 0u64;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let request = if i.is_multiple_of(2) {
            json!({"messageType": "request", "operation": "readproperty", "name": "step",
                   "messageID": i.to_string()})
        } else {
            json!({"messageType": "request", "operation": "readallproperties",
                   "messageID": i.to_string()})
        };
        if socket
            .send(Message::text(request.to_string()))
            .await
            .is_err()
        {
            record(&counts, 0, &[]);
            return;
        }
        // Its response (notifications are not subscribed on this socket).
        match tokio::time::timeout(Duration::from_secs(10), socket.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                let failed =
                    serde_json::from_str::<Value>(&text).map_or(true, |m| m.get("error").is_some());
                record(&counts, if failed { 500 } else { 200 }, &[]);
            }
            _ => {
                record(&counts, 0, &[]);
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// An observer that reads one message a second: its changes are coalesced, it is never
/// closed, and it never slows the others.
async fn slow_reader(addr: SocketAddr, stop: Arc<AtomicBool>) {
    let Ok((mut socket, _)) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/counter/ws")).await
    else {
        return;
    };
    let subscribe = json!({"messageType": "addPropertyObservation",
                           "data": {"count": true, "step": true}});
    let _ = socket.send(Message::text(subscribe.to_string())).await;
    while !stop.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if socket.next().await.is_none() {
            return;
        }
    }
}

/// One panel of the plot: title, unit, and its lines (label, colour, value).
type Panel = (
    &'static str,
    &'static str,
    Vec<(&'static str, plotters::style::RGBColor, fn(&Sample) -> f64)>,
);

/// Draw the samples: memory, descriptors and tasks, and latency, over time.
pub(crate) fn plot(samples: &[Sample], file: &std::path::Path) -> Result<(), String> {
    use plotters::prelude::*;
    let root = SVGBackend::new(file, (1000, 900)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let panels = root.split_evenly((3, 1));
    let end = samples.last().map_or(1.0, |s| s.at) / 60.0;
    let series: [Panel; 3] = [
        (
            "Server resident memory",
            "MiB",
            vec![("RSS", BLUE, |s| s.rss_mib)],
        ),
        (
            "Open file descriptors and runtime tasks",
            "count",
            vec![
                ("file descriptors", RED, |s| s.fds as f64),
                ("tasks", GREEN, |s| s.tasks as f64),
            ],
        ),
        (
            "HTTP latency per 10 s window",
            "ms",
            vec![("p50", BLACK, |s| s.p50_ms), ("p99", MAGENTA, |s| s.p99_ms)],
        ),
    ];
    for (panel, (title, unit, lines)) in panels.iter().zip(series) {
        let top = lines
            .iter()
            .flat_map(|(_, _, f)| samples.iter().map(f))
            .fold(1.0_f64, f64::max)
            * 1.15;
        let mut chart = ChartBuilder::on(panel)
            .caption(title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..end.max(0.1), 0.0..top)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("minutes")
            .y_desc(unit)
            .draw()
            .map_err(|e| e.to_string())?;
        for (name, color, f) in lines {
            chart
                .draw_series(LineSeries::new(
                    samples.iter().map(|s| (s.at / 60.0, f(s))),
                    color.stroke_width(2),
                ))
                .map_err(|e| e.to_string())?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], color));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| e.to_string())?;
    }
    root.present().map_err(|e| e.to_string())
}
