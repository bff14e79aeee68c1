"""Reading a W3C Thing Description (TD) served by a labthings server.

Only what the Bluesky side needs is kept: each property's and action's absolute HTTP
URL, its flags, and its JSON schema turned into a tree of *values* (`Value`): the
scalars and arrays that ophyd-async Signals can carry, with their units and limits.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import numpy as np
from event_model import Limits, LimitsRange
from ophyd_async.core import Array1D, get_dtype

JsonSchema = Mapping[str, Any]

#: The bounds a JSON schema's integer ``format`` implies; a ``minimum``/``maximum`` equal
#: to them says nothing about the device, so it does not become a limit.
_FORMAT_BOUNDS: dict[str, tuple[int, int]] = {
    f"{sign}int{bits}": (
        (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if sign == "" else (0, 2**bits - 1)
    )
    for sign in ("", "u")
    for bits in (8, 16, 32, 64)
}

_SCALARS: dict[str, type] = {"boolean": bool, "integer": int, "number": float, "string": str}
_ARRAYS: dict[str, Any] = {
    "boolean": Array1D[np.bool_],
    "integer": Array1D[np.int64],
    "number": Array1D[np.float64],
}


@dataclass(frozen=True)
class Value:
    """One value a Signal carries: a leaf of a property's or an action output's schema.

    :param datatype: The ophyd-async datatype of the Signal (`int`, `float`,
        `Array1D[np.float64]`, `Sequence[str]`, ...).
    :param kind: How JSON maps to the Signal's value: ``"plain"`` (as is, converted to
        `datatype`), ``"blob"`` (a blob link ``{"href", "media_type"}``, carried as its
        absolute ``href``) or ``"json"`` (any other schema, carried as JSON text).
    :param units: The TD's ``unit`` for it (inherited from the enclosing object).
    :param limits: Its ``minimum``/``maximum`` as control limits, and labthings'
        ``lt:warning``/``lt:alarm`` ranges as warning/alarm limits.
    :param choices: The allowed strings of an enumeration.
    :param media_type: For a blob, the media type its schema promises.
    :param nullable: Whether the schema allows ``null``: only for floats, which read it as
        NaN (other nullable schemas are carried as JSON).
    """

    datatype: Any
    kind: str = "plain"
    units: str | None = None
    limits: Limits | None = None
    choices: tuple[str, ...] | None = None
    media_type: str | None = None
    nullable: bool = False

    def decode(self, value: Any, base: str = "") -> Any:
        """Turn a JSON value from the server into the Signal's value."""
        if self.kind == "json":
            return json.dumps(value)
        if self.kind == "blob":
            href = value.get("href", "") if isinstance(value, Mapping) else ""
            return urljoin(base, href) if href else ""
        if value is None and self.nullable:
            return math.nan  # only floats are nullable (others are carried as JSON)
        if self.datatype in (bool, int, float, str):
            return self.datatype(value)
        if self.datatype == Sequence[str]:
            return [str(v) for v in value]
        return np.asarray(value, dtype=get_dtype(self.datatype))

    def encode(self, value: Any) -> Any:
        """Turn a Signal's value into the JSON value to send to the server."""
        if self.kind == "json":
            return json.loads(value) if isinstance(value, str) else value
        if self.kind == "blob":
            return {"href": str(value)}
        if isinstance(value, np.ndarray):
            return value.tolist()
        if isinstance(value, np.generic):
            return value.item()
        if self.datatype is int and isinstance(value, float):
            return round(value)  # a scan's points are floats: the nearest integer
        if self.datatype in (bool, int, float, str):
            return self.datatype(value)
        return list(value)

    def severity(self, value: Any) -> int:
        """The alarm severity of `value`: 0 fine, 1 in warning (minor), 2 in alarm (major)."""
        if self.limits is None or not isinstance(value, int | float) or isinstance(value, bool):
            return 0
        for severity, band in ((2, self.limits.get("alarm")), (1, self.limits.get("warning"))):
            if band and not _within(value, band):
                return severity
        return 0


#: A schema as a tree: a `Value`, or an object's fields by name.
ValueTree = Value | dict[str, "ValueTree"]


