//! The provenance of an invocation, as a W3C PROV-JSON document: the invocation an activity
//! associated with its Thing, the client that asked and the server; the input, every
//! Thing's stored values when it started and the blobs it took, which it used; its output,
//! blobs (named by their SHA-256), error and log, which it generated, the output and blobs
//! derived from the input and those values; and the actions its code called, each an
//! activity informed by it.

mod document;
mod server;

use std::sync::Arc;

use serde_json::Value;

use document::{Document, Element, Relation, attributes, qualified, time};

use super::Things;
use super::wire::Urls;
use crate::model::td::LT_CONTEXT;
use crate::problem::{Problem, refusals};
use crate::runtime::invocations::state_at_start::Recorded;
use crate::runtime::invocations::{Invocation, Snapshot};

/// Who asked for an invocation, as the server tells the client reading its record.
#[derive(Debug, Clone)]
pub(crate) enum Asker {
    /// The token's subject (`None`: no token) and the client's address.
    Shown { subject: Option<String> },
    /// Not told: the reader is another client, and not an admin.
    Withheld,
}

/// The provenance record of `invocation`, which has ended, for a client reading it at
/// `urls`.
pub(crate) async fn record(
    things: &Things,
    invocation: &Invocation,
    urls: Urls<'_>,
    asker: Asker,
    server_id: &str,
) -> Result<Document, Problem> {
    let snapshot = invocation.snapshot();
    if !snapshot.status.is_finished() {
        let id = snapshot.id.to_string();
        return Err(refusals::no_provenance_yet(&id, snapshot.status.as_str()));
    }
    let mut record = Record::new(urls, &snapshot);
    record
        .activity(invocation, &snapshot, &asker, server_id)
        .await;
    record.input(things, invocation, urls).await;
    record.state_at_start(invocation);
    record.outcome(things, invocation, &snapshot, urls).await;
    record.calls(things, invocation);
    Ok(record.document)
}

/// A record being written.
struct Record {
    document: Document,
    /// The invocation's activity (`inv:{id}`), and the prefix of its other records.
    activity: String,
    /// The entities the output derives from.
    sources: Vec<String>,
}

impl Record {
    fn new(urls: Urls<'_>, snapshot: &Snapshot) -> Self {
        let mut document = Document::default();
        let base = format!("{}{}", urls.origin, urls.prefix);
        document.prefix("lt", LT_CONTEXT.to_owned());
        document.prefix("inv", format!("{base}/action_invocations/"));
        document.prefix("thing", format!("{base}/"));
        document.prefix("sha256", "urn:sha256:".to_owned());
        Self {
            document,
            activity: format!("inv:{}", snapshot.id),
            sources: Vec::new(),
        }
    }

    /// The invocation's activity and the agents it is associated with.
    async fn activity(
        &mut self,
        invocation: &Invocation,
        snapshot: &Snapshot,
        asker: &Asker,
        server_id: &str,
    ) {
        let started = snapshot.time_started.unwrap_or(snapshot.time_requested);
        let mut activity = attributes([
            ("prov:type", qualified("lt:ActionInvocation")),
            (
                "prov:label",
                format!("{} of {}", snapshot.action, snapshot.thing).into(),
            ),
            ("prov:startTime", time(started)),
            ("lt:thing", (*snapshot.thing).into()),
            ("lt:action", snapshot.action.into()),
            ("lt:status", snapshot.status.as_str().into()),
            ("lt:requested", time(snapshot.time_requested)),
        ]);
        if let Some(ended) = snapshot.time_completed {
            activity.insert("prov:endTime".into(), time(ended));
        }
        self.document
            .element(Element::Activity, &self.activity, activity);
        let thing = self.thing_agent(&snapshot.thing, invocation.thing.type_name());
        self.associate(&self.activity.clone(), &thing, "lt:device");
        let asker_id = format!("{}/requester", self.activity);
        let requester = invocation.requester;
        let who = match asker {
            Asker::Shown { subject } => {
                let subject = subject.clone().unwrap_or_else(|| "anonymous".into());
                let mut who = attributes([("lt:subject", subject.into())]);
                if let Some(address) = requester.address {
                    who.insert("lt:address".into(), address.to_string().into());
                }
                who
            }
            Asker::Withheld => attributes([("lt:withheld", true.into())]),
        };
        self.document.element(Element::Agent, &asker_id, who);
        self.associate(&self.activity.clone(), &asker_id, "lt:requester");
        let host = server::agent(server_id).await;
        self.document.element(Element::Agent, "lt:server", host);
        self.associate(&self.activity.clone(), "lt:server", "lt:host");
    }

