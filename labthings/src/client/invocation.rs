//! A running action, followed over the WebSocket or by polling.

use std::marker::PhantomData;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use url::Url;

use super::error::problem_from_json;
use super::session::{Notifications, Session};
use super::{ClientError, ThingClient};
use crate::problem::Problem;

/// The state of an invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ActionState {
    /// Accepted, not yet running.
    Pending,
    /// Running.
    Running,
    /// Ended with an output.
    Completed,
    /// Ended with an error.
    Failed,
    /// Ended by a cancellation.
    Cancelled,
}

impl ActionState {
    /// Whether the invocation has ended.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }

    /// The state of an invocation's status, as the Web Thing Protocol (`state`) or the
    /// HTTP invocation resource (`status`) gives it.
    fn of(status: &Value) -> Result<Self, ClientError> {
        let state = status
            .get("state")
            .or_else(|| status.get("status"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        Ok(match state {
            "pending" => Self::Pending,
            // LabThings-FastAPI's client counts `idle` as running too.
            "running" | "idle" => Self::Running,
            "completed" => Self::Completed,
            "failed" | "error" => Self::Failed,
            "cancelled" => Self::Cancelled,
            other => {
                return Err(ClientError::Protocol(format!(
                    "an invocation's status has the unknown state '{other}'"
                )));
            }
        })
    }
}

/// How the invocation is followed.
enum Track {
    /// Notifications of the Web Thing Protocol socket it was invoked on.
    Socket {
        session: Arc<Session>,
        correlation: String,
        rx: Notifications,
    },
    /// Polling its HTTP resource.
    Poll { href: Url },
    /// Nothing to follow: the server answered the output.
    Answered,
}

/// An invocation of an action: follow it to its end with [`wait`](Self::wait), or
/// [`cancel`](Self::cancel) it. `O` is the type its output is read as.
pub struct Invocation<O = Value> {
    thing: ThingClient,
    action: String,
    id: String,
    track: Track,
    status: Value,
    _output: PhantomData<fn() -> O>,
}

impl<O> std::fmt::Debug for Invocation<O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Invocation")
            .field("action", &self.action)
            .field("id", &self.id)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl<O> Drop for Invocation<O> {
    fn drop(&mut self) {
        if let Track::Socket {
            session,
            correlation,
            ..
        } = &self.track
        {
            session.forget(correlation);
        }
    }
}

impl<O: DeserializeOwned> Invocation<O> {
    /// An invocation started over the Web Thing Protocol with `observe: true`.
    pub(crate) fn over_socket(
        thing: ThingClient,
        action: &str,
        session: Arc<Session>,
        correlation: String,
        rx: Notifications,
        status: Value,
    ) -> Result<Self, ClientError> {
        let id = id_of(&status, "actionID")?;
        Ok(Self {
            thing,
            action: action.to_owned(),
            id,
            track: Track::Socket {
                session,
                correlation,
                rx,
            },
            status,
            _output: PhantomData,
        })
    }

    /// An invocation started with `POST`: its resource (`href`) is polled.
    pub(crate) fn polled(
        thing: ThingClient,
        action: &str,
        status: Value,
    ) -> Result<Self, ClientError> {
        let id = id_of(&status, "id")?;
        let href = status
            .get("href")
            .and_then(Value::as_str)
            .ok_or_else(|| ClientError::Protocol("the invocation has no 'href'".into()))?;
        let href = thing.resolve(href)?;
        Ok(Self {
            thing,
            action: action.to_owned(),
            id,
            track: Track::Poll { href },
            status,
            _output: PhantomData,
        })
    }

    /// An action the server ran within the request, answering its `output`.
    pub(crate) fn answered(thing: ThingClient, action: &str, output: Value) -> Self {
        let mut status = Map::new();
        status.insert("status".into(), "completed".into());
        status.insert("output".into(), output);
        Self {
            thing,
            action: action.to_owned(),
            id: String::new(),
            track: Track::Answered,
            status: Value::Object(status),
            _output: PhantomData,
        }
    }

    /// The invocation's identifier on the server (empty when the server answered the
    /// output at once).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The action's name.
    pub fn action(&self) -> &str {
        &self.action
    }

    /// The latest status the server sent, as it sent it (with `progress` and `log` where it
    /// has them).
    pub fn status(&self) -> &Value {
        &self.status
    }

    /// The latest state known.
    pub fn state(&self) -> Result<ActionState, ClientError> {
        ActionState::of(&self.status)
    }

    /// Wait for the next status (over the WebSocket, each change; polling, the next poll)
    /// and give its state. Once the invocation has ended, its final state again.
    pub async fn next_state(&mut self) -> Result<ActionState, ClientError> {
        let current = self.state()?;
        if current.is_final() {
            return Ok(current);
        }
        match &mut self.track {
            Track::Socket { rx, .. } => loop {
                let message = rx
                    .recv()
                    .await
                    .unwrap_or(Err(ClientError::Disconnected(None)))?;
                if let Some(status) = message.get("status") {
                    self.status = status.clone();
                    break;
                }
            },
            Track::Poll { href } => {
                let href = href.clone();
                self.status = self.thing.get_json(&href).await?;
            }
            Track::Answered => {}
        }
        self.state()
    }

    /// Wait for the invocation to end: its output, or why it did not complete.
    pub async fn wait(mut self) -> Result<O, ClientError> {
        let (first, max) = self.thing.client().shared().poll;
        let mut delay = first;
        loop {
            if self.state()?.is_final() {
                return self.outcome();
            }
            if matches!(self.track, Track::Poll { .. }) {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(max);
            }
            self.next_state().await?;
        }
    }

    /// Ask the server to cancel the invocation (it ends `cancelled` once its code stops).
    pub async fn cancel(&self) -> Result<(), ClientError> {
        match &self.track {
            Track::Socket { session, .. } => {
                let mut request = Map::new();
                request.insert("operation".into(), "cancelaction".into());
                request.insert("actionID".into(), self.id.clone().into());
                session.request(request).await.map(drop)
            }
            Track::Poll { href } => self.thing.delete(href).await,
            Track::Answered => Err(ClientError::Unsupported(
                "the action has ended: there is nothing to cancel".into(),
            )),
        }
    }

    /// The output of an ended invocation, or its error.
    fn outcome(&self) -> Result<O, ClientError> {
        match self.state()? {
            ActionState::Completed => {
                let output = self.status.get("output").cloned().unwrap_or(Value::Null);
                super::decode(output)
            }
            ActionState::Cancelled => Err(ClientError::Cancelled(self.problem())),
            _ => Err(ClientError::ActionFailed(self.problem().unwrap_or_else(
                || Problem::internal("the action failed without a reason"),
            ))),
        }
    }

    /// The invocation's error: its `error` problem, or (LabThings-FastAPI) its last error
    /// log record, as `[ExceptionType]: message`.
    fn problem(&self) -> Option<Problem> {
        if let Some(error) = self.status.get("error").filter(|e| e.is_object()) {
            return Some(problem_from_json(500, error));
        }
        let log = self.status.get("log").and_then(Value::as_array)?;
        let record = log
            .iter()
            .rev()
            .find(|r| r.get("levelname").and_then(Value::as_str) == Some("ERROR"))?;
        let message = record.get("message").and_then(Value::as_str).unwrap_or("");
        let detail = match record.get("exception_type").and_then(Value::as_str) {
            Some(kind) => format!("[{kind}]: {message}"),
            None => message.to_owned(),
        };
        Some(Problem::internal(detail))
    }
}

fn id_of(status: &Value, key: &str) -> Result<String, ClientError> {
    status
        .get(key)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| ClientError::Protocol(format!("the invocation's status has no '{key}'")))
}
