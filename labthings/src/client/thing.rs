//! The client of one Thing, driven by its Thing Description.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use url::Url;

use super::error::problem_from_body;
use super::forms::{Description, Kind, Via};
use super::session::Session;
use super::{Client, ClientError, EventStream, Invocation, PropertyStream, labthings_ws};
use crate::blob::{Blob, MediaType};

/// A client of one Thing, from its Thing Description (see [`Client::thing`]). Cheap to
/// clone: clones share the Thing's WebSocket.
#[derive(Clone)]
pub struct ThingClient {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    url: Url,
    description: Description,
    /// The Web Thing Protocol sockets, by URL, opened on first use.
    sessions: tokio::sync::Mutex<HashMap<Url, Arc<Session>>>,
}

impl std::fmt::Debug for ThingClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThingClient")
            .field("url", &self.inner.url.as_str())
            .field("title", &self.title())
            .finish_non_exhaustive()
    }
}

impl ThingClient {
    pub(crate) async fn fetch(client: Client, url: Url) -> Result<Self, ClientError> {
        let request = client
            .shared()
            .http
            .get(url)
            .header("accept", "application/td+json, application/json");
        let response = send(&client, request).await?;
        let url = response.url().clone();
        let td = response.json().await?;
        Self::new(client, url, td)
    }