def _within(value: float, band: LimitsRange) -> bool:
    low, high = band.get("low"), band.get("high")
    return (low is None or value >= low) and (high is None or value <= high)


def _range(schema: JsonSchema) -> LimitsRange | None:
    low, high = schema.get("minimum"), schema.get("maximum")
    bounds = _FORMAT_BOUNDS.get(schema.get("format", ""))
    if bounds is not None:
        low = None if low == bounds[0] else low
        high = None if high == bounds[1] else high
    if low is None and high is None:
        return None
    return LimitsRange(low=low, high=high)


def _limits(schema: JsonSchema) -> Limits | None:
    limits = Limits()
    if control := _range(schema):
        limits["control"] = control
    for key in ("warning", "alarm"):
        if isinstance(band := schema.get(f"lt:{key}"), Mapping) and (r := _range(band)):
            limits[key] = r
    return limits or None


def _is_blob(schema: JsonSchema) -> bool:
    fields = schema.get("properties")
    return (
        schema.get("type") == "object"
        and isinstance(fields, Mapping)
        and "href" in fields
        and "media_type" in fields
    )


def _types(schema: JsonSchema) -> tuple[str | None, bool]:
    """The schema's one non-null JSON type (or None), and whether it allows null."""
    kinds = schema.get("type")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds or [])
    nullable = "null" in kinds
    kinds = [k for k in kinds if k != "null"]
    return (kinds[0] if len(kinds) == 1 else None), nullable


def _unnull(schema: JsonSchema) -> JsonSchema | None:
    """schemars' ``Option<T>``, ``{"anyOf": [T, {"type": "null"}]}``, as T allowing null."""
    alternatives = schema.get("anyOf")
    if "type" in schema or not isinstance(alternatives, list):
        return None
    rest = [a for a in alternatives if a.get("type") != "null"]
    if len(rest) != 1 or len(rest) == len(alternatives) or not isinstance(rest[0].get("type"), str):
        return None
    outer = {k: v for k, v in schema.items() if k != "anyOf"}
    return {**outer, **rest[0], "type": [rest[0]["type"], "null"]}


def _choices(schema: JsonSchema) -> tuple[str, ...] | None:
    """The strings an enumeration allows (``enum``, or a ``oneOf`` of constants)."""
    if isinstance(enum := schema.get("enum"), list) and all(isinstance(e, str) for e in enum):
        return tuple(enum)
    alternatives = schema.get("oneOf")
    if isinstance(alternatives, list) and alternatives:
        consts = [a.get("const") for a in alternatives]
        if all(isinstance(c, str) for c in consts):
            return tuple(consts)
    return None


def value_tree(schema: JsonSchema | None, units: str | None = None) -> ValueTree | None:
    """Turn a JSON schema into Signal values: one `Value`, or a dict for an object.

    Objects with declared ``properties`` become a dict of their fields (recursively; a
    field without a ``unit`` of its own inherits `units`), blob links become their
    ``href``, scalars and arrays of scalars map to ophyd-async datatypes, and anything
    else is carried as JSON text. Returns None for an absent schema (no value at all).
    """
    if schema is None:
        return None
    if (unnulled := _unnull(schema)) is not None:
        return value_tree(unnulled, units)
    units = schema.get("unit", units)
    if _is_blob(schema):
        media = schema["properties"]["media_type"].get("const")
        return Value(str, kind="blob", media_type=media)
    kind, nullable = _types(schema)
    choices = _choices(schema)
    if kind is None and choices is not None:
        kind = "string"
    fields = schema.get("properties")
    if kind == "object" and isinstance(fields, Mapping) and fields:
        return {name: value_tree(sub, units) for name, sub in fields.items()}  # type: ignore[misc]
    if kind in _SCALARS and not (nullable and kind != "number"):
        return Value(
            _SCALARS[kind],
            units=units,
            limits=_limits(schema),
            choices=choices if kind == "string" else None,
            nullable=nullable,
        )
    if kind == "array" and not nullable:
        item_kind, item_nullable = _types(schema.get("items") or {})
        if item_kind == "string" and not item_nullable:
            return Value(Sequence[str], units=units)
        if item_kind in _ARRAYS and not item_nullable:
            return Value(_ARRAYS[item_kind], units=units)
    return Value(str, kind="json", units=units)


