//! What the metrics cost: property GET and action POST at 16 connections with them on,
//! against the same server with them off, in alternating rounds.

use hyper::Method;

use crate::servers::Server;
use crate::{Plan, ROUNDS, http, http_cell, median_ratio, row};

/// The metrics' overhead on the hot paths.
pub(crate) async fn metrics(plan: &Plan) {
    let on = Server::spawn("labthings", &[]);
    let off = Server::spawn("labthings", &["--no-metrics"]);
    let client = http::Client::default();
    let round = plan.http_time / ROUNDS;
    for (label, method, path) in [
        ("property GET", Method::GET, "/counter/count"),
        ("action POST", Method::POST, "/counter/increment"),
    ] {
        let (mut ons, mut offs, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            let with = client
                .load(on.addr, method.clone(), path, "", 16, round)
                .await;
            let without = client
                .load(off.addr, method.clone(), path, "", 16, round)
                .await;
            ratios.push(with.per_second / without.per_second);
            ons.push(with);
            offs.push(without);
        }
        row(
            &format!("{label}, 16 connections, metrics on (ceiling: metrics off)"),
            http_cell(&http::HttpResult::merge(ons)),
            http_cell(&http::HttpResult::merge(offs)),
            median_ratio(ratios),
            "≥ 0.95 × metrics off",
        );
    }
}
