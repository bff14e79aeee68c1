"""ophyd-async Signals of a Thing's properties, and of its actions' outputs.

`PropertyBackend` is the `SignalBackend` of one value of a property: the whole property,
or one field of an object property (``position`` → ``x``, ``y``, ``z``). Reads and
writes go over HTTP; subscriptions (`set_callback`, used by `subscribe`, `stage`,
`observe_value`...) are fed by the Thing's WebSocket, the current value coming first
from one HTTP read.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from bluesky.protocols import Reading
from event_model import DataKey
from ophyd_async.core import (
    DEFAULT_TIMEOUT,
    Callback,
    SignalBackend,
    SignalMetadata,
    SignalR,
    SignalRW,
    SignalW,
    SoftSignalBackend,
    make_datakey,
)

from .client import ThingClient
from .td import ActionAffordance, PropertyAffordance, Value, ValueTree

log = logging.getLogger(__name__)

Path = tuple[str, ...]


def leaf(tree: ValueTree, path: Path) -> Value:
    """The `Value` at `path` in a schema's value tree."""
    node: ValueTree = tree
    for key in path:
        if not isinstance(node, dict) or key not in node:
            raise KeyError(f"no field {'.'.join(path)!r} in the schema")
        node = node[key]
    if not isinstance(node, Value):
        raise KeyError(f"{'.'.join(path)!r} is an object, not a value")
    return node


def _metadata(value: Value) -> SignalMetadata:
    metadata = SignalMetadata()
    if value.units is not None:
        metadata["units"] = value.units
    if value.limits is not None:
        metadata["limits"] = value.limits
    if value.choices is not None:
        metadata["choices"] = list(value.choices)
    return metadata


def _datakey(value: Value, current: Any, source: str) -> DataKey:
    datakey = make_datakey(value.datatype, current, source, _metadata(value))
    if value.media_type is not None:
        datakey["media_type"] = value.media_type  # type: ignore[typeddict-unknown-key]
    return datakey


def _placeholder(value: Value) -> Any:
    """A value of a scalar `Value`'s datatype, enough to describe it (None if not scalar)."""
    return value.datatype() if value.datatype in (bool, int, float, str) else None


class PropertyBackend(SignalBackend[Any]):
    """The backend of a Signal carrying property `prop`'s value at `path`.

    :param client: The Thing's client.
    :param prop: The property.
    :param path: The field of an object property (empty: the whole value).

    Writing a field of an object property reads the whole value, changes the field and
    writes it back. A subscription to a property that is not observable gets its value
    when subscribing and then whenever the Signal is read (uncached): nothing polls it.
    """

    def __init__(self, client: ThingClient, prop: PropertyAffordance, path: Path = ()) -> None:
        self.client = client
        self.prop = prop
        self.path = path
        self.value = leaf(prop.values, path)
        self._reading: Reading[Any] | None = None
        self._setpoint: Any = None
        self._callback: Callback[Reading[Any]] | None = None
        self._subscribing: asyncio.Task[None] | None = None
        self._heard = 0
        super().__init__(self.value.datatype)

    def source(self, name: str, read: bool) -> str:
        fragment = "#/" + "/".join(self.path) if self.path else ""
        return self.prop.href + fragment

    async def connect(self, timeout: float) -> None:
        await self.client.connect(timeout)

    def _to_reading(self, whole: Any) -> Reading[Any]:
        raw = whole
        for key in self.path:
            raw = raw[key]
        value = self.value.decode(raw, self.client.td.base)
        reading = Reading(
            value=value, timestamp=time.time(), alarm_severity=self.value.severity(value)
        )
        self._reading = reading
        return reading

    async def get_reading(self) -> Reading[Any]:
        reading = self._to_reading(await self.client.read_property(self.prop.name))
        if self._callback is not None and not self.prop.observable:
            # Nothing else refreshes a subscription to an unobservable property.
            self._callback(reading)
        return reading

    async def get_value(self) -> Any:
        return (await self.get_reading())["value"]

    async def get_setpoint(self) -> Any:
        return self._setpoint if self._setpoint is not None else await self.get_value()

    async def put(self, value: Any) -> None:
        if value is None:
            raise ValueError(f"{self.prop.name}: a property needs a value to be written")
        encoded = self.value.encode(value)
        if self.path:
            whole = await self.client.read_property(self.prop.name)
            node = whole
            for key in self.path[:-1]:
                node = node[key]
            node[self.path[-1]] = encoded
            encoded = whole
        await self.client.write_property(self.prop.name, encoded)
        self._setpoint = value

    async def get_datakey(self, source: str) -> DataKey:
        if self._reading is not None:
            current = self._reading["value"]
        elif (current := _placeholder(self.value)) is None:
            current = await self.get_value()
        return _datakey(self.value, current, source)

    def set_callback(self, callback: Callback[Reading[Any]] | None) -> None:
        if callback is None:
            if self._subscribing is not None:
                self._subscribing.cancel()
                self._subscribing = None
            self.client.unobserve_property(self.prop.name, self._on_change)
            self._callback = None
            return
        if self._callback is not None:
            raise RuntimeError(f"{self.source('', True)} already has a callback")
        self._callback = callback
        self._subscribing = asyncio.get_running_loop().create_task(self._subscribe())

    async def _subscribe(self) -> None:
        """Observe the property, then give the callback its current value.

        The HTTP read is only delivered if no change arrived since the subscription
        began: a change arriving means the WebSocket will deliver the newest value.
        """
        heard = self._heard
        try:
            if self.prop.observable:
                await self.client.observe_property(self.prop.name, self._on_change)
            whole = await self.client.read_property(self.prop.name)
        except Exception:
            log.exception("subscribing to %s failed", self.source("", True))
            return
        if self._heard == heard and self._callback is not None:
            self._callback(self._to_reading(whole))

    def _on_change(self, whole: Any) -> None:
        self._heard += 1
        if self._callback is not None:
            self._callback(self._to_reading(whole))


