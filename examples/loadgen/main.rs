//! Load generator: measures the labthings counter server against a bare axum server (the
//! ceiling of the stack) in the same run, over loopback only, and prints a Markdown table.
//!
//! Run with
//! ```sh
//! cargo run --release --example loadgen              # the full run (about two minutes)
//! cargo run --release --example loadgen -- --quick   # a smoke run (seconds)
//! cargo run --release --example loadgen -- clients --python .ci/venv/bin/python
//! cargo run --release --example loadgen -- mqtt      # needs Debian's `mosquitto`
//! cargo run --release --example loadgen -- serial --python .ci/venv/bin/python
//! ```
//!
//! Both servers run as child processes of this program (`loadgen serve-labthings`,
//! `loadgen serve-baseline`) so that their resident memory can be read from `/proc`.

mod clients;
#[path = "../things/counter.rs"]
#[allow(dead_code)]
mod counter;
mod events;
mod http;
mod mjpeg;
#[path = "../../tests/support/mosquitto.rs"]
#[allow(dead_code)]
mod mosquitto;
mod mqtt;
mod overhead;
mod serial;
mod servers;
#[path = "../openflexure/sim.rs"]
#[allow(dead_code)]
mod sim;
mod soak;
mod stats;
mod ws;

use std::time::Duration;

use clap::{Parser, Subcommand};
use hyper::Method;

use crate::servers::Server;
use crate::ws::Target;

#[derive(Parser)]
#[command(about = "Benchmark labthings against a bare axum server over loopback")]
struct Args {
    #[command(subcommand)]
    mode: Option<Mode>,
    /// Seconds per HTTP measurement.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// A smoke run: tiny durations and counts.
    #[arg(long)]
    quick: bool,
    /// Run only these scenarios (comma-separated: idle, http, secure, metrics, provenance,
    /// burst, fan-out, events, mjpeg).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "idle,http,secure,metrics,provenance,burst,fan-out,events,mjpeg"
    )]
    only: Vec<String>,
    /// Number of idle connections (default 1000, or 50 with --quick).
    #[arg(long)]
    idle: Option<usize>,
}

#[derive(Subcommand)]
enum Mode {
    /// Serve the labthings counter and print its address.
    ServeLabthings(servers::Secure),
    /// Serve the bare axum baseline and print its address.
    ServeBaseline(servers::Secure),
    /// Time from invoking an action to learning that it completed, per client (the Rust
    /// client over the WebSocket and polling, the LabThings-FastAPI Python client).
    Clients {
        /// Invocations per client.
        #[arg(long, default_value_t = 1000)]
        count: usize,
        /// A Python with labthings-fastapi==0.3.0, for its client and server.
        #[arg(long)]
        python: Option<std::ffi::OsString>,
    },
    /// One change fanned out through a Mosquitto broker (the MQTT binding) to many
    /// subscribers, beside the same fan-out over the WebSocket.
    Mqtt {
        /// Numbers of subscribers, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
        subscribers: Vec<usize>,
        /// Writes per fan-out.
        #[arg(long, default_value_t = 20)]
        writes: i64,
    },
    /// A query's round trip over a pseudo-terminal to the simulated Sangaboard, by
    /// labthings' transport and by the Python `sangaboard` driver.
    Serial {
        /// Queries each way.
        #[arg(long, default_value_t = 2000)]
        count: usize,
        /// A Python with sangaboard==0.4.1.
        #[arg(long)]
        python: Option<std::ffi::OsString>,
    },
    /// A long run of mixed load against the counter server, sampling its memory, file
    /// descriptors, tasks and latency; fails if anything leaks or degrades.
    Soak {
        /// Seconds to run.
        #[arg(long, default_value_t = 3600)]
        seconds: u64,
        /// Seconds between samples.
        #[arg(long, default_value_t = 10)]
        every: u64,
        /// Draw the samples into this SVG file.
        #[arg(long)]
        plot: Option<std::path::PathBuf>,
    },
}