    /// The input and the blobs it links to, used by the invocation.
    async fn input(&mut self, things: &Things, invocation: &Invocation, urls: Urls<'_>) {
        let input = format!("{}/input", self.activity);
        let value = attributes([("prov:value", invocation.input.to_string().into())]);
        self.document.element(Element::Entity, &input, value);
        self.relate(Relation::Used, &self.activity.clone(), &input);
        self.sources.push(input);
        for blob in blobs(things, &invocation.input, urls).await {
            self.blob(&blob);
            self.relate(Relation::Used, &self.activity.clone(), &blob.id);
            self.sources.push(blob.id);
        }
    }

    /// Every Thing's stored values when it started: a collection it used.
    fn state_at_start(&mut self, invocation: &Invocation) {
        let Some(state) = invocation.state_at_start.get() else {
            return; // It never started.
        };
        let collection = format!("{}/state", self.activity);
        let taken = attributes([
            ("prov:type", qualified("prov:Collection")),
            (
                "prov:label",
                "every Thing's stored values when it started".into(),
            ),
            ("lt:taken", time(state.taken)),
        ]);
        self.document.element(Element::Entity, &collection, taken);
        for thing in &state.things {
            for value in &thing.values {
                let id = format!("{collection}/{}/{}", thing.thing, value.name);
                let mut entity = attributes([
                    ("lt:thing", (*thing.thing).into()),
                    ("lt:property", value.name.into()),
                    ("lt:setting", value.setting.into()),
                ]);
                match &value.value {
                    Recorded::Whole(json) => {
                        entity.insert("prov:value".into(), json.get().into());
                    }
                    Recorded::Digest { sha256, bytes } => {
                        entity.insert("lt:sha256".into(), sha256.as_str().into());
                        entity.insert("lt:size".into(), (*bytes).into());
                    }
                }
                self.document.element(Element::Entity, &id, entity);
                self.relate(Relation::HadMember, &collection, &id);
            }
        }
        self.relate(Relation::Used, &self.activity.clone(), &collection);
        self.sources.push(collection);
    }

    /// What it generated: its output (and the blobs it links to) or its error, and its log.
    async fn outcome(
        &mut self,
        things: &Things,
        invocation: &Invocation,
        snapshot: &Snapshot,
        urls: Urls<'_>,
    ) {
        let activity = self.activity.clone();
        if let Some(output) = &snapshot.output {
            let id = format!("{activity}/output");
            let value = attributes([("prov:value", output.get().into())]);
            self.generated(&id, value, snapshot);
            let value: Value = serde_json::from_str(output.get()).unwrap_or_default();
            for blob in blobs(things, &value, urls).await {
                self.blob(&blob);
                self.generated(&blob.id, Default::default(), snapshot);
            }
        }
        if let Some(error) = &snapshot.error {
            let id = format!("{activity}/error");
            let problem = serde_json::to_string(error).unwrap_or_default();
            let value = attributes([("prov:value", problem.into())]);
            self.generated(&id, value, snapshot);
        }
        let log = serde_json::to_string(&invocation.log()).unwrap_or_default();
        let id = format!("{activity}/log");
        self.document.element(
            Element::Entity,
            &id,
            attributes([("prov:value", log.into())]),
        );
        self.relate(Relation::WasGeneratedBy, &id, &activity);
    }

    /// An entity the invocation generated, derived from what it used.
    fn generated(&mut self, id: &str, attributes: document::Attributes, snapshot: &Snapshot) {
        self.document.element(Element::Entity, id, attributes);
        let mut when = document::Attributes::new();
        if let Some(ended) = snapshot.time_completed {
            when.insert("prov:time".into(), time(ended));
        }
        let activity = self.activity.clone();
        (self.document).relate(Relation::WasGeneratedBy, id, &activity, when);
        for source in self.sources.clone() {
            self.relate(Relation::WasDerivedFrom, id, &source);
        }
    }

