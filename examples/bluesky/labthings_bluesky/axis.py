"""One axis of a Thing as a motor: an action that moves, a property that says where.

``ActionAxis(stage, "z")`` is a Bluesky motor (an ophyd-async `StandardMovable`): its
``set(z)`` invokes ``stage.move_to`` with the other coordinates as the stage's
``position`` has them and ``z`` changed; its readback is ``position``'s ``z``, observed
over the WebSocket (units and limits from the TD); ``stop()`` cancels the move.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ophyd_async.core import (
    DEFAULT_TIMEOUT,
    MovableLogic,
    SignalR,
    StandardMovable,
    StandardReadable,
    StandardReadableFormat,
    TimeoutCalculator,
    soft_signal_rw,
    wait_for_value,
)

from .client import ThingClient
from .device import ThingDevice
from .invocation import Invocation
from .signals import PropertyBackend, leaf


@dataclass
class ActionMoveLogic(MovableLogic[Any]):
    """How an `ActionAxis` moves: invoke `action` with the `argument` changed.

    The action's other arguments are taken from the property's current value (its
    fields of the same names). The move is done when the invocation has ended and the
    readback has reached where the action says it went (its output's field, or the
    target).
    """

    client: ThingClient = field(repr=False, kw_only=True)
    action: str = field(kw_only=True)
    property_name: str = field(kw_only=True)
    path: tuple[str, ...] = field(kw_only=True)
    argument: str = field(kw_only=True)
    #: The invocation of the current (or last) move.
    invocation: Invocation | None = field(default=None, kw_only=True)
    #: Called with each move's invocation once the server has started it.
    invocation_callbacks: list[Callable[[Invocation], None]] = field(
        default_factory=list, kw_only=True
    )

    async def move(self, new_position: Any, timeout: TimeoutCalculator) -> None:
        value = leaf(self.client.td.properties[self.property_name].values, self.path)
        arguments = self.client.td.actions[self.action].arguments
        current = await self.client.read_property(self.property_name)
        values = dict(current) if isinstance(current, dict) else {}
        request = {k: values[k] for k in arguments if k in values and k != self.argument}
        request[self.argument] = value.encode(new_position)
        await self.setpoint.set(new_position)
        output = await self.client.run(
            self.action, request, timeout=timeout(), started=self._started
        )
        # Where the action says the axis went (its output has the property's shape).
        reached = output
        for key in self.path:
            reached = reached.get(key) if isinstance(reached, dict) else None
        target = new_position if reached is None else value.decode(reached)
        # The readback's WebSocket messages may trail the action's end by a little.
        await wait_for_value(self.readback, target, timeout=DEFAULT_TIMEOUT)

    def _started(self, invocation: Invocation) -> None:
        self.invocation = invocation
        for callback in list(self.invocation_callbacks):
            callback(invocation)

    async def stop(self) -> None:
        """Nothing to do before `StandardMovable.stop` cancels the move's task: that
        cancels the invocation on the server, and the move's status ends when it has."""


class ActionAxis(StandardReadable, StandardMovable[Any]):
    """An axis of a Thing as a motor: ``set(value)`` invokes `action` with `argument`
    set to `value` and the other arguments kept; the readback is field `field` of
    property `property`.

    :param thing: The Thing's device (its client and TD are used).
    :param field: The field of the property that is this axis (``"z"``), or a path of
        fields for a nested object (``("stage", "z")``).
    :param action: The action that moves (``move_to``).
    :param property: The property that says where the Thing is (``position``).
    :param argument: The action's argument for this axis (`field`'s last name by default).
    :param name: The device's name; its readback reads under this name.
    """

    def __init__(
        self,
        thing: ThingDevice,
        field: str | tuple[str, ...],
        action: str = "move_to",
        property: str = "position",
        argument: str | None = None,
        name: str = "",
    ) -> None:
        path = (field,) if isinstance(field, str) else tuple(field)
        td = thing.td
        if action not in td.actions or property not in td.properties:
            raise KeyError(f"{td.url} has no action {action!r} or no property {property!r}")
        argument = path[-1] if argument is None else argument
        missing = (
            set(td.actions[action].required)
            - {argument}
            - set(_fields(td.properties[property].values))
        )
        if argument not in td.actions[action].arguments or missing:
            raise ValueError(
                f"{action} cannot be invoked from {property}'s fields and {argument!r}"
            )
        self._client = thing.client
        self._action, self._property, self._path, self._argument = (
            action,
            property,
            path,
            argument,
        )
        backend = PropertyBackend(thing.client, td.properties[property], path)
        with self.add_children_as_readables(StandardReadableFormat.HINTED_SIGNAL):
            self.readback = SignalR(backend)
        self.setpoint = soft_signal_rw(backend.value.datatype, units=backend.value.units)
        super().__init__(name=name)

    @cached_property
    def movable_logic(self) -> ActionMoveLogic:
        return ActionMoveLogic(
            setpoint=self.setpoint,
            readback=self.readback,
            client=self._client,
            action=self._action,
            property_name=self._property,
            path=self._path,
            argument=self._argument,
        )

    @property
    def invocation(self) -> Invocation | None:
        """The invocation of the current (or last) move."""
        return self.movable_logic.invocation

    def add_invocation_callback(self, callback: Callable[[Invocation], None]) -> None:
        """Call `callback(invocation)` when each move's invocation has been started
        (e.g. to follow its progress, or cancel it)."""
        self.movable_logic.invocation_callbacks.append(callback)

    def remove_invocation_callback(self, callback: Callable[[Invocation], None]) -> None:
        """Stop calling a callback given to `add_invocation_callback`."""
        self.movable_logic.invocation_callbacks.remove(callback)


def _fields(tree: Any) -> list[str]:
    return list(tree) if isinstance(tree, dict) else []