struct Plan {
    http_time: Duration,
    burst: u64,
    fan_out: [usize; 2],
    writes: i64,
    idle: usize,
    events: u64,
    event_fan_out: [usize; 2],
    emissions: usize,
    viewers: [usize; 3],
    viewing: Duration,
    only: Vec<String>,
}

fn main() {
    let args = Args::parse();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    match args.mode {
        Some(Mode::ServeLabthings(secure)) => {
            return runtime.block_on(servers::serve_labthings(secure));
        }
        Some(Mode::ServeBaseline(secure)) => {
            return runtime.block_on(servers::serve_baseline(secure));
        }
        Some(Mode::Mqtt {
            subscribers,
            writes,
        }) => {
            return runtime.block_on(mqtt::report(&subscribers, writes));
        }
        Some(Mode::Clients { count, python }) => {
            return runtime.block_on(clients::report(count, python));
        }
        Some(Mode::Serial { count, python }) => {
            return runtime.block_on(serial::report(count, python));
        }
        Some(Mode::Soak {
            seconds,
            every,
            plot,
        }) => {
            let passed = runtime.block_on(soak_report(seconds, every, plot));
            std::process::exit(if passed { 0 } else { 1 });
        }
        None => {}
    }
    let plan = if args.quick {
        Plan {
            http_time: Duration::from_millis(200),
            burst: 1_000,
            fan_out: [10, 20],
            writes: 5,
            idle: args.idle.unwrap_or(50),
            events: 1_000,
            event_fan_out: [10, 20],
            emissions: 3,
            viewers: [1, 2, 3],
            viewing: Duration::from_millis(500),
            only: args.only,
        }
    } else {
        Plan {
            http_time: Duration::from_secs_f64(args.seconds),
            burst: 10_000,
            fan_out: [100, 1000],
            writes: 50,
            idle: args.idle.unwrap_or(1000),
            events: 10_000,
            event_fan_out: [1000, 10_000],
            emissions: 20,
            viewers: [1, 10, 50],
            viewing: Duration::from_secs(5),
            only: args.only,
        }
    };
    runtime.block_on(run(&plan));
}

/// Bounds of a soak, after warm-up (runs of ten minutes or more).
const RSS_SLOPE_MIB_PER_HOUR: f64 = 8.0;
const FDS_SLOPE_PER_HOUR: f64 = 10.0;
const TASKS_SLOPE_PER_HOUR: f64 = 50.0;
const P99_SPREAD: f64 = 5.0;

