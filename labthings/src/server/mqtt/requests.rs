//! The requests the broker delivers — writes and invocations — carried out on the
//! interaction interface, and answered on the request's response topic (or, for a refusal
//! without one, on the Thing's `errors` topic).

use bytes::Bytes;
use rumqttc::v5::mqttbytes::v5::{Publish, PublishProperties};
use serde_json::Value;

use super::publisher::Bridged;
use super::sender::{Sender, TooLarge};
use crate::interaction::wire::{ActionStatus, Urls};
use crate::interaction::{Caller, ThingRef, Things};
use crate::problem::{Problem, refusals};

/// What answering a request needs.
pub(super) struct Answering<'a> {
    pub(super) things: &'a Things,
    pub(super) bridged: &'a [Bridged],
    pub(super) sender: &'a Sender,
    /// The binding's topic prefix: replies never go to its topics.
    pub(super) topic_prefix: &'a str,
    /// The API prefix, for the paths in statuses.
    pub(super) api_prefix: &'a str,
}

impl Answering<'_> {
    /// Answer one request: validated and carried out as over HTTP, unless `refusal` says
    /// why not.
    pub(super) async fn answer(&self, publish: Publish, refusal: Option<Problem>) {
        let topic = String::from_utf8_lossy(&publish.topic).into_owned();
        let Some((bridged, (write, name))) =
            (self.bridged.iter()).find_map(|b| b.topics.parse_request(&topic).map(|r| (b, r)))
        else {
            return;
        };
        let mut properties = publish.properties.unwrap_or_default();
        // An empty topic is none (a PUBLISH to it would be a protocol error).
        properties.response_topic = properties.response_topic.filter(|t| !t.is_empty());
        let forbidden = properties
            .response_topic
            .as_deref()
            .is_some_and(|t| self.forbidden(t));
        let result = if forbidden {
            let reply_to = properties.response_topic.take().unwrap_or_default();
            Err(Problem::new(
                403,
                format!(
                    "the response topic '{reply_to}' is refused: it is one of the server's own topics, or the broker's"
                ),
            ))
        } else if let Some(problem) = refusal {
            Err(problem)
        } else {
            let thing = self.things.at(bridged.index);
            self.carry_out(thing, write, name, &publish.payload).await
        };
        match properties.response_topic.clone() {
            Some(response_topic) => self.reply(response_topic, &properties, result).await,
            None => {
                if let Err(problem) = result {
                    let errors = bridged.topics.errors();
                    self.sender.report(errors, problem, &topic).await;
                }
            }
        }
    }

    /// A reply is published with the server's rights: never into its own topics (where it
    /// would pass for a value, or a request), nor the broker's (`$…`).
    fn forbidden(&self, topic: &str) -> bool {
        let prefix = self.topic_prefix;
        topic.starts_with('$')
            || topic == prefix
            || topic
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with('/'))
    }

    /// Publish the answer on the response topic, with the request's correlation data; one
    /// too large for the broker becomes a 413.
    async fn reply(
        &self,
        response_topic: String,
        request: &PublishProperties,
        result: Result<Value, Problem>,
    ) {
        let (payload, content_type) = match &result {
            Ok(value) => (value.to_string(), "application/json"),
            Err(problem) => (
                serde_json::to_string(problem).unwrap_or_default(),
                "application/problem+json",
            ),
        };
        let reply = |content_type: &str| PublishProperties {
            correlation_data: request.correlation_data.clone(),
            content_type: Some(content_type.to_owned()),
            ..Default::default()
        };
        let answered = self.sender.send(
            response_topic.clone(),
            false,
            Bytes::from(payload),
            Some(reply(content_type)),
        );
        let Err(TooLarge { size, limit }) = answered.await else {
            return;
        };
        let problem = Problem::new(
            413,
            format!(
                "the answer is {size} bytes as an MQTT packet, and the broker takes {limit} at most"
            ),
        );
        let problem = serde_json::to_string(&problem).unwrap_or_default();
        let properties = Some(reply("application/problem+json"));
        let refused = self
            .sender
            .send(response_topic, false, problem.into(), properties);
        if refused.await.is_err() {
            tracing::warn!("an MQTT answer was too large for the broker, even as a 413");
        }
    }

    /// Carry out a write (answered `null`) or an invocation (answered its status).
    async fn carry_out(
        &self,
        thing: ThingRef<'_>,
        write: bool,
        name: &str,
        payload: &[u8],
    ) -> Result<Value, Problem> {
        let value = if payload.iter().all(u8::is_ascii_whitespace) {
            None
        } else {
            let parsed = serde_json::from_slice::<Value>(payload);
            Some(parsed.map_err(|e| refusals::bad_json("message", &e))?)
        };
        if write {
            let property = thing.property(name)?;
            property.writable()?;
            let value = value.ok_or_else(|| refusals::no_value(name))?;
            property.write(Caller::TRUSTED, value).await?;
            return Ok(Value::Null);
        }
        let action = thing.action(name)?;
        let input = value.unwrap_or(Value::Null);
        let invocation = action.invoke(Caller::TRUSTED, input, |_| {}).await?;
        let urls = Urls {
            origin: "",
            prefix: self.api_prefix,
        };
        let snapshot = invocation.snapshot();
        serde_json::to_value(ActionStatus::new(&snapshot, urls, None))
            .map_err(|e| Problem::internal(e.to_string()))
    }
}
