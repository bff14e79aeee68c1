"""ophyd-async Devices built from Thing Descriptions.

`ThingDevice` is one Thing: a Signal per property (an object property is a sub-device
with a Signal per field, ``stage.position.z``) and a `ThingAction` per action
(``stage.move_to``, ``camera.capture``). `LabThingsServer` reads a server's TDs and
makes its Things' devices.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import httpx
from ophyd_async.core import Device, Signal, StandardReadable, StandardReadableFormat

from ._names import attribute_name
from .actions import ThingAction
from .client import ThingClient
from .signals import Path, property_signal
from .td import PropertyAffordance, ThingDescription, Value, ValueTree

Format = StandardReadableFormat


def _format(prop: PropertyAffordance, value: Value) -> Format | None:
    """How a property's Signal takes part in its device's read and configuration.

    Read-only properties are read (numbers hinted: what a plot shows), writable ones
    are configuration; a property that is not observable is read uncached, since no
    WebSocket message would refresh a staged copy. Write-only properties are neither.
    """
    if prop.write_only:
        return None
    if not prop.read_only:
        return Format.CONFIG_SIGNAL
    hinted = value.datatype in (int, float)
    if prop.observable:
        return Format.HINTED_SIGNAL if hinted else Format.CHILD
    return Format.HINTED_UNCACHED_SIGNAL if hinted else Format.UNCACHED_SIGNAL


class PropertyFields(StandardReadable):
    """An object property as a device: one Signal per field (recursively), all served by
    the property's one HTTP resource and WebSocket subscription."""

    def __init__(
        self,
        client: ThingClient,
        prop: PropertyAffordance,
        tree: Mapping[str, ValueTree],
        path: Path = (),
        name: str = "",
    ) -> None:
        #: The Signals (and sub-devices) of the fields, by field name.
        self.fields: dict[str, Device] = {}
        for key, node in tree.items():
            self.fields[key] = _add_property(self, client, prop, node, (*path, key), key)
        super().__init__(name=name)


def _add_property(
    parent: StandardReadable,
    client: ThingClient,
    prop: PropertyAffordance,
    node: ValueTree,
    path: Path,
    key: str,
) -> Device:
    """Make the Signal of `prop`'s value at `path` (a `PropertyFields` for an object),
    set it as `parent`'s attribute for `key`, and register it with `parent`'s verbs."""
    child: Device
    if isinstance(node, Value):
        child = property_signal(client, prop, path)
        fmt = _format(prop, node)
    else:
        child = PropertyFields(client, prop, node, path)
        fmt = None if prop.write_only else Format.CHILD
    setattr(parent, attribute_name(parent, key), child)
    if fmt is not None:
        parent.add_readables([child], fmt)
    return child


class ThingDevice(StandardReadable):
    """A Thing as an ophyd-async device: its properties as Signals, its actions as
    `ThingAction` children.

    Reading it reads its read-only properties (a Bluesky detector: ``scan([camera],
    ...)`` reads the camera's ``sharpness``); its writable properties are its
    configuration. Properties that are media streams (``contentMediaType``) are left out.

    :param td: The Thing's description.
    :param client: Its client (one is made if None); share one between devices of the
        same Thing so that they share one WebSocket.
    :param properties: Only these properties (all if None).
    :param actions: Only these actions (all if None).
    :param name: The device's name.

    The Signals and actions are also attributes named after the TD's names (with ``_``
    appended where a name is one of Bluesky's verbs, e.g. a ``stop`` action is
    ``stop_``); `signals` and `actions` map the TD's names to them.
    """

    def __init__(
        self,
        td: ThingDescription,
        client: ThingClient | None = None,
        properties: Iterable[str] | None = None,
        actions: Iterable[str] | None = None,
        name: str = "",
    ) -> None:
        self.td = td
        self.client = client or ThingClient(td)
        #: The property Signals (or `PropertyFields`), by the TD's property name.
        self.signals: dict[str, Device] = {}
        #: The actions, by the TD's action name.
        self.actions: dict[str, ThingAction] = {}
        wanted = set(td.properties if properties is None else properties)
        for prop in td.properties.values():
            if prop.name not in wanted or prop.streamed:
                continue
            self.signals[prop.name] = _add_property(
                self, self.client, prop, prop.values, (), prop.name
            )
        wanted = set(td.actions if actions is None else actions)
        for action in td.actions.values():
            if action.name in wanted:
                device = ThingAction(self.client, action)
                setattr(self, attribute_name(self, action.name), device)
                self.actions[action.name] = device
        super().__init__(name=name)

    def signal(self, name: str, *path: str) -> Signal[Any]:
        """The Signal of property `name` (at field `path` of an object property):
        ``stage.signal("position", "z")`` is ``stage.position.z``."""
        node: Device = self.signals[name]
        for key in path:
            if not isinstance(node, PropertyFields):
                raise KeyError(f"{name} has no field {'.'.join(path)!r}")
            node = node.fields[key]
        if not isinstance(node, Signal):
            raise KeyError(f"{'.'.join((name, *path))} is an object: name one of its fields")
        return node

    @classmethod
    def from_url(cls, url: str, name: str = "", **kwargs: Any) -> ThingDevice:
        """Read the TD at `url` (``{server}/{thing}/``) and make its device.

        :param kwargs: `headers` for the client, and `properties`/`actions` as in the
            constructor.
        """
        headers = kwargs.pop("headers", None)
        response = httpx.get(url, headers=headers, follow_redirects=True)
        response.raise_for_status()
        td = ThingDescription.parse(response.json(), str(response.url))
        return cls(td, ThingClient(td, headers=headers), name=name, **kwargs)


class LabThingsServer:
    """A labthings server's Things: read its TDs, make their devices.

    :param url: The server's root URL (``http://127.0.0.1:5000/``).
    :param headers: Extra HTTP headers for every request (e.g. ``Authorization``).
    """

    def __init__(self, url: str, headers: Mapping[str, str] | None = None) -> None:
        self.url = url if url.endswith("/") else url + "/"
        self.headers = dict(headers or {})
        self._clients: dict[str, ThingClient] = {}

    def things(self) -> list[str]:
        """The names of the server's Things (from ``GET /thing_descriptions/``)."""
        response = httpx.get(f"{self.url}thing_descriptions/", headers=self.headers)
        response.raise_for_status()
        return list(response.json())

    def client(self, thing: str) -> ThingClient:
        """The client of Thing `thing` (one per Thing, shared by all its devices)."""
        if thing not in self._clients:
            url = f"{self.url}{thing}/"
            response = httpx.get(url, headers=self.headers)
            response.raise_for_status()
            td = ThingDescription.parse(response.json(), url)
            self._clients[thing] = ThingClient(td, headers=self.headers)
        return self._clients[thing]

    def device(self, thing: str, name: str | None = None, **kwargs: Any) -> ThingDevice:
        """A device of Thing `thing`, named `name` (the Thing's name by default).

        :param kwargs: `properties`/`actions` as in `ThingDevice`.
        """
        client = self.client(thing)
        return ThingDevice(client.td, client, name=thing if name is None else name, **kwargs)

    async def close(self) -> None:
        """Close the clients' connections (in the event loop that used them)."""
        for client in self._clients.values():
            await client.close()
