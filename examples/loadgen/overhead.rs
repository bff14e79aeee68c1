//! What an optional part costs on the hot paths: the metrics (property GET and action POST)
//! and provenance records (action POST), at 16 connections, against the same server with it
//! off, in alternating rounds.

use hyper::Method;

use crate::servers::Server;
use crate::{Plan, ROUNDS, http, http_cell, median_ratio, row};

/// The metrics' overhead.
pub(crate) async fn metrics(plan: &Plan) {
    let paths = [
        ("property GET", Method::GET, "/counter/count"),
        ("action POST", Method::POST, "/counter/increment"),
    ];
    compare(plan, "metrics", "--no-metrics", &paths).await;
}

/// The provenance records' overhead: a snapshot of every Thing's stored values as each
/// invocation starts.
pub(crate) async fn provenance(plan: &Plan) {
    let paths = [("action POST", Method::POST, "/counter/increment")];
    compare(plan, "provenance", "--no-provenance", &paths).await;
}

/// Each of `paths` on a server with `part` on, against one started with `off`.
async fn compare(plan: &Plan, part: &str, off: &str, paths: &[(&str, Method, &'static str)]) {
    let on_server = Server::spawn("labthings", &[]);
    let off_server = Server::spawn("labthings", &[off]);
    let client = http::Client::default();
    let round = plan.http_time / ROUNDS;
    for (label, method, path) in paths {
        let (mut ons, mut offs, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            let with = (client)
                .load(on_server.addr, method.clone(), path, "", 16, round)
                .await;
            let without = (client)
                .load(off_server.addr, method.clone(), path, "", 16, round)
                .await;
            ratios.push(with.per_second / without.per_second);
            ons.push(with);
            offs.push(without);
        }
        row(
            &format!("{label}, 16 connections, {part} on (ceiling: {part} off)"),
            http_cell(&http::HttpResult::merge(ons)),
            http_cell(&http::HttpResult::merge(offs)),
            median_ratio(ratios),
            &format!("≥ 0.95 × {part} off"),
        );
    }
}
