//! Interoperability: node-wot, the W3C Thingweb consumer, reads and writes properties,
//! subscribes to an event and observes a property of the example counter from its TD, over its
//! HTTP binding (Server-Sent Events forms) — `tests/node/nodewot_consumer.js`.
//! `LABTHINGS_NODE_MODULES` names a `node_modules` directory with `@node-wot/core` and `@node-
//! wot/binding-http` 0.9.2 (`./test.sh` installs them from `tests/node/package.json`). Compiled
//! only with the `interop` feature (`./test.sh` sets the parts up and turns it on); without the
//! part the test fails.

#![cfg(feature = "interop")]

#[path = "../examples/things/counter.rs"]
#[allow(dead_code)]
mod counter;
mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_wot_consumes_the_counter() {
    let modules = support::needs::node_modules(
        "the node-wot test",
        "@node-wot/core and @node-wot/binding-http",
    );
    let (addr, _shutdown) =
        support::start(labthings::ThingServer::new().thing("counter", counter::Counter::new()))
            .await;
    let stdout = support::node(
        modules,
        "nodewot_consumer.js",
        format!("http://{addr}/counter/"),
    )
    .await;
    assert!(stdout.contains("all checks passed"), "{stdout}");
}