def property_signal(
    client: ThingClient,
    prop: PropertyAffordance,
    path: Path = (),
    name: str = "",
    timeout: float = DEFAULT_TIMEOUT,
) -> SignalR[Any] | SignalW[Any]:
    """A Signal of property `prop` (at field `path`): a `SignalR` for a read-only
    property, a `SignalW` for a write-only one and a `SignalRW` otherwise."""
    backend = PropertyBackend(client, prop, path)
    if prop.read_only:
        return SignalR(backend, timeout=timeout, name=name)
    if prop.write_only:
        return SignalW(backend, timeout=timeout, name=name)
    return SignalRW(backend, timeout=timeout, name=name)


class OutputBackend(SoftSignalBackend[Any]):
    """The soft backend of a Signal holding a value of an action's last output; it
    describes itself from the TD (units, limits, and a blob's ``media_type``)."""

    def __init__(self, action: ActionAffordance, value: Value, path: Path = ()) -> None:
        self.action = action
        self.value = value
        self.path = path
        super().__init__(value.datatype, initial_value=None, units=value.units)

    def source(self, name: str, read: bool) -> str:
        return self.action.href + "#output" + "".join(f"/{key}" for key in self.path)

    async def get_datakey(self, source: str) -> DataKey:
        return _datakey(self.value, self.reading["value"], source)

    def set_output(self, output: Any, base: str) -> None:
        """Take the field at `path` of an invocation's `output` (JSON)."""
        raw = output
        for key in self.path:
            raw = raw.get(key) if isinstance(raw, Mapping) else None
        if raw is None and not self.value.nullable and self.value.kind == "plain":
            return  # an optional field the output left out
        self.set_value(self.value.decode(raw, base))


def output_backends(action: ActionAffordance) -> dict[Path, OutputBackend]:
    """One soft backend per value of `action`'s output, by path (``()`` for a whole
    scalar or blob output); none for an action without output."""
    tree = action.outputs
    backends: dict[Path, OutputBackend] = {}

    def walk(node: ValueTree, path: Path) -> None:
        if isinstance(node, Value):
            backends[path] = OutputBackend(action, node, path)
        else:
            for key, child in node.items():
                walk(child, (*path, key))

    if tree is not None:
        walk(tree, ())
    return backends
