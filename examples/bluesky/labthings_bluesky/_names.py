"""Attribute names for the children made from a TD's affordances."""

from __future__ import annotations

import keyword
import re

#: Names Bluesky's protocols give meaning to: ophyd-async refuses them as attributes.
_VERBS = frozenset(
    {
        "name", "parent", "collect_asset_docs", "get_index", "read_configuration",
        "describe_configuration", "trigger", "prepare", "read", "describe",
        "describe_collect", "collect", "collect_pages", "set", "locate", "kickoff",
        "complete", "stage", "unstage", "pause", "resume", "stop", "subscribe",
        "clear_sub", "check_value", "hints",
    }
)  # fmt: skip


def attribute_name(owner: object, name: str) -> str:
    """A Python identifier for `name` that `owner` does not use yet: non-word characters
    become ``_``, and ``_`` is appended while it clashes (``stop`` → ``stop_``)."""
    attr = re.sub(r"\W", "_", name) or "_"
    if attr[0].isdigit():
        attr = f"_{attr}"
    if keyword.iskeyword(attr):
        attr += "_"
    while attr in _VERBS or hasattr(owner, attr):
        attr += "_"
    return attr
