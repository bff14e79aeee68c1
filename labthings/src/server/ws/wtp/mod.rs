//! The W3C Web Thing Protocol: a request's `operation` names an [`Operation`], carried out on
//! the interaction interface.
//!
//! Every response echoes the request's `thingID` and `correlationID`; errors carry a problem
//! with a numeric `status`. Operations that run device code (reading and writing properties)
//! complete later, concurrently with the rest of the connection; the others are answered at
//! once, in order. Notifications carry a `messageID` that names them in their Thing's
//! history: a client that reconnects passes the last one it saw as `lastNotificationID` to
//! get what it missed.

mod actions;
mod envelope;
mod events;
mod lease;
mod properties;
mod request;

use std::future::Future;
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};

pub(crate) use actions::invocation_messages;
pub(crate) use envelope::{bad_request_for, error};
pub(crate) use request::Request;

use super::connection::{Connection, Dispatch, Format};
use crate::broker::history::Unresumable;
use crate::interaction::{Resumption, Target, ThingRef};
use crate::problem::Problem;

/// The operations of the protocol, by the name a request gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    ReadProperty,
    WriteProperty,
    ReadAllProperties,
    ReadMultipleProperties,
    ObserveProperty,
    UnobserveProperty,
    ObserveAllProperties,
    UnobserveAllProperties,
    SubscribeEvent,
    UnsubscribeEvent,
    SubscribeAllEvents,
    UnsubscribeAllEvents,
    InvokeAction,
    QueryAction,
    CancelAction,
    QueryAllActions,
    TakeLease,
    RenewLease,
    ReleaseLease,
    BreakLease,
    QueryLease,
}

impl Operation {
    const ALL: [(&'static str, Self); 21] = [
        ("readproperty", Self::ReadProperty),
        ("writeproperty", Self::WriteProperty),
        ("readallproperties", Self::ReadAllProperties),
        ("readmultipleproperties", Self::ReadMultipleProperties),
        ("observeproperty", Self::ObserveProperty),
        ("unobserveproperty", Self::UnobserveProperty),
        ("observeallproperties", Self::ObserveAllProperties),
        ("unobserveallproperties", Self::UnobserveAllProperties),
        ("subscribeevent", Self::SubscribeEvent),
        ("unsubscribeevent", Self::UnsubscribeEvent),
        ("subscribeallevents", Self::SubscribeAllEvents),
        ("unsubscribeallevents", Self::UnsubscribeAllEvents),
        ("invokeaction", Self::InvokeAction),
        ("queryaction", Self::QueryAction),
        ("cancelaction", Self::CancelAction),
        ("queryallactions", Self::QueryAllActions),
        ("takelease", Self::TakeLease),
        ("renewlease", Self::RenewLease),
        ("releaselease", Self::ReleaseLease),
        ("breaklease", Self::BreakLease),
        ("querylease", Self::QueryLease),
    ];

    fn named(name: &str) -> Result<Self, Problem> {
        Self::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, op)| op)
            .ok_or_else(|| Problem::bad_request(format!("unknown operation '{name}'")))
    }
}

/// A request, and the Thing it is about.
pub(crate) struct Call<'c> {
    connection: &'c Arc<Connection>,
    request: Request,
    view: usize,
}

impl<'c> Call<'c> {
    fn thing(&self) -> ThingRef<'c> {
        self.connection.thing(self.view)
    }

    /// The affordance name the request gives.
    fn name(&self) -> Result<&str, Problem> {
        self.request
            .name
            .as_deref()
            .ok_or_else(|| Problem::bad_request("the request needs a 'name'"))
    }

    fn reply(&self, body: impl Serialize) {
        let text = envelope::response(self.connection, self.view, &self.request, body);
        self.connection.send(text);
    }

    fn fail(&self, problem: &Problem) {
        let name = self.request.name.as_deref();
        let text = error(self.connection, &self.request, name, problem);
        self.connection.send(text);
    }
}