    /// The actions its code called, each an activity it informed.
    fn calls(&mut self, things: &Things, invocation: &Invocation) {
        let (calls, dropped) = invocation.core.calls.made();
        let activity = self.activity.clone();
        for (n, call) in calls.iter().enumerate() {
            let id = format!("{activity}/call/{}", n + 1);
            let name = things.iter().find(|t| address(t.thing()) == call.thing);
            let mut attributes = attributes([
                ("prov:type", qualified("lt:ActionCall")),
                ("prov:startTime", time(call.started)),
                ("lt:action", call.action.into()),
                ("lt:type", call.type_name.into()),
            ]);
            if let Some(ended) = call.ended {
                attributes.insert("prov:endTime".into(), time(ended));
            }
            self.document.element(Element::Activity, &id, attributes);
            self.relate(Relation::WasInformedBy, &id, &activity);
            if let Some(thing) = name {
                let agent = self.thing_agent(thing.name(), thing.thing().type_name());
                self.associate(&id, &agent, "lt:device");
            }
        }
        if dropped > 0 {
            let more = attributes([("lt:callsNotRecorded", dropped.into())]);
            self.document.element(Element::Activity, &activity, more);
        }
    }

    /// The entity of a blob.
    fn blob(&mut self, blob: &BlobEntity) {
        let entity = attributes([
            ("prov:type", qualified("lt:Blob")),
            ("lt:href", blob.href.clone().into()),
            ("lt:mediaType", blob.media_type.clone().into()),
            ("lt:size", blob.size.into()),
        ]);
        self.document.element(Element::Entity, &blob.id, entity);
    }

    /// The agent of the Thing called `name`, of Rust type `type_name`.
    fn thing_agent(&mut self, name: &Arc<str>, type_name: &str) -> String {
        let id = format!("thing:{name}");
        let agent = attributes([
            ("prov:type", qualified("prov:SoftwareAgent")),
            ("prov:label", (**name).into()),
            ("lt:type", type_name.into()),
        ]);
        self.document.element(Element::Agent, &id, agent);
        id
    }

    fn associate(&mut self, activity: &str, agent: &str, role: &str) {
        let role = attributes([("prov:role", qualified(role))]);
        (self.document).relate(Relation::WasAssociatedWith, activity, agent, role);
    }

    fn relate(&mut self, relation: Relation, from: &str, to: &str) {
        (self.document).relate(relation, from, to, Default::default());
    }
}

/// Where a Thing is, which the calls of its actions record.
fn address(thing: &Arc<dyn crate::runtime::hosted::DynThing>) -> usize {
    Arc::as_ptr(&thing.as_any()).cast::<()>() as usize
}

/// A blob of this server that a value links to.
struct BlobEntity {
    /// `sha256:{digest of its bytes}`.
    id: String,
    /// Its absolute link.
    href: String,
    media_type: String,
    size: u64,
}

/// The most blobs of one side (input, output) a record names: later links are left out.
const MAX_BLOBS: usize = 64;

/// The blobs of this server that `value` links to (those still kept, each once, at most
/// [`MAX_BLOBS`]).
async fn blobs(things: &Things, value: &Value, urls: Urls<'_>) -> Vec<BlobEntity> {
    let registry = &things.invocations.blobs;
    let mut found: Vec<(String, uuid::Uuid, crate::model::blob::Blob)> = Vec::new();
    links(value, &mut |href| {
        if found.len() < MAX_BLOBS
            && let Some((id, blob)) = registry.find(href)
            && !found.iter().any(|(_, known, _)| *known == id)
        {
            found.push((href.to_owned(), id, blob));
        }
    });
    let mut out = Vec::new();
    for (href, _, blob) in found {
        let (Ok(digest), Ok(size)) = (blob.sha256().await, blob.len()) else {
            continue;
        };
        let href = match href.starts_with('/') {
            true => format!("{}{href}", urls.origin),
            false => href,
        };
        out.push(BlobEntity {
            id: format!("sha256:{digest}"),
            href,
            media_type: blob.media_type().to_owned(),
            size,
        });
    }
    out
}

/// Call `f` with the `href` of every blob link in `value`.
fn links(value: &Value, f: &mut impl FnMut(&str)) {
    match value {
        Value::Object(map) => {
            if let (Some(Value::String(href)), true) =
                (map.get("href"), map.contains_key("media_type"))
            {
                f(href);
            }
            map.values().for_each(|v| links(v, f));
        }
        Value::Array(items) => items.iter().for_each(|v| links(v, f)),
        _ => {}
    }
}
