//! The property operations: read, write, read all or several, observe and unobserve.

use std::sync::Arc;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::{Call, Request, subscribe};
use crate::interaction::{PropertyRef, Target, WouldWrite};
use crate::model::table::Json;
use crate::problem::Problem;
use crate::server::ws::connection::Connection;

/// `{"name": …}`
#[derive(Serialize)]
pub(super) struct Named<'a> {
    pub(super) name: &'a str,
}

/// The answer to `writeproperty`: `{"name": …}`, or what a dry run would write.
#[derive(Serialize)]
#[serde(untagged)]
pub(super) enum Written {
    Done(Named<'static>),
    Would(WouldWrite),
}

/// `{"name": …, "value": …}`
#[derive(Serialize)]
pub(super) struct Read<'a> {
    name: &'a str,
    value: Json,
}

/// `{"values": {name: value, …}}`, in declaration order.
pub(super) struct Values(Vec<(&'static str, Json)>);

impl Serialize for Values {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Inner<'a>(&'a [(&'static str, Json)]);
        impl Serialize for Inner<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(self.0.len()))?;
                for (name, value) in self.0 {
                    map.serialize_entry(name, value)?;
                }
                map.end()
            }
        }
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("values", &Inner(&self.0))?;
        map.end()
    }
}

fn property<'c>(
    connection: &'c Connection,
    view: usize,
    request: &Request,
) -> Result<PropertyRef<'c>, Problem> {
    let name = request
        .name
        .as_deref()
        .ok_or_else(|| Problem::bad_request("the request needs a 'name'"))?;
    connection.thing(view).property(name)
}

pub(super) async fn read(
    connection: Arc<Connection>,
    view: usize,
    request: Arc<Request>,
) -> Result<Read<'static>, Problem> {
    let property = property(&connection, view, &request)?;
    let value = property.read().await?;
    Ok(Read {
        name: property.name(),
        value,
    })
}

pub(super) async fn write(
    connection: Arc<Connection>,
    view: usize,
    request: Arc<Request>,
) -> Result<Written, Problem> {
    let property = property(&connection, view, &request)?;
    let value = request
        .value
        .clone()
        .ok_or_else(|| Problem::bad_request("'writeproperty' needs a 'value'"))?;
    if request.dry_run == Some(true) {
        return Ok(Written::Would(
            property.try_write(request.caller(connection.caller), value)?,
        ));
    }
    property
        .write(request.caller(connection.caller), value)
        .await?;
    Ok(Written::Done(Named {
        name: property.name(),
    }))
}

pub(super) async fn read_all(
    connection: Arc<Connection>,
    view: usize,
    _request: Arc<Request>,
) -> Result<Values, Problem> {
    let mut values = Vec::new();
    for property in connection.thing(view).properties() {
        if property.readable().is_ok() {
            values.push((property.name(), property.read().await?));
        }
    }
    Ok(Values(values))
}

pub(super) async fn read_multiple(
    connection: Arc<Connection>,
    view: usize,
    request: Arc<Request>,
) -> Result<Values, Problem> {
    let names = request.names.as_ref().ok_or_else(|| {
        Problem::bad_request("'readmultipleproperties' needs 'names', an array of property names")
    })?;
    let thing = connection.thing(view);
    let mut values: Vec<(&'static str, Json)> = Vec::new();
    for name in names {
        let property = thing.property(name)?;
        if values.iter().any(|(n, _)| *n == property.name()) {
            continue;
        }
        values.push((property.name(), property.read().await?));
    }
    Ok(Values(values))
}

pub(super) fn observe(call: &Call<'_>) -> Result<(), Problem> {
    let property = call.thing().property(call.name()?)?;
    property.observable()?;
    // The current value follows the response, so that a change made between a read and the
    // subscription cannot be missed.
    let target = [Target::Property(property.index)];
    subscribe(
        call,
        &target,
        "observeproperty",
        true,
        Some(property.name()),
    );
    Ok(())
}

pub(super) fn unobserve(call: &Call<'_>) -> Result<(), Problem> {
    let property = call.thing().property(call.name()?)?;
    let target = [Target::Property(property.index)];
    call.connection.unsubscribe(call.view, &target);
    call.reply(Named {
        name: property.name(),
    });
    Ok(())
}

pub(super) fn observe_all(call: &Call<'_>) -> Result<(), Problem> {
    let targets = call.thing().observable_properties();
    // The draft: one notification per property that changes.
    subscribe(call, &targets, "observeallproperties", false, None);
    Ok(())
}

pub(super) fn unobserve_all(call: &Call<'_>) -> Result<(), Problem> {
    let targets = call.thing().observable_properties();
    call.connection.unsubscribe(call.view, &targets);
    call.reply(serde_json::Map::new());
    Ok(())
}