/// Handle a message whose `messageType` is `request`.
pub(crate) fn request(connection: &Arc<Connection>, message: Map<String, Value>) -> Dispatch {
    let identity = Request::identity(&message);
    let request = match Request::parse(message) {
        Ok(request) => request,
        Err(detail) => {
            let problem = Problem::bad_request(detail);
            connection.send(error(connection, &identity, None, &problem));
            return Dispatch::Done;
        }
    };
    let routed = (request.operation.as_deref())
        .ok_or_else(|| Problem::bad_request("a request needs an 'operation'"))
        .and_then(Operation::named)
        .and_then(|op| Ok((op, connection.view(request.thing_id.as_ref())?)));
    let (operation, view) = match routed {
        Ok(routed) => routed,
        Err(problem) => {
            let name = request.name.as_deref();
            connection.send(error(connection, &request, name, &problem));
            return Dispatch::Done;
        }
    };
    let call = Call {
        connection,
        request,
        view,
    };
    use Operation::*;
    let answered = match operation {
        ReadProperty => return later(call, properties::read),
        WriteProperty => return later(call, properties::write),
        ReadAllProperties => return later(call, properties::read_all),
        ReadMultipleProperties => return later(call, properties::read_multiple),
        ObserveProperty => properties::observe(&call),
        UnobserveProperty => properties::unobserve(&call),
        ObserveAllProperties => properties::observe_all(&call),
        UnobserveAllProperties => properties::unobserve_all(&call),
        SubscribeEvent => events::subscribe(&call),
        UnsubscribeEvent => events::unsubscribe(&call),
        SubscribeAllEvents => events::subscribe_all(&call),
        UnsubscribeAllEvents => events::unsubscribe_all(&call),
        InvokeAction => actions::invoke(&call),
        QueryAction => actions::query(&call),
        CancelAction => actions::cancel(&call),
        QueryAllActions => actions::query_all(&call),
        TakeLease => lease::take(&call),
        RenewLease => lease::renew(&call),
        ReleaseLease => lease::release(&call),
        BreakLease => lease::break_any(&call),
        QueryLease => lease::query(&call),
    };
    if let Err(problem) = answered {
        call.fail(&problem);
    }
    Dispatch::Done
}

/// An operation that runs device code: answered when it completes.
fn later<F, B>(
    call: Call<'_>,
    operation: impl FnOnce(Arc<Connection>, usize, Arc<Request>) -> F,
) -> Dispatch
where
    F: Future<Output = Result<B, Problem>> + Send + 'static,
    B: Serialize,
{
    let (connection, view) = (call.connection.clone(), call.view);
    let request = Arc::new(call.request);
    let future = operation(connection.clone(), view, request.clone());
    Dispatch::Later(Box::pin(async move {
        let text = match future.await {
            Ok(body) => envelope::response(&connection, view, &request, body),
            Err(problem) => error(&connection, &request, request.name.as_deref(), &problem),
        };
        connection.send(text);
    }))
}

/// The members of a subscribing response: the affordance, whether the notifications after
/// `lastNotificationID` follow (and if not, why), and where to resume from.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Subscribed<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resumed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resume_detail: Option<&'static str>,
    /// For a client that has no notification yet.
    #[serde(rename = "lastNotificationID", skip_serializing_if = "Option::is_none")]
    last_notification_id: Option<String>,
}

impl<'a> Subscribed<'a> {
    fn new(name: Option<&'a str>, resumption: &Resumption) -> Self {
        let resumed = resumption.resumed.as_ref();
        Self {
            name,
            resumed: resumed.map(Result::is_ok),
            resume_detail: resumed.and_then(|r| r.as_ref().err()).map(|why| match why {
                Unresumable::Unknown => {
                    "'lastNotificationID' names no notification of this Thing in this run of the server: what was missed cannot be told; the current values follow"
                }
                Unresumable::Expired => {
                    "the notifications after 'lastNotificationID' are no longer all kept: what was missed cannot be told; the current values follow"
                }
            }),
            last_notification_id: resumption.latest.map(|id| id.to_string()),
        }
    }
}

/// Subscribe `targets` for a request, replying with the affordance's `name` (and whether it
/// resumed) before any notification.
fn subscribe(
    call: &Call<'_>,
    targets: &[Target],
    operation: &'static str,
    current: bool,
    name: Option<&str>,
) {
    let format = Format::Wtp {
        operation,
        correlation: call.request.correlation(),
    };
    let last = call.request.last_notification_id.as_deref();
    call.connection
        .subscribe(call.view, targets, &format, current, last, |resumption| {
            let body = Subscribed::new(name, resumption);
            let text = envelope::response(call.connection, call.view, &call.request, body);
            Some(text)
        });
}
