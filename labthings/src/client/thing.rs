//! The client of one Thing, driven by its Thing Description.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use url::Url;

use super::error::problem_from_body;
use super::forms::{Description, Kind, Via};
use super::resume::Resume;
use super::session::Session;
use super::{Client, ClientError, EventStream, Invocation, PropertyStream, labthings_ws};
use crate::model::blob::{Blob, MediaType};

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
            .get(url.clone())
            .header("accept", "application/td+json, application/json");
        let token = client.token_for(&url, &url).map(str::to_owned);
        let response = send(request, token.as_deref()).await?;
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
        let request = self.http().put(url.clone());
        let request = request
            .header("content-type", "application/json")
            .body(body);
        send(request, self.token(&url)).await.map(drop)
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
            let session = self.shared_session(&url).await?;
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
        let request = self.http().post(url.clone());
        let request = request
            .header("content-type", "application/json")
            .body(body);
        let response = send(request, self.token(&url)).await?;
        let status = response.status();
        let body = response.bytes().await?;
        let answer: Value = match body.is_empty() {
            true => Value::Null,
            false => serde_json::from_slice(&body)?,
        };
        if status == reqwest::StatusCode::CREATED
            || (answer.get("id").is_some() && answer.get("href").is_some())
        {
            Invocation::polled(self.clone(), name, answer)
        } else {
            // A server that runs the action within the request and answers its output.
            Ok(Invocation::answered(self.clone(), name, answer))
        }
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
            return PropertyStream::over_socket(self.resume(url, "observeproperty", name)).await;
        }
        if td.has_websocket_form() {
            return Err(ClientError::Unsupported(format!(
                "the property '{name}' cannot be observed: its Thing Description has no `observeproperty` form on a WebSocket"
            )));
        }
        // LabThings-FastAPI: its own dialect, at `{thing}/ws`.
        td.affordance(Kind::Property, name)?;
        let endpoint = labthings_ws::endpoint(self.url())?;
        let token = self.token(&endpoint);
        let rx = labthings_ws::observe(self.client(), &endpoint, name, token).await?;
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
        EventStream::over_socket(self.resume(url, "subscribeevent", name)).await
    }

    /// Download a blob an action gave (its output, read by this client): its bytes, in
    /// memory.
    pub async fn download<M: MediaType>(&self, blob: &Blob<M>) -> Result<Blob<M>, ClientError> {
        let href = blob.href().ok_or_else(|| {
            ClientError::Unsupported("this blob is not on a server: it needs no download".into())
        })?;
        let url = self.resolve(href)?;
        let response = send(self.http().get(url.clone()), self.token(&url)).await?;
        let bytes = response.bytes().await?;
        Ok(Blob::from_bytes_as(bytes, blob.media_type()))
    }

    /// Upload a blob (bytes, or a file, streamed) to the server of this Thing, to pass as an
    /// action's argument: the blob it gives back is a link to the uploaded data. The upload
    /// goes to `POST {prefix}/blob` beside the Thing (a labthings server's; LabThings-FastAPI
    /// takes no uploads), within the server's size limit (a refusal is a 413 problem).
    pub async fn upload<M: MediaType>(&self, blob: &Blob<M>) -> Result<Blob<M>, ClientError> {
        let unreadable = |path: &std::path::Path, e: std::io::Error| {
            ClientError::Unsupported(format!("{} cannot be read: {e}", path.display()))
        };
        let (body, size) = if let Some(bytes) = blob.as_bytes() {
            (reqwest::Body::from(bytes.clone()), bytes.len() as u64)
        } else if let Some(path) = blob.path() {
            let file = tokio::fs::File::open(path)
                .await
                .map_err(|e| unreadable(path, e))?;
            let size = file
                .metadata()
                .await
                .map_err(|e| unreadable(path, e))?
                .len();
            // As long as it was when the upload began, even if it grows meanwhile.
            let file = tokio::io::AsyncReadExt::take(file, size);
            (
                reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(file)),
                size,
            )
        } else {
            return Err(ClientError::Unsupported(
                "this blob is on a server already: pass it as it is".into(),
            ));
        };
        let url = upload_url(self.url())?;
        // The client's timeout, and a second more per 64 KiB (a slow link may carry a large
        // file; a stalled upload is the server's to end); the size is announced, so that a
        // server refuses one too large at once.
        let timeout = self.client().shared().timeout + Duration::from_secs(size >> 16);
        let request = self
            .http()
            .post(url.clone())
            .header("content-type", blob.media_type())
            .header("content-length", size)
            .timeout(timeout)
            .body(body);
        let answer: Value = send(request, self.token(&url)).await?.json().await?;
        let href = answer.get("href").and_then(Value::as_str).ok_or_else(|| {
            ClientError::Protocol(format!("the upload was answered without an href: {answer}"))
        })?;
        Ok(Blob::remote(href.to_owned(), blob.media_type().to_owned()))
    }

    /// How a stream of `operation` on `name` at `url` subscribes (again).
    fn resume(&self, url: Url, operation: &'static str, name: &str) -> Resume {
        let stop = match operation {
            "observeproperty" => "unobserveproperty",
            _ => "unsubscribeevent",
        };
        Resume {
            thing: self.clone(),
            url,
            operation,
            stop,
            name: name.to_owned(),
        }
    }

    /// The Web Thing Protocol socket at `url` shared by invocations, opened if it is not (or
    /// no longer) open.
    async fn shared_session(&self, url: &Url) -> Result<Arc<Session>, ClientError> {
        let mut sessions = self.inner.sessions.lock().await;
        if let Some(session) = sessions.get(url).filter(|s| !s.is_closed()) {
            return Ok(session.clone());
        }
        let session = Session::open(self.client(), url, self.token(url)).await?;
        sessions.insert(url.clone(), session.clone());
        Ok(session)
    }

    /// The token to send to `url`: only to where the TD came from.
    pub(crate) fn token(&self, url: &Url) -> Option<&str> {
        self.client().token_for(self.url(), url)
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
        Ok(send(request, self.token(url)).await?.json().await?)
    }

    /// `DELETE url`.
    pub(crate) async fn delete(&self, url: &Url) -> Result<(), ClientError> {
        send(self.http().delete(url.clone()), self.token(url))
            .await
            .map(drop)
    }
}

/// Send `request` with `token`; an answer other than 2xx is the server's refusal.
async fn send(
    mut request: reqwest::RequestBuilder,
    token: Option<&str>,
) -> Result<reqwest::Response, ClientError> {
    if let Some(token) = token {
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

/// `{prefix}/blob`: beside the Thing whose URL is `{prefix}/{thing}`.
fn upload_url(thing: &Url) -> Result<Url, ClientError> {
    let mut url = thing.clone();
    let path = url.path().trim_end_matches('/').to_owned();
    url.set_path(&path);
    url.set_query(None);
    Ok(url.join("blob")?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_go_beside_the_thing() {
        let at = |s: &str| upload_url(&Url::parse(s).unwrap()).unwrap().to_string();
        assert_eq!(at("http://lab:5000/counter/"), "http://lab:5000/blob");
        assert_eq!(
            at("https://lab/api/v1/camera?x=1"),
            "https://lab/api/v1/blob"
        );
    }
}