    pub(crate) fn new(client: Client, url: Url, td: Value) -> Result<Self, ClientError> {
        let description = Description::new(td, &url)?;
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                url,
                description,
                sessions: Default::default(),
            }),
        })
    }

    /// The Thing Description.
    pub fn description(&self) -> &Value {
        &self.inner.description.td
    }

    /// The Thing's title, from its TD.
    pub fn title(&self) -> Option<&str> {
        self.description().get("title").and_then(Value::as_str)
    }

    /// The URL the Thing Description was read from.
    pub fn url(&self) -> &Url {
        &self.inner.url
    }

    /// Read property `name`.
    pub async fn read<T: DeserializeOwned>(&self, name: &str) -> Result<T, ClientError> {
        let url = self
            .td()
            .require(Kind::Property, name, "readproperty", Via::Http)?;
        super::decode(self.get_json(&url).await?)
    }

    /// Write `value` to property `name` (validated by the server: a refusal carries its
    /// problem details).
    pub async fn write<T: Serialize + ?Sized>(
        &self,
        name: &str,
        value: &T,
    ) -> Result<(), ClientError> {
        let url = self
            .td()
            .require(Kind::Property, name, "writeproperty", Via::Http)?;
        let body = serde_json::to_vec(value)?;
        let request = self
            .http()
            .put(url)
            .header("content-type", "application/json");
        send(self.client(), request.body(body)).await.map(drop)
    }

    /// Invoke action `name` with `input` (an object of its arguments, or `()` for none) and
    /// wait for its output.
    pub async fn invoke<I: Serialize + ?Sized, O: DeserializeOwned>(
        &self,
        name: &str,
        input: &I,
    ) -> Result<O, ClientError> {
        self.start(name, input).await?.wait().await
    }

    /// Invoke action `name` with `input` and give the running [`Invocation`], to follow or
    /// cancel. Over the Thing's Web Thing Protocol socket when its TD has one (its statuses
    /// then arrive as notifications); with `POST` otherwise (then polled).
    pub async fn start<I: Serialize + ?Sized, O: DeserializeOwned>(
        &self,
        name: &str,
        input: &I,
    ) -> Result<Invocation<O>, ClientError> {
        let input = serde_json::to_value(input)?;
        let td = self.td();
        if self.client().shared().websocket
            && let Some(url) = td.form(Kind::Action, name, "invokeaction", Via::WebThingProtocol)?
        {
            let session = self.session(&url).await?;
            let mut request = Map::new();
            request.insert("operation".into(), "invokeaction".into());
            request.insert("name".into(), name.into());
            request.insert("input".into(), input);
            request.insert("observe".into(), true.into());
            let (correlation, response, rx) = session.subscribe(request).await?;
            let status = response.get("status").cloned().ok_or_else(|| {
                ClientError::Protocol("the response to 'invokeaction' has no 'status'".into())
            })?;
            return Invocation::over_socket(self.clone(), name, session, correlation, rx, status);
        }
        let url = td.require(Kind::Action, name, "invokeaction", Via::Http)?;
        let body = serde_json::to_vec(&input)?;
        let request = self
            .http()
            .post(url)
            .header("content-type", "application/json");
        let response = send(self.client(), request.body(body)).await?;
        Invocation::polled(self.clone(), name, response.json().await?)
    }

    /// Observe property `name`: a stream of its values (over the Web Thing Protocol, the
    /// current value first). Dropping the stream stops observing.
    pub async fn observe<T: DeserializeOwned>(
        &self,
        name: &str,
    ) -> Result<PropertyStream<T>, ClientError> {
        let td = self.td();
        if let Some(url) = td.form(
            Kind::Property,
            name,
            "observeproperty",
            Via::WebThingProtocol,
        )? {
            let (session, correlation, rx) =
                self.subscribe_over(&url, "observeproperty", name).await?;
            let unobserve = request("unobserveproperty", name);
            return Ok(PropertyStream::over_socket(
                session,
                correlation,
                rx,
                unobserve,
            ));
        }
        if td.has_websocket_form() {
            return Err(ClientError::Unsupported(format!(
                "the property '{name}' cannot be observed: its Thing Description has no `observeproperty` form on a WebSocket"
            )));
        }
        // LabThings-FastAPI: its own dialect, at `{thing}/ws`.
        let endpoint = labthings_ws::endpoint(self.url())?;
        let rx = labthings_ws::observe(self.client(), &endpoint, name).await?;
        Ok(PropertyStream::own(rx))
    }

    /// Subscribe to event `name`: a stream of its data, in order. Dropping the stream
    /// unsubscribes.
    pub async fn subscribe<T: DeserializeOwned>(
        &self,
        name: &str,
    ) -> Result<EventStream<T>, ClientError> {
        let url = self
            .td()
            .require(Kind::Event, name, "subscribeevent", Via::WebThingProtocol)?;
        let (session, correlation, rx) = self.subscribe_over(&url, "subscribeevent", name).await?;
        let unsubscribe = request("unsubscribeevent", name);
        Ok(EventStream::over_socket(
            session,
            correlation,
            rx,
            unsubscribe,
        ))
    }

    /// Download a blob an action gave (its output, read by this client): its bytes, in
    /// memory.
    pub async fn download<M: MediaType>(&self, blob: &Blob<M>) -> Result<Blob<M>, ClientError> {
        let href = blob.href().ok_or_else(|| {
            ClientError::Unsupported("this blob is not on a server: it needs no download".into())
        })?;
        let url = self.resolve(href)?;
        let response = send(self.client(), self.http().get(url)).await?;
        let bytes = response.bytes().await?;
        Ok(Blob::from_bytes_as(bytes, blob.media_type()))
    }

    async fn subscribe_over(
        &self,
        url: &Url,
        operation: &str,
        name: &str,
    ) -> Result<(Arc<Session>, String, super::session::Notifications), ClientError> {
        let session = self.session(url).await?;
        let (correlation, _response, rx) = session.subscribe(request(operation, name)).await?;
        Ok((session, correlation, rx))
    }

    /// The Web Thing Protocol socket at `url`, opened if it is not (or no longer) open.
    async fn session(&self, url: &Url) -> Result<Arc<Session>, ClientError> {
        let mut sessions = self.inner.sessions.lock().await;
        if let Some(session) = sessions.get(url).filter(|s| !s.is_closed()) {
            return Ok(session.clone());
        }
        let session = Session::open(self.client(), url).await?;
        sessions.insert(url.clone(), session.clone());
        Ok(session)
    }

    pub(crate) fn client(&self) -> &Client {
        &self.inner.client
    }

    fn http(&self) -> &reqwest::Client {
        &self.client().shared().http
    }

    fn td(&self) -> &Description {
        &self.inner.description
    }

    /// `href` resolved against the TD's base.
    pub(crate) fn resolve(&self, href: &str) -> Result<Url, ClientError> {
        Ok(self.td().base.join(href)?)
    }

    /// `GET url` as JSON.
    pub(crate) async fn get_json(&self, url: &Url) -> Result<Value, ClientError> {
        let request = self
            .http()
            .get(url.clone())
            .header("accept", "application/json");
        Ok(send(self.client(), request).await?.json().await?)
    }

    /// `DELETE url`.
    pub(crate) async fn delete(&self, url: &Url) -> Result<(), ClientError> {
        send(self.client(), self.http().delete(url.clone()))
            .await
            .map(drop)
    }
}

/// A Web Thing Protocol request naming an affordance.
fn request(operation: &str, name: &str) -> Map<String, Value> {
    let mut request = Map::new();
    request.insert("operation".into(), operation.into());
    request.insert("name".into(), name.into());
    request
}

/// Send `request` with the client's token; an answer other than 2xx is the server's refusal.
async fn send(
    client: &Client,
    mut request: reqwest::RequestBuilder,
) -> Result<reqwest::Response, ClientError> {
    if let Some(token) = &client.shared().token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = response.bytes().await.unwrap_or_default();
    Err(ClientError::Refused(problem_from_body(
        status.as_u16(),
        &body,
    )))
}
