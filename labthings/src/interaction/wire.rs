//! The wire shapes of an invocation, each a `Serialize` view of one [`Snapshot`]:
//!
//! - [`Summary`]: an entry of a listing (LabThings-FastAPI's `InvocationModel` without its
//!   details);
//! - [`Record`]: the whole invocation, as `GET /action_invocations/{id}` and the answer to
//!   `POST` give it;
//! - [`ActionStatus`]: the Web Thing Protocol's `ActionStatus` object;
//! - [`StatusEvent`]: the `data` of a LabThings `actionStatus` message, also the payload of
//!   an invocation's MQTT topic.
//!
//! URLs are made absolute for the client that reads them: `origin` is the server root as the
//! client addressed it (`http://host:port`), or empty for paths.

use std::time::SystemTime;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::model::context::LogRecord;
use crate::problem::Problem;
use crate::runtime::invocations::{Snapshot, Status};

/// Where a client reads an invocation from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Urls<'a> {
    /// The server root as the client addressed it (`http://host:port`), or `""` for paths.
    pub(crate) origin: &'a str,
    /// The API prefix (empty, or starting with `/`).
    pub(crate) prefix: &'a str,
}

impl Urls<'_> {
    /// `{origin}{prefix}/action_invocations/{id}`.
    pub(crate) fn invocation(&self, snapshot: &Snapshot) -> String {
        format!(
            "{}{}/action_invocations/{}",
            self.origin, self.prefix, snapshot.id
        )
    }
}

/// An RFC 3339 time (UTC, microseconds), as LabThings-FastAPI writes them.
struct Time(SystemTime);

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&humantime::format_rfc3339_micros(self.0))
    }
}

fn time(t: Option<SystemTime>) -> Option<Time> {
    t.map(Time)
}

/// The output of an invocation, its blob links made absolute for the client.
pub(crate) struct Output<'a> {
    raw: &'a RawValue,
    links_blobs: bool,
    urls: Urls<'a>,
}

impl Serialize for Output<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if !self.links_blobs || self.urls.origin.is_empty() {
            return self.raw.serialize(serializer);
        }
        let mut value: Value =
            serde_json::from_str(self.raw.get()).map_err(serde::ser::Error::custom)?;
        absolute_links(&mut value, self.urls);
        value.serialize(serializer)
    }
}

/// Make the blob links of a value absolute (`origin` + their path).
fn absolute_links(value: &mut Value, urls: Urls<'_>) {
    match value {
        Value::Object(map) => {
            let is_link = map.contains_key("media_type")
                && map.get("rel").and_then(Value::as_str) == Some("output");
            if is_link
                && let Some(Value::String(href)) = map.get_mut("href")
                && href.starts_with(&format!("{}/blob/", urls.prefix))
            {
                *href = format!("{}{href}", urls.origin);
            }
            map.values_mut().for_each(|v| absolute_links(v, urls));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| absolute_links(v, urls)),
        _ => {}
    }
}

/// The output of `snapshot`, once completed, as `urls` makes it absolute.
pub(crate) fn output<'a>(snapshot: &'a Snapshot, urls: Urls<'a>) -> Option<Output<'a>> {
    snapshot.output.as_deref().map(|raw| Output {
        raw,
        links_blobs: snapshot.links_blobs,
        urls,
    })
}

/// The `links` of a summary.
struct Links<'a>(&'a str);

impl Serialize for Links<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Link<'a> {
            href: &'a str,
            rel: &'static str,
            #[serde(rename = "type")]
            kind: &'static str,
        }
        let output = format!("{}/output", self.0);
        let mut seq = serializer.serialize_seq(Some(2))?;
        seq.serialize_element(&Link {
            href: self.0,
            rel: "self",
            kind: "application/json",
        })?;
        seq.serialize_element(&Link {
            href: &output,
            rel: "output",
            kind: "application/json",
        })?;
        seq.end()
    }
}

/// An entry of an invocation listing.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Summary<'a> {
    status: Status,
    id: String,
    /// `{prefix}/{thing}/{action}`
    action: String,
    href: String,
    time_started: Option<Time>,
    time_requested: Time,
    time_completed: Option<Time>,
    links: Links<'a>,
}

impl<'a> Summary<'a> {
    /// The summary of `snapshot`; `href` is [`Urls::invocation`] of it.
    pub(crate) fn new(snapshot: &Snapshot, href: &'a str, urls: Urls<'_>) -> Self {
        Self {
            status: snapshot.status,
            id: snapshot.id.to_string(),
            action: format!("{}/{}/{}", urls.prefix, snapshot.thing, snapshot.action),
            href: href.to_owned(),
            time_started: time(snapshot.time_started),
            time_requested: Time(snapshot.time_requested),
            time_completed: time(snapshot.time_completed),
            links: Links(href),
        }
    }
}