#: The operations of a form without ``op`` (the TD's defaults).
_DEFAULT_OPS = ("readproperty", "writeproperty", "invokeaction")


def _http_href(forms: Sequence[Mapping[str, Any]], op: str, base: str) -> str | None:
    """The absolute URL of the first plain HTTP form (no subprotocol) offering `op`."""
    for form in forms:
        ops = form.get("op", _DEFAULT_OPS)
        ops = [ops] if isinstance(ops, str) else ops
        href = urljoin(base, form.get("href", ""))
        if op in ops and "subprotocol" not in form and href.startswith("http"):
            return href
    return None


@dataclass(frozen=True)
class PropertyAffordance:
    """A TD property: its name, schema, flags and HTTP URL."""

    name: str
    schema: JsonSchema
    href: str
    read_only: bool
    write_only: bool
    observable: bool
    title: str = ""

    @property
    def values(self) -> ValueTree:
        """The property's schema as Signal values."""
        tree = value_tree(self.schema)
        assert tree is not None
        return tree

    @property
    def streamed(self) -> bool:
        """Whether the property is a media stream (e.g. MJPEG), not a JSON value."""
        return "contentMediaType" in self.schema


@dataclass(frozen=True)
class ActionAffordance:
    """A TD action: its name, input and output schemas, and HTTP URL."""

    name: str
    href: str
    input: JsonSchema | None
    output: JsonSchema | None
    title: str = ""

    @property
    def arguments(self) -> dict[str, JsonSchema]:
        """The action's named arguments (the fields of its object input)."""
        return dict((self.input or {}).get("properties", {}))

    @property
    def required(self) -> list[str]:
        """The names of the arguments the action needs."""
        return list((self.input or {}).get("required", []))

    @property
    def outputs(self) -> ValueTree | None:
        """The action's output as Signal values (None if it returns nothing)."""
        return value_tree(self.output)


@dataclass(frozen=True)
class ThingDescription:
    """The parts of a TD that `labthings_bluesky` uses.

    :param url: Where the TD was read from (``{server}/{thing}/``); the LabThings
        WebSocket of the Thing is ``{url}ws``.
    """

    url: str
    id: str
    title: str
    base: str
    properties: dict[str, PropertyAffordance] = field(default_factory=dict)
    actions: dict[str, ActionAffordance] = field(default_factory=dict)

    @property
    def ws_url(self) -> str:
        """The Thing's WebSocket, spoken in the LabThings dialect: ``{thing}/ws``."""
        scheme, netloc, path, _, _ = urlsplit(self.url)
        path = path if path.endswith("/") else path + "/"
        return urlunsplit(("wss" if scheme == "https" else "ws", netloc, path + "ws", "", ""))

    @classmethod
    def parse(cls, td: Mapping[str, Any], url: str) -> ThingDescription:
        """Read a TD (as JSON) that was fetched from `url`."""
        base = td.get("base") or url
        properties: dict[str, PropertyAffordance] = {}
        for name, p in td.get("properties", {}).items():
            forms = p.get("forms", [])
            href = _http_href(forms, "readproperty", base) or _http_href(
                forms, "writeproperty", base
            )
            if href is None:
                continue
            schema = {k: v for k, v in p.items() if k != "forms"}
            properties[name] = PropertyAffordance(
                name=name,
                schema=schema,
                href=href,
                read_only=bool(p.get("readOnly", False)),
                write_only=bool(p.get("writeOnly", False)),
                observable=bool(p.get("observable", False)),
                title=p.get("title", ""),
            )
        actions: dict[str, ActionAffordance] = {}
        for name, a in td.get("actions", {}).items():
            href = _http_href(a.get("forms", []), "invokeaction", base)
            if href is None:
                continue
            actions[name] = ActionAffordance(
                name=name,
                href=href,
                input=a.get("input"),
                output=a.get("output"),
                title=a.get("title", ""),
            )
        return cls(
            url=url,
            id=td.get("id", url),
            title=td.get("title", ""),
            base=base,
            properties=properties,
            actions=actions,
        )
