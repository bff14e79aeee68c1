//! One property change fanned out to many subscribers: through a Mosquitto broker (the MQTT
//! binding), beside the same fan-out over the labthings WebSocket, in the same run.

use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};

use crate::mosquitto::{self, Broker};
use crate::servers::Server;
use crate::ws::{self, FanOut, Target};

const TOPIC: &str = "lab/counter/properties/step";

/// `subscribers` MQTT subscribers of `step` (QoS 1); `writes` writes `gap` apart over HTTP;
/// latency from each write to each delivery.
async fn fan_out(
    broker: u16,
    target: Target,
    subscribers: usize,
    writes: i64,
    gap: Duration,
) -> FanOut {
    let mut readers = Vec::with_capacity(subscribers);
    let mut ready = Vec::with_capacity(subscribers);
    let run = uuid_like();
    for i in 0..subscribers {
        let mut options = MqttOptions::new(format!("sub-{run}-{i}"), "127.0.0.1", broker);
        options.set_keep_alive(Duration::from_secs(60));
        let (client, mut eventloop) = AsyncClient::new(options, 10);
        let mut network = rumqttc::NetworkOptions::new();
        network.set_tcp_nodelay(true);
        eventloop.set_network_options(network);
        let (subscribed, is_subscribed) = tokio::sync::oneshot::channel();
        ready.push(is_subscribed);
        readers.push(tokio::spawn(async move {
            let mut subscribed = Some(subscribed);
            let mut seen = Vec::new();
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        client.subscribe(TOPIC, QoS::AtLeastOnce).await.unwrap();
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        if let Some(s) = subscribed.take() {
                            let _ = s.send(());
                        }
                    }
                    // The retained value on subscribing is not a change.
                    Ok(Event::Incoming(Packet::Publish(p))) if !p.retain => {
                        let v: i64 = std::str::from_utf8(&p.payload)
                            .ok()
                            .and_then(|s| s.parse().ok())
                            .unwrap_or(-1);
                        seen.push((v, Instant::now()));
                        if v == writes {
                            let _ = client.disconnect().await;
                            return seen;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => return seen,
                }
            }
        }));
    }
    for r in ready {
        r.await.expect("every subscriber subscribes");
    }
    let mut times = vec![None; writes as usize + 1];
    for value in 1..=writes {
        times[value as usize] = Some(Instant::now());
        target.write(value).await;
        tokio::time::sleep(gap).await;
    }
    let mut seen = Vec::with_capacity(subscribers);
    for reader in readers {
        seen.push(
            match tokio::time::timeout(Duration::from_secs(30), reader).await {
                Ok(seen) => seen.unwrap(),
                Err(_) => Vec::new(),
            },
        );
    }
    FanOut::tally(seen, &times, writes)
}

fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

fn cell(f: &FanOut) -> String {
    format!(
        "{}, missed {}{}",
        f.latencies.p50_p99_max(),
        f.missed,
        if f.all_saw_final {
            ""
        } else {
            ", not all saw the final value"
        }
    )
}

/// Print the table: for each number of subscribers, MQTT through Mosquitto and the
/// WebSocket, from the same server.
pub(crate) async fn report(subscribers: &[usize], writes: i64) {
    let program = mosquitto::program().expect("mosquitto is installed (Debian `mosquitto`)");
    let broker = Broker::start(
        &program,
        None,
        "max_connections -1\nmax_queued_messages 10000\nset_tcp_nodelay true\n",
    )
    .await;
    let url = format!("mqtt://127.0.0.1:{}", broker.port);
    let mut server = Server::spawn("labthings", &["--mqtt", &url]);
    let target = Target::Labthings(server.addr);
    // The binding has connected once a change comes through (`step` starts at 1).
    let probe = fan_out(broker.port, target, 1, 2, Duration::from_millis(1)).await;
    assert!(probe.all_saw_final, "the MQTT binding publishes");
    let gap = Duration::from_millis(20);
    println!(
        "\n## Fan-out: one change to many subscribers, {writes} writes of `step` 20 ms apart (latency p50 / p99 / max)\n"
    );
    println!("| subscribers | MQTT through Mosquitto (QoS 1) | WebSocket (Web Thing Protocol) |");
    println!("| ---: | --- | --- |");
    for &n in subscribers {
        let mqtt = fan_out(broker.port, target, n, writes, gap).await;
        let ws = ws::fan_out(target, n, writes, gap).await;
        println!("| {n} | {} | {} |", cell(&mqtt), cell(&ws));
    }
    let _ = server.child.kill();
    let _ = server.child.wait();
    drop(broker);
}