/// Run a soak, print its report, and say whether it passed.
async fn soak_report(seconds: u64, every: u64, plot: Option<std::path::PathBuf>) -> bool {
    let stats = std::env::temp_dir().join(format!("labthings-soak-{}", std::process::id()));
    let report = soak::run(
        Duration::from_secs(seconds),
        Duration::from_secs(every),
        stats.clone(),
    )
    .await;
    let _ = std::fs::remove_file(&stats);
    println!("| minute | RSS (MiB) | file descriptors | tasks | p50 (ms) | p99 (ms) | requests |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    let step = (report.samples.len() / 12).max(1);
    for s in report
        .samples
        .iter()
        .step_by(step)
        .chain(report.samples.last())
    {
        println!(
            "| {:.1} | {:.1} | {} | {} | {:.2} | {:.2} | {} |",
            s.at / 60.0,
            s.rss_mib,
            s.fds,
            s.tasks,
            s.p50_ms,
            s.p99_ms,
            s.requests
        );
    }
    println!();
    println!(
        "{} requests and messages, {} errors asked for (422, 409, 503), {} unexpected; {} observers joined and left",
        report.requests, report.expected_errors, report.unexpected, report.observers_joined
    );
    println!(
        "after warm-up: RSS {:+.2} MiB/hour (bound {RSS_SLOPE_MIB_PER_HOUR}), file descriptors {:+.2}/hour (bound {FDS_SLOPE_PER_HOUR}), tasks {:+.2}/hour (bound {TASKS_SLOPE_PER_HOUR}), worst p99 {:.1}× the median p99 (bound {P99_SPREAD})",
        report.rss_slope_mib_per_hour,
        report.fds_slope_per_hour,
        report.tasks_slope_per_hour,
        report.p99_spread
    );
    if let Some(file) = plot {
        if let Err(e) = soak::plot(&report.samples, &file) {
            eprintln!("the plot could not be drawn: {e}");
            return false;
        }
        println!("plot: {}", file.display());
    }
    let long = seconds >= 600;
    let passed = report.unexpected == 0
        && report.requests > 0
        && (!long
            || (report.rss_slope_mib_per_hour < RSS_SLOPE_MIB_PER_HOUR
                && report.fds_slope_per_hour < FDS_SLOPE_PER_HOUR
                && report.tasks_slope_per_hour < TASKS_SLOPE_PER_HOUR
                && report.p99_spread < P99_SPREAD));
    println!(
        "soak: {}{}",
        if passed { "PASSED" } else { "FAILED" },
        if long {
            ""
        } else {
            " (a smoke run: the slopes are judged on runs of ten minutes or more)"
        }
    );
    passed
}

/// Rounds per HTTP comparison.
const ROUNDS: u32 = 5;

/// The median of per-round ratios, with their range.
fn median_ratio(mut ratios: Vec<f64>) -> String {
    ratios.sort_by(f64::total_cmp);
    format!(
        "{:.2} (rounds {:.2}–{:.2})",
        ratios[ratios.len() / 2],
        ratios[0],
        ratios[ratios.len() - 1]
    )
}

/// A row of the report.
fn row(scenario: &str, labthings: String, baseline: String, ratio: String, target: &str) {
    println!("| {scenario} | {labthings} | {baseline} | {ratio} | {target} |");
}

async fn run(plan: &Plan) {
    let labthings = Server::spawn("labthings", &[]);
    let baseline = Server::spawn("baseline", &[]);
    let lt = Target::Labthings(labthings.addr);
    let base = Target::Baseline(baseline.addr);

    println!("| Scenario | labthings | bare axum (ceiling) | ratio | target |");
    println!("| --- | --- | --- | --- | --- |");

    let wanted = |name: &str| plan.only.iter().any(|o| o == name);
    // Idle connections first, on fresh processes.
    if wanted("idle") {
        let mut per_connection = Vec::new();
        for (server, target) in [(&labthings, lt), (&baseline, base)] {
            let before = server.rss();
            let sockets = ws::idle(target, plan.idle).await;
            tokio::time::sleep(Duration::from_millis(500)).await;
            let after = server.rss();
            per_connection.push(after.saturating_sub(before) as f64 / plan.idle as f64 / 1024.0);
            drop(sockets);
        }
        row(
            &format!("idle WebSockets ({}), server memory each", plan.idle),
            format!("{:.1} KiB", per_connection[0]),
            format!("{:.1} KiB", per_connection[1]),
            format!("{:.2}", per_connection[0] / per_connection[1].max(0.01)),
            "≤ 8 KiB",
        );
    }
    if wanted("http") {
        for (label, method, lt_path, base_path, body, target) in [
            (
                "property GET",
                Method::GET,
                "/counter/count",
                "/value",
                "",
                "≥ 0.8 × ceiling",
            ),
            (
                "property PUT",
                Method::PUT,
                "/counter/step",
                "/value",
                "5",
                "≥ 0.6 × ceiling",
            ),
        ] {
            for connections in [16, 64] {
                // Alternate short rounds between the two servers and take the median ratio:
                // the machine's speed drifts more over a few seconds than between neighbours.
                let round = plan.http_time / ROUNDS;
                let (mut ls, mut bs, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
                for _ in 0..ROUNDS {
                    let l = http::load(
                        labthings.addr,
                        method.clone(),
                        lt_path,
                        body,
                        connections,
                        round,
                    )
                    .await;
                    let b = http::load(
                        baseline.addr,
                        method.clone(),
                        base_path,
                        body,
                        connections,
                        round,
                    )
                    .await;
                    ratios.push(l.per_second / b.per_second);
                    ls.push(l);
                    bs.push(b);
                }
                row(
                    &format!("{label}, {connections} connections"),
                    http_cell(&http::HttpResult::merge(ls)),
                    http_cell(&http::HttpResult::merge(bs)),
                    median_ratio(ratios),
                    target,
                );
            }
        }
        for connections in [16, 64] {
            let l = http::load(
                labthings.addr,
                Method::POST,
                "/counter/increment",
                "",
                connections,
                plan.http_time,
            )
            .await;
            row(
                &format!("action POST, {connections} connections"),
                http_cell(&l),
                "–".into(),
                "–".into(),
                "≥ 20,000/s",
            );
        }
    }
    if wanted("secure") {
        secure(plan).await;
    }
    if wanted("metrics") {
        overhead::metrics(plan).await;
    }
    if wanted("provenance") {
        overhead::provenance(plan).await;
    }
    if wanted("burst") {
        let l = ws::burst(lt, plan.burst).await;
        let b = ws::burst(base, plan.burst).await;
        row(
            &format!("WebSocket burst of {} changes, one observer", plan.burst),
            burst_cell(&l),
            burst_cell(&b),
            format!("{:.2}", l.per_second / b.per_second),
            "≥ 200,000/s, all delivered",
        );
    }
    if wanted("events") {
        events(plan, lt, base).await;
    }
    if wanted("mjpeg") {
        for viewers in plan.viewers {
            let l = mjpeg::view(labthings.addr, "/feed/video", viewers, plan.viewing, || {
                labthings.cpu()
            })
            .await;
            let b = mjpeg::view(baseline.addr, "/mjpeg", viewers, plan.viewing, || {
                baseline.cpu()
            })
            .await;
            let cell = |v: &mjpeg::Viewing| {
                format!(
                    "each viewer {:.1}–{:.1} fps (median {:.1}), server CPU {:.2} ms a frame",
                    v.fps[0],
                    v.fps[v.fps.len() - 1],
                    v.fps[v.fps.len() / 2],
                    v.cpu_ms_per_frame
                )
            };
            row(
                &format!(
                    "MJPEG {} fps (640×480, {} KB frames) to {viewers} viewers",
                    mjpeg::FRAME_RATE,
                    mjpeg::frame().len() / 1024
                ),
                cell(&l),
                cell(&b),
                format!(
                    "{:.2} (CPU)",
                    l.cpu_ms_per_frame / b.cpu_ms_per_frame.max(0.001)
                ),
                "every viewer ≥ 29 fps at 50 viewers",
            );
        }
    }
    if wanted("fan-out") {
        for observers in plan.fan_out {
            let gap = Duration::from_millis(20);
            let l = ws::fan_out(lt, observers, plan.writes, gap).await;
            let b = ws::fan_out(base, observers, plan.writes, gap).await;
            row(
                &format!(
                    "fan-out to {observers} observers, {} writes 20 ms apart: latency p50/p99/max",
                    plan.writes
                ),
                fan_out_cell(&l),
                fan_out_cell(&b),
                format!(
                    "{:.2} (p99)",
                    l.latencies.percentile_ms(99.0) / b.latencies.percentile_ms(99.0).max(0.001)
                ),
                "p99 ≤ 1.5 × ceiling, 0 missed",
            );
        }
    }
}

/// Events: throughput to one subscriber over the WebSocket and SSE, and fan-out.
async fn events(plan: &Plan, lt: Target, base: Target) {
    for (channel, wtp) in [("Web Thing Protocol", true), ("Server-Sent Events", false)] {
        let (l, b) = if wtp {
            (
                events::websocket(lt, plan.events).await,
                events::websocket(base, plan.events).await,
            )
        } else {
            (
                events::sse(lt, plan.events).await,
                events::sse(base, plan.events).await,
            )
        };
        row(
            &format!("{} events to one subscriber, {channel}", plan.events),
            format!("{:.0}/s ({} received)", l.per_second, l.received),
            format!("{:.0}/s ({} received)", b.per_second, b.received),
            format!("{:.2}", l.per_second / b.per_second),
            "all delivered, in order",
        );
    }
    for subscribers in plan.event_fan_out {
        let gap = Duration::from_millis(50);
        let l = events::fan_out(lt, subscribers, plan.emissions, gap).await;
        let b = events::fan_out(base, subscribers, plan.emissions, gap).await;
        let cell =
            |f: &events::FanOut| format!("{}, {} missed", f.latencies.p50_p99_max(), f.missed);
        row(
            &format!(
                "event fan-out to {subscribers} subscribers, {} emissions 50 ms apart: latency p50/p99/max",
                plan.emissions
            ),
            cell(&l),
            cell(&b),
            format!(
                "{:.2} (p99)",
                l.latencies.percentile_ms(99.0) / b.latencies.percentile_ms(99.0).max(0.001)
            ),
            "0 missed",
        );
    }
}

/// Property GET and PUT with a bearer token (against the plain ceiling), and over TLS
/// (against the ceiling over the same TLS), 16 connections each.
async fn secure(plan: &Plan) {
    let certificate = servers::Certificate::generate();
    let token = "loadgen-operator-token-0123456789";
    let with_token = Server::spawn("labthings", &["--token", token]);
    let tls_args = certificate.args();
    let tls_args: Vec<&str> = tls_args.iter().map(String::as_str).collect();
    let over_tls = Server::spawn("labthings", &tls_args);
    let baseline = Server::spawn("baseline", &[]);
    let baseline_tls = Server::spawn("baseline", &tls_args);
    let client_tls = certificate.connector();
    let plain = http::Client::default();
    let authorised = http::Client {
        token: Some(format!("Bearer {token}")),
        tls: None,
    };
    let tls = http::Client {
        token: None,
        tls: Some(client_tls),
    };
    for (label, method, lt_path, base_path, body) in [
        ("property GET", Method::GET, "/counter/count", "/value", ""),
        ("property PUT", Method::PUT, "/counter/step", "/value", "5"),
    ] {
        for (variant, server, client, ceiling) in [
            ("bearer token", &with_token, &authorised, &baseline),
            ("TLS", &over_tls, &tls, &baseline_tls),
        ] {
            let ceiling_client = if variant == "TLS" { &tls } else { &plain };
            let round = plan.http_time / ROUNDS;
            let (mut ls, mut bs, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..ROUNDS {
                let l = client
                    .load(server.addr, method.clone(), lt_path, body, 16, round)
                    .await;
                let b = ceiling_client
                    .load(ceiling.addr, method.clone(), base_path, body, 16, round)
                    .await;
                ratios.push(l.per_second / b.per_second);
                ls.push(l);
                bs.push(b);
            }
            row(
                &format!("{label}, 16 connections, {variant}"),
                http_cell(&http::HttpResult::merge(ls)),
                http_cell(&http::HttpResult::merge(bs)),
                median_ratio(ratios),
                if variant == "TLS" {
                    "ratio to the ceiling over the same TLS"
                } else {
                    "ratio to the plain ceiling"
                },
            );
        }
    }
}

fn http_cell(r: &http::HttpResult) -> String {
    format!(
        "{:.0}/s (p50 {:.2} ms, p99 {:.2} ms, {} errors of {})",
        r.per_second,
        r.latencies.percentile_ms(50.0),
        r.latencies.percentile_ms(99.0),
        r.errors,
        r.requests
    )
}

fn burst_cell(b: &ws::Burst) -> String {
    format!(
        "{:.0}/s ({} received, final value {})",
        b.per_second, b.received, b.final_value
    )
}

fn fan_out_cell(f: &ws::FanOut) -> String {
    format!(
        "{}, {} missed, final value seen by all: {}",
        f.latencies.p50_p99_max(),
        f.missed,
        if f.all_saw_final { "yes" } else { "no" }
    )
}
