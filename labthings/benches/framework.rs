//! Micro-benchmarks of the framework's hot paths: TD generation, property dispatch through
//! the generated tables, broker fan-out, WebSocket message parsing and formatting.
//!
//! Run with `cargo bench -p labthings --bench framework`.

#![allow(missing_docs)]

#[path = "../../examples/things/counter.rs"]
#[allow(dead_code)]
mod counter;

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use labthings::__private::{Getter, Setter};
use labthings::internals::broker::{Mailbox, MailboxLimits, Topic};
use labthings::{TdOptions, Thing};
use serde_json::json;

fn td(c: &mut Criterion) {
    let options = TdOptions::new("", "counter").with_base("http://127.0.0.1:5000/");
    counter::Counter::table();
    c.bench_function("td/counter", |b| {
        b.iter(|| counter::Counter::thing_description(black_box(&options)))
    });
}

fn properties(c: &mut Criterion) {
    let thing = counter::Counter::new();
    let table = counter::Counter::table();
    c.bench_function("property/read count", |b| {
        b.iter(|| {
            let (_, entry) = table.property(black_box("count")).unwrap();
            let Some(Getter::Field(field)) = &entry.def.getter else {
                unreachable!()
            };
            field(&thing).read_json().unwrap()
        })
    });
    c.bench_function("property/write step (validated)", |b| {
        b.iter(|| {
            let (_, entry) = table.property(black_box("step")).unwrap();
            let value = json!(5);
            entry.validate(&value).unwrap();
            let Some(Setter::Field(field)) = &entry.def.setter else {
                unreachable!()
            };
            field(&thing).write_json(value).unwrap()
        })
    });
}

/// Several threads reading one property at once: the time per read, as seen by each thread.
/// Reads must not write shared memory, or this grows with the number of threads.
fn concurrent_reads(c: &mut Criterion) {
    let thing = Arc::new(counter::Counter::new());
    let mut group = c.benchmark_group("property/concurrent get");
    for threads in [1usize, 2] {
        group.bench_with_input(BenchmarkId::from_parameter(threads), &threads, |b, &n| {
            b.iter_custom(|iters| {
                let start = std::sync::Barrier::new(n);
                std::thread::scope(|scope| {
                    let handles: Vec<_> = (0..n)
                        .map(|_| {
                            scope.spawn(|| {
                                start.wait();
                                let t = std::time::Instant::now();
                                for _ in 0..iters {
                                    black_box(thing.count.get());
                                }
                                t.elapsed()
                            })
                        })
                        .collect();
                    let total: std::time::Duration =
                        handles.into_iter().map(|h| h.join().unwrap()).sum();
                    total / n as u32
                })
            })
        });
    }
    group.finish();
}

fn broker(c: &mut Criterion) {
    let mut group = c.benchmark_group("broker/publish and drain");
    for n in [1usize, 100, 10_000] {
        let topic = Topic::new();
        let mailboxes: Vec<_> = (0..n)
            .map(|_| {
                let m = Mailbox::new(MailboxLimits::default());
                topic.subscribe(&m, 0);
                m
            })
            .collect();
        let mut buf = Vec::new();
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                topic.publish_value("42");
                for m in &mailboxes {
                    buf.clear();
                    m.drain_into(&mut buf);
                }
            })
        });
    }
    group.finish();
    // One subscriber, the topic feeding a value history or not: what recording costs.
    let mut group = c.benchmark_group("broker/publish to one subscriber");
    let plain = Topic::new();
    #[cfg(feature = "history")]
    let recorded = labthings::internals::bench::topic_with_history();
    #[cfg(not(feature = "history"))]
    let recorded = Topic::new();
    for (name, topic) in [("plain", &plain), ("with value history", &recorded)] {
        let mailbox = Mailbox::new(MailboxLimits::default());
        topic.subscribe(&mailbox, 0);
        let mut buf = Vec::new();
        let mut n = 0u64;
        group.bench_function(name, |b| {
            b.iter(|| {
                n += 1;
                topic.publish_value(format!("{}.5", n % 1000));
                buf.clear();
                mailbox.drain_into(&mut buf);
            })
        });
    }
    group.finish();
}

fn websocket_messages(c: &mut Criterion) {
    use labthings::internals::bench;
    let labthings_msg =
        r#"{"messageType":"addPropertyObservation","data":{"count":true,"step":true}}"#;
    let wtp_msg = r#"{"thingID":"http://127.0.0.1:5000/counter/","messageID":"c1d2","messageType":"request","operation":"writeproperty","name":"step","value":5,"correlationID":"x"}"#;
    c.bench_function("ws/parse labthings", |b| {
        b.iter(|| bench::parse_ws_message(black_box(labthings_msg)).unwrap())
    });
    c.bench_function("ws/parse wtp", |b| {
        b.iter(|| bench::parse_ws_message(black_box(wtp_msg)).unwrap())
    });
    c.bench_function("ws/serialise labthings propertyStatus", |b| {
        b.iter(|| bench::labthings_property_status(black_box("\"count\""), black_box("12345")))
    });
    c.bench_function("ws/serialise wtp notification", |b| {
        b.iter(|| {
            bench::wtp_property_notification(
                black_box("\"http://127.0.0.1:5000/counter/\""),
                black_box("\"count\""),
                black_box("12345"),
            )
        })
    });
}

criterion_group!(
    benches,
    td,
    properties,
    concurrent_reads,
    broker,
    websocket_messages
);
criterion_main!(benches);
