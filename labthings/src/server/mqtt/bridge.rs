//! The bridge between the Things and the broker: a mailbox subscribed to every observable
//! property, event and action of the server, drained into the MQTT client (the WebSocket's
//! bounded, coalescing queue: device code never waits for the broker, and the latest value
//! of each property is always published); and the requests the broker delivers, answered as
//! HTTP answers them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use rumqttc::Outgoing;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Filter, Packet, Publish, PublishProperties, RetainForwardRule};
use rumqttc::v5::{AsyncClient, Event, MqttOptions};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::{Mqtt, Topics};
use crate::broker::{Delivery, Mailbox, MailboxLimits};
use crate::problem::Problem;
use crate::server::ServerState;
use crate::server::hosted::DynThing;

/// What a mailbox slot stands for.
#[derive(Clone, Copy)]
enum Target {
    Property(usize, usize),
    Event(usize, usize),
    Action(usize, usize),
}

/// A Thing as the bridge sees it.
struct Bridged {
    thing: Arc<dyn DynThing>,
    topics: Topics,
}

fn qos(level: u8) -> QoS {
    match level {
        0 => QoS::AtMostOnce,
        1 => QoS::AtLeastOnce,
        _ => QoS::ExactlyOnce,
    }
}

/// Run the binding until `stop` is cancelled.
pub(crate) async fn run(
    state: Arc<ServerState>,
    config: Mqtt,
    server_id: String,
    stop: CancellationToken,
) {
    let client_id = config
        .client_id
        .clone()
        .unwrap_or_else(|| format!("labthings-{server_id}-{}", std::process::id()));
    let mut options = MqttOptions::new(client_id, config.host.clone(), config.port);
    options.set_keep_alive(Duration::from_secs(30));
    // Requests as large as an HTTP body may be; the broker is told, and drops larger ones.
    let max_packet = u32::try_from(state.limits.max_body.saturating_add(1024)).unwrap_or(u32::MAX);
    options.set_max_packet_size(Some(max_packet));
    // Property values are small and must not wait for Nagle.
    let mut network = rumqttc::NetworkOptions::new();
    network.set_tcp_nodelay(true);
    options.set_network_options(network);
    if let Some((user, password)) = &config.credentials {
        options.set_credentials(user.clone(), password.clone());
    }
    if config.tls {
        match tls_config(&config) {
            Ok(tls) => {
                options.set_transport(rumqttc::Transport::tls_with_config(
                    rumqttc::TlsConfiguration::Rustls(Arc::new(tls)),
                ));
            }
            Err(error) => {
                tracing::error!(%error, "the MQTT binding cannot start");
                return;
            }
        }
    }
    let (client, mut eventloop) = AsyncClient::new(options, 1024);
    let things: Arc<Vec<Bridged>> = Arc::new(
        state
            .order
            .iter()
            .map(|name| Bridged {
                thing: state.things[name].thing.clone(),
                topics: Topics::new(&config.prefix, name),
            })
            .collect(),
    );
    let (connected_tx, connected) = tokio::sync::watch::channel(0u64);
    let level = qos(config.qos);
    let sender = Sender {
        client: client.clone(),
        limit: Arc::new(AtomicU32::new(0)),
        level,
    };
    let connack_limit = sender.limit.clone();

    // The connection: reconnects on its own when polled after an error. It is stopped after
    // the publisher has sent what was pending and disconnected.
    let requests = config.requests;
    let (req_state, req_sender, req_things) = (state.clone(), sender.clone(), things.clone());
    let prefix = config.prefix.clone();
    let connection_stop = CancellationToken::new();
    let stop_connection = connection_stop.clone();
    // Requests answered at once; more are refused (503) until some are done.
    let answering = Arc::new(tokio::sync::Semaphore::new(MAX_REQUESTS));
    let answered = answering.clone();
    // Shutdown begins (HTTP drains meanwhile; the binding stops after it): no new requests.
    let shutting_down = state.invocations.shutdown.clone();
    let (stopping, stopped) = (shutting_down.clone(), stop.clone());
    let connection = tokio::spawn(async move {
        let mut away_since: Option<std::time::Instant> = None;
        loop {
            let event = tokio::select! {
                () = connection_stop.cancelled() => return,
                event = eventloop.poll() => event,
            };
            match event {
                Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                    let max = ack.properties.as_ref().and_then(|p| p.max_packet_size);
                    connack_limit.store(max.unwrap_or(0), Ordering::Relaxed);
                    if let Some(since) = away_since.take() {
                        tracing::info!(after = ?since.elapsed(), "the MQTT broker is back");
                    }
                    // Never awaited here: the requests' queue may be full of publications
                    // that only this loop, polling, can send. The publisher is told of the
                    // connection only once the subscriptions are queued, so that they reach
                    // the broker before the current values do: a client that has seen a
                    // value knows that its requests are heard.
                    if requests {
                        let (client, things) = (req_sender.client.clone(), req_things.clone());
                        let connected_tx = connected_tx.clone();
                        tokio::spawn(async move {
                            // Not its own messages (a reply must never be taken for a
                            // request), and no retained request is ever carried out.
                            let filters = things.iter().flat_map(|b| b.topics.request_filters());
                            let filters = filters.map(|path| Filter {
                                nolocal: true,
                                retain_forward_rule: RetainForwardRule::Never,
                                ..Filter::new(path, level)
                            });
                            let _ = client.subscribe_many(filters.collect::<Vec<_>>()).await;
                            connected_tx.send_modify(|n| *n += 1);
                        });
                    } else {
                        connected_tx.send_modify(|n| *n += 1);
                    }
                }
                Ok(Event::Incoming(Packet::Publish(publish))) if requests && !publish.retain => {
                    let (state, sender, things) =
                        (req_state.clone(), req_sender.clone(), req_things.clone());
                    let (prefix, permit) = (prefix.clone(), answering.clone().try_acquire_owned());
                    let refusal = if stopping.is_cancelled() || stopped.is_cancelled() {
                        Some(Problem::new(503, "the server is shutting down"))
                    } else if permit.is_err() {
                        Some(Problem::new(
                            503,
                            format!(
                                "the server is carrying out {MAX_REQUESTS} MQTT requests already: try again"
                            ),
                        ))
                    } else {
                        None
                    };
                    tokio::spawn(async move {
                        let _permit = permit.as_ref().ok();
                        answer(&state, &sender, &things, &prefix, publish, refusal).await;
                    });
                }
                Ok(Event::Outgoing(Outgoing::Disconnect)) => return,
                Ok(_) => {}
                Err(error) => {
                    if away_since.is_none() {
                        tracing::warn!(%error, "the MQTT broker cannot be reached: retrying every second");
                        away_since = Some(std::time::Instant::now());
                    }
                    tokio::select! {
                        () = connection_stop.cancelled() => return,
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
        }
    });

    // On shutdown, the requests being carried out are answered (within the shutdown
    // deadline; new ones are refused meanwhile) and what they changed is published before
    // the publisher stops.
    let publishing = CancellationToken::new();
    let answers = async {
        tokio::select! {
            () = shutting_down.cancelled() => {}
            () = stop.cancelled() => {}
        }
        let all = u32::try_from(MAX_REQUESTS).unwrap_or(u32::MAX);
        let deadline = state.limits.shutdown_deadline;
        if tokio::time::timeout(deadline, answered.acquire_many(all))
            .await
            .is_err()
        {
            tracing::warn!("MQTT requests were still being carried out at the shutdown deadline");
        }
        stop.cancelled().await;
        publishing.cancel();
    };
    tokio::join!(
        publish_changes(&things, &sender, connected, &config, &publishing),
        answers
    );
    // What was pending is queued: disconnect once it is sent (or give up after 2 s).
    let _ = tokio::time::timeout(Duration::from_millis(500), client.disconnect()).await;
    if tokio::time::timeout(Duration::from_secs(2), connection)
        .await
        .is_err()
    {
        stop_connection.cancel();
    }
}

/// Requests carried out at once; more are refused with 503 until some are done.
const MAX_REQUESTS: usize = 64;

/// Publish every change of the Things until `stop`; after each (re)connection, republish
/// the current value of every observable property (retained).
async fn publish_changes(
    things: &[Bridged],
    sender: &Sender,
    mut connected: tokio::sync::watch::Receiver<u64>,
    config: &Mqtt,
    stop: &CancellationToken,
) {
    loop {
        let mailbox = Mailbox::new(MailboxLimits {
            queue: config.queue,
            ..MailboxLimits::default()
        });
        let targets = subscribe(things, &mailbox);
        let mut batch = Vec::new();
        loop {
            tokio::select! {
                biased;
                () = stop.cancelled() => {
                    // The last changes (e.g. the statuses of cancelled invocations) go out.
                    unsubscribe(things, &mailbox, &targets);
                    let _ = mailbox.drain_into(&mut batch);
                    let last = async {
                        for delivery in batch.drain(..) {
                            if let Some(publication) = message(things, &targets, delivery) {
                                publish(sender, things, publication).await;
                            }
                        }
                    };
                    let _ = tokio::time::timeout(Duration::from_millis(500), last).await;
                    return;
                }
                changed = connected.changed() => {
                    if changed.is_err() {
                        unsubscribe(things, &mailbox, &targets);
                        return;
                    }
                    current_values(things, &mailbox, &targets);
                }
                open = mailbox.recv_many(&mut batch) => {
                    if !open {
                        break;
                    }
                    for delivery in batch.drain(..) {
                        let Some(publication) = message(things, &targets, delivery) else {
                            continue;
                        };
                        tokio::select! {
                            () = stop.cancelled() => return,
                            () = publish(sender, things, publication) => {}
                        }
                    }
                }
            }
        }
        // The broker was away so long that events overflowed the queue: they are lost (the
        // properties' latest values are not), and publishing starts afresh.
        unsubscribe(things, &mailbox, &targets);
        tracing::error!(
            "events and action statuses were dropped while the MQTT broker could not take them"
        );
        current_values_later(&mut connected);
    }
}

/// Make the next round republish current values, as after a connection.
fn current_values_later(connected: &mut tokio::sync::watch::Receiver<u64>) {
    connected.mark_changed();
}

/// Subscribe `mailbox` to every observable property, event and action; the slots' targets.
fn subscribe(things: &[Bridged], mailbox: &Arc<Mailbox>) -> Vec<Target> {
    let mut targets = Vec::new();
    for (t, bridged) in things.iter().enumerate() {
        let thing = &bridged.thing;
        for i in 0..thing.property_count() {
            if thing.observable(i) {
                let slot = targets.len() as u32;
                targets.push(Target::Property(t, i));
                thing.observe(i, mailbox, slot, false, None);
            }
        }
        for i in 0..thing.event_count() {
            let slot = targets.len() as u32;
            targets.push(Target::Event(t, i));
            thing.event_topic(i).subscribe(mailbox, slot);
        }
        for i in 0..thing.action_count() {
            let slot = targets.len() as u32;
            targets.push(Target::Action(t, i));
            thing.action_topic(i).subscribe(mailbox, slot);
        }
    }
    targets
}

fn unsubscribe(things: &[Bridged], mailbox: &Arc<Mailbox>, targets: &[Target]) {
    for target in targets {
        match *target {
            Target::Property(t, i) => things[t].thing.unobserve(i, mailbox),
            Target::Event(t, i) => {
                things[t].thing.event_topic(i).unsubscribe(mailbox);
            }
            Target::Action(t, i) => {
                things[t].thing.action_topic(i).unsubscribe(mailbox);
            }
        }
    }
    mailbox.close();
}

/// Queue the current value of every observable property, in order with its changes (a
/// fresh observation starts with the current value, race-free).
fn current_values(things: &[Bridged], mailbox: &Arc<Mailbox>, targets: &[Target]) {
    for (slot, target) in targets.iter().enumerate() {
        if let Target::Property(t, i) = *target {
            let thing = &things[t].thing;
            thing.unobserve(i, mailbox);
            thing.observe(i, mailbox, slot as u32, true, None);
        }
    }
}

/// A publication of the bridge.
struct Publication {
    topic: String,
    payload: Bytes,
    retain: bool,
    /// The Thing it is of.
    thing: usize,
    /// What it is, for a report: "property 'x'", "event 'y'", "action 'z'".
    what: String,
}

/// The publication of a delivery.
fn message(things: &[Bridged], targets: &[Target], delivery: Delivery) -> Option<Publication> {
    let (slot, note) = match delivery {
        Delivery::Property(slot, note) => (slot, note),
        Delivery::Event(slot, note) => (slot, note),
        Delivery::Message(_) => return None,
    };
    let payload = Bytes::copy_from_slice(note.json.as_bytes());
    let (thing, topic, retain, what) = match *targets.get(slot as usize)? {
        Target::Property(t, i) => {
            let name = things[t].thing.property_name(i);
            (
                t,
                things[t].topics.property(name),
                true,
                format!("property '{name}'"),
            )
        }
        Target::Event(t, i) => {
            let name = things[t].thing.event_name(i);
            (
                t,
                things[t].topics.event(name),
                false,
                format!("event '{name}'"),
            )
        }
        Target::Action(t, i) => {
            let name = things[t].thing.action_name(i);
            let status: Value = serde_json::from_str(&note.json).ok()?;
            let id = status.get("id")?.as_str()?;
            let topic = things[t].topics.invocation(name, id);
            (t, topic, false, format!("action '{name}'"))
        }
    };
    Some(Publication {
        topic,
        payload,
        retain,
        thing,
        what,
    })
}

/// The MQTT client, with what bounds its packets.
#[derive(Clone)]
struct Sender {
    client: AsyncClient,
    /// The largest packet the broker takes (0: it set none), from its latest ConnAck.
    limit: Arc<AtomicU32>,
    level: QoS,
}

impl Sender {
    /// Publish, unless the packet would be larger than the broker takes: a client must not
    /// send one, and rumqttc drops the connection over it (and, for a retained value,
    /// again after every reconnection). Then its size and the broker's limit are returned.
    async fn send(
        &self,
        topic: String,
        retain: bool,
        payload: Bytes,
        properties: Option<PublishProperties>,
    ) -> Result<(), (usize, usize)> {
        let max = self.limit.load(Ordering::Relaxed) as usize;
        let mut packet = Publish::new(
            topic.as_str(),
            self.level,
            payload.clone(),
            properties.clone(),
        );
        if self.level != QoS::AtMostOnce {
            packet.pkid = 1; // counted in the size
        }
        let size = packet.size();
        if max != 0 && size > max {
            return Err((size, max));
        }
        let _ = match properties {
            Some(properties) => {
                self.client
                    .publish_with_properties(topic, self.level, retain, payload, properties)
                    .await
            }
            None => {
                self.client
                    .publish(topic, self.level, retain, payload)
                    .await
            }
        };
        Ok(())
    }

    /// Publish `problem` on a Thing's `errors` topic, naming the `topic` it is about; when
    /// that is larger than the broker takes, a shorter report without the details.
    async fn report(&self, errors: String, problem: Problem, topic: &str) {
        let mut report = serde_json::to_value(&problem).unwrap_or_default();
        report["topic"] = topic.into();
        let full = self.send(errors.clone(), false, report.to_string().into(), None);
        if full.await.is_ok() {
            return;
        }
        tracing::warn!(topic, "{}", problem.detail);
        let short = Problem::new(
            problem.status,
            "these problem details are larger than the broker takes: the server's log has them",
        );
        let short = serde_json::to_string(&short).unwrap_or_default();
        let _ = self.send(errors, false, short.into(), None).await;
    }
}

/// Publish `publication`; one larger than the broker takes is left out, and the Thing's
/// `errors` topic says so.
async fn publish(sender: &Sender, things: &[Bridged], publication: Publication) {
    let Publication {
        topic,
        payload,
        retain,
        thing,
        what,
    } = publication;
    let Err((size, max)) = sender.send(topic.clone(), retain, payload, None).await else {
        return;
    };
    let detail = format!(
        "the {what} was not published to '{topic}': as an MQTT packet it is {size} bytes, and the broker takes {max} at most"
    );
    tracing::error!("{detail}");
    let errors = things[thing].topics.errors();
    sender
        .report(errors, Problem::new(413, detail), &topic)
        .await;
}

/// Answer one request: validated and carried out as over HTTP; the answer goes to the
/// request's response topic, and a refusal without one to the Thing's `errors` topic.
async fn answer(
    state: &ServerState,
    sender: &Sender,
    things: &[Bridged],
    prefix: &str,
    publish: Publish,
    refusal: Option<Problem>,
) {
    let topic = String::from_utf8_lossy(&publish.topic).into_owned();
    let Some((bridged, (write, name))) = things
        .iter()
        .find_map(|b| b.topics.parse_request(&topic).map(|r| (b, r)))
    else {
        return;
    };
    let mut properties = publish.properties.unwrap_or_default();
    // An empty topic is none (a PUBLISH to it would be a protocol error).
    properties.response_topic = properties.response_topic.filter(|t| !t.is_empty());
    // A reply is published with the server's rights: never into its own topics (where it
    // would pass for a value, or a request), nor the broker's (`$…`).
    let forbidden = properties
        .response_topic
        .as_deref()
        .filter(|t| t.starts_with('$') || *t == prefix || t.starts_with(&format!("{prefix}/")));
    let result = if let Some(reply_to) = forbidden {
        let problem = Problem::new(
            403,
            format!(
                "the response topic '{reply_to}' is refused: it is one of the server's own topics, or the broker's"
            ),
        );
        properties.response_topic = None;
        Err(problem)
    } else if let Some(problem) = refusal {
        Err(problem)
    } else {
        carry_out(state, &*bridged.thing, write, name, &publish.payload).await
    };
    let (payload, content_type) = match &result {
        Ok(value) => (value.to_string(), "application/json"),
        Err(problem) => (
            serde_json::to_string(problem).unwrap_or_default(),
            "application/problem+json",
        ),
    };
    if let Some(response_topic) = properties.response_topic {
        let reply = |content_type: &str| PublishProperties {
            correlation_data: properties.correlation_data.clone(),
            content_type: Some(content_type.to_owned()),
            ..Default::default()
        };
        let answered = sender.send(
            response_topic.clone(),
            false,
            payload.into(),
            Some(reply(content_type)),
        );
        if let Err((size, max)) = answered.await {
            let problem = Problem::new(
                413,
                format!(
                    "the answer is {size} bytes as an MQTT packet, and the broker takes {max} at most"
                ),
            );
            let problem = serde_json::to_string(&problem).unwrap_or_default();
            let properties = Some(reply("application/problem+json"));
            let refused = sender.send(response_topic, false, problem.into(), properties);
            if refused.await.is_err() {
                tracing::warn!(
                    topic,
                    "an answer was too large for the broker, even as a 413"
                );
            }
        }
    } else if let Err(problem) = result {
        sender
            .report(bridged.topics.errors(), problem, &topic)
            .await;
    }
}

/// Validate and carry out a write (answered `null`) or an invocation (answered its
/// status).
async fn carry_out(
    state: &ServerState,
    thing: &dyn DynThing,
    write: bool,
    name: &str,
    payload: &[u8],
) -> Result<Value, Problem> {
    let value = if payload.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        Some(
            serde_json::from_slice::<Value>(payload)
                .map_err(|e| Problem::bad_request(format!("the message is not valid JSON: {e}")))?,
        )
    };
    let thing_name = thing.name().clone();
    if write {
        let Some(crate::table::Affordance::Property(i)) = thing.lookup(name) else {
            return Err(Problem::not_found(format!(
                "No property found with the name '{name}'."
            )));
        };
        if !thing.writable(i) {
            return Err(Problem::new(
                405,
                format!("property '{name}' of '{thing_name}' is read-only"),
            ));
        }
        let value = value.ok_or_else(|| {
            Problem::bad_request(format!(
                "the message must be the new value of property '{name}' as JSON"
            ))
        })?;
        thing.write(i, value).resolve(&state.device).await?;
        return Ok(Value::Null);
    }
    let Some(crate::table::Affordance::Action(i)) = thing.lookup(name) else {
        return Err(Problem::not_found(format!(
            "No action found with the name '{name}'."
        )));
    };
    let input = thing.validate_input(i, value.unwrap_or(Value::Null))?;
    let entry = &state.things[&*thing_name];
    let invocation = state.invocations.start(entry.thing.clone(), i, input)?;
    Ok(invocation.action_status())
}

/// The rustls configuration of an `mqtts://` broker: it trusts the root certificates given.
fn tls_config(config: &Mqtt) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in config.roots.iter().cloned() {
        roots
            .add(cert)
            .map_err(|e| format!("a root certificate is not usable: {e}"))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