/// A whole invocation.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Record<'a> {
    #[serde(flatten)]
    summary: Summary<'a>,
    input: &'a Value,
    output: Option<Output<'a>>,
    log: &'a [LogRecord],
    error: &'a Option<Problem>,
    progress: &'a Option<Value>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    cancel_requested: bool,
    /// Its place among those waiting for its Thing (1: next), while it waits.
    #[serde(skip_serializing_if = "Option::is_none")]
    position: Option<usize>,
}

impl<'a> Record<'a> {
    /// The record of `snapshot`, with its `input` and `log`.
    pub(crate) fn new(
        snapshot: &'a Snapshot,
        href: &'a str,
        urls: Urls<'a>,
        input: &'a Value,
        log: &'a [LogRecord],
    ) -> Self {
        Self {
            summary: Summary::new(snapshot, href, urls),
            input,
            output: output(snapshot, urls),
            log,
            error: &snapshot.error,
            progress: &snapshot.progress,
            cancel_requested: snapshot.cancel_requested,
            position: snapshot.position,
        }
    }
}

/// A problem as the Web Thing Protocol carries it: a numeric `status`, and an error `type`
/// of the protocol's when the problem has none of its own.
pub(crate) struct WtpProblem<'a>(pub(crate) &'a Problem);

impl Serialize for WtpProblem<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let problem = self.0;
        let errors = !problem.errors.is_empty();
        let mut map = serializer.serialize_map(Some(4 + usize::from(errors)))?;
        map.serialize_entry("status", &problem.status)?;
        if problem.kind == "about:blank" {
            let kind = format!(
                "https://w3c.github.io/web-thing-protocol/errors#{}",
                problem.status
            );
            map.serialize_entry("type", &kind)?;
        } else {
            map.serialize_entry("type", &problem.kind)?;
        }
        map.serialize_entry("title", &problem.title)?;
        map.serialize_entry("detail", &problem.detail)?;
        if errors {
            map.serialize_entry("errors", &problem.errors)?;
        }
        map.end()
    }
}

/// The Web Thing Protocol `ActionStatus` of an invocation; in a notification, with the log
/// records emitted since the previous one.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ActionStatus<'a> {
    #[serde(rename = "actionID")]
    action_id: String,
    state: &'static str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    cancel_requested: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<Output<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<WtpProblem<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    progress: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    log: Option<&'a [LogRecord]>,
    /// Its place among those waiting for its Thing (1: next), while it waits.
    #[serde(skip_serializing_if = "Option::is_none")]
    position: Option<usize>,
    time_requested: Time,
    #[serde(skip_serializing_if = "Option::is_none")]
    time_ended: Option<Time>,
}

impl<'a> ActionStatus<'a> {
    /// The status of `snapshot`; `logged` for a notification.
    pub(crate) fn new(
        snapshot: &'a Snapshot,
        urls: Urls<'a>,
        logged: Option<&'a [LogRecord]>,
    ) -> Self {
        Self {
            action_id: snapshot.id.to_string(),
            state: snapshot.status.wtp_state(),
            cancel_requested: snapshot.cancel_requested,
            output: output(snapshot, urls),
            error: snapshot.error.as_ref().map(WtpProblem),
            progress: snapshot.progress.as_ref(),
            log: logged,
            position: snapshot.position,
            time_requested: Time(snapshot.time_requested),
            time_ended: time(snapshot.time_completed),
        }
    }
}

/// The `data` of a LabThings `actionStatus` message.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StatusEvent<'a> {
    #[serde(rename = "action name")]
    action_name: &'static str,
    status: Status,
    id: String,
    href: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a Problem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<Output<'a>>,
    progress: &'a Option<Value>,
    time_requested: Time,
    time_completed: Option<Time>,
    logged: &'a [LogRecord],
}

impl<'a> StatusEvent<'a> {
    /// The event of a change of `snapshot`, carrying the log records `logged` since the
    /// previous one.
    pub(crate) fn new(snapshot: &'a Snapshot, urls: Urls<'a>, logged: &'a [LogRecord]) -> Self {
        Self {
            action_name: snapshot.action,
            status: snapshot.status,
            id: snapshot.id.to_string(),
            href: urls.invocation(snapshot),
            error: snapshot.error.as_ref(),
            output: output(snapshot, urls),
            progress: &snapshot.progress,
            time_requested: Time(snapshot.time_requested),
            time_completed: time(snapshot.time_completed),
            logged,
        }
    }
}
