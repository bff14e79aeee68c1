//! The metrics of each route, found without hashing or locking: one slot per Thing,
//! affordance and method, filled on its first request (so that a route never requested adds
//! no series).

use std::sync::OnceLock;
use std::time::Duration;

use axum::extract::Request;
use prometheus_client::metrics::counter::Counter;

use super::Metrics;
use super::histogram::Timings;
use super::labels::{Answered, Name, Route};
use crate::interaction::Things;

/// The methods counted apart; any other is `other`.
const METHODS: [&str; 7] = ["GET", "PUT", "POST", "DELETE", "HEAD", "OPTIONS", "other"];

/// The statuses whose counters a slot keeps at hand; others are found in the family.
const STATUSES: [u16; 22] = [
    200, 201, 202, 204, 301, 302, 304, 307, 308, 400, 401, 403, 404, 405, 406, 409, 413, 415, 421,
    422, 500, 503,
];

/// What a request addresses: its slot, and what its labels are made of.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Place {
    slot: usize,
    thing: Option<usize>,
    affordance: &'static str,
    method: usize,
}

/// The metrics of one route.
#[derive(Debug)]
struct Handles {
    route: Route,
    latency: Timings,
    statuses: [OnceLock<Counter>; STATUSES.len()],
}

/// Every route's slot.
#[derive(Debug)]
pub(crate) struct Routes {
    /// Where each Thing's slots start; the slots of paths that name no Thing follow.
    starts: Vec<usize>,
    names: Vec<Name>,
    nobody: Name,
    slots: Box<[OnceLock<Handles>]>,
}

impl Routes {
    /// A slot for each method of each affordance of `things`, of each Thing itself (a path
    /// that names no affordance of it), and of paths that name no Thing.
    pub(crate) fn new(things: &Things) -> Self {
        let mut starts = Vec::with_capacity(things.iter().len());
        let mut names = Vec::with_capacity(starts.capacity());
        let mut total = 0;
        for thing in things.iter() {
            starts.push(total);
            names.push(Name(thing.name().clone()));
            total += (1 + thing.affordance_count()) * METHODS.len();
        }
        let slots = (0..total + METHODS.len())
            .map(|_| OnceLock::new())
            .collect();
        Self {
            starts,
            names,
            nobody: Name(std::sync::Arc::from("")),
            slots,
        }
    }

    /// The place of `request`: the Thing named by its path's first part (under `prefix`),
    /// and that Thing's affordance named by the second, when they exist.
    pub(crate) fn place(&self, things: &Things, prefix: &str, request: &Request) -> Place {
        let method = match *request.method() {
            http::Method::GET => 0,
            http::Method::PUT => 1,
            http::Method::POST => 2,
            http::Method::DELETE => 3,
            http::Method::HEAD => 4,
            http::Method::OPTIONS => 5,
            _ => 6,
        };
        let under = request.uri().path().strip_prefix(prefix);
        let mut parts = under.unwrap_or_default().trim_start_matches('/').split('/');
        let Some(thing) = parts.next().and_then(|name| things.find(name)) else {
            let slot = self.slots.len() - METHODS.len() + method;
            return Place {
                slot,
                thing: None,
                affordance: "",
                method,
            };
        };
        let place = parts.next().and_then(|name| thing.affordance_place(name));
        let (row, affordance) = place.map_or((0, ""), |(i, name)| (i + 1, name));
        Place {
            slot: self.starts[thing.index()] + row * METHODS.len() + method,
            thing: Some(thing.index()),
            affordance,
            method,
        }
    }

    /// The request at `place` was answered with `status` in `took`.
    pub(crate) fn record(&self, metrics: &Metrics, place: Place, status: u16, took: Duration) {
        let handles = self.slots[place.slot].get_or_init(|| {
            let route = Route {
                thing: place.thing.map_or(&self.nobody, |i| &self.names[i]).clone(),
                affordance: place.affordance,
                method: METHODS[place.method],
            };
            Handles {
                latency: metrics.latency.get_or_create(&route).clone(),
                statuses: Default::default(),
                route,
            }
        });
        handles.latency.observe(took);
        let answered = || {
            let Route {
                thing,
                affordance,
                method,
            } = handles.route.clone();
            Answered {
                thing,
                affordance,
                method,
                status,
            }
        };
        match STATUSES.iter().position(|s| *s == status) {
            Some(i) => handles.statuses[i]
                .get_or_init(|| metrics.requests.get_or_create(&answered()).clone())
                .inc(),
            None => metrics.requests.get_or_create(&answered()).inc(),
        };
    }
}
