"""A Thing's actions as Bluesky devices: triggerable, movable and stoppable.

`ThingAction` invokes one TD action. ``trigger()`` invokes it with its preset
`arguments` (a camera's ``capture``), ``set(value)`` with `value` (a stage's ``move_to``
with ``{"x": ..., "y": ..., "z": ...}``, or a bare value for a one-argument action); the
status completes when the invocation ends, fails with the server's reason
(`ActionFailed`, the invocation's ``error.detail``), and ``stop()`` cancels it on the
server. Its last output is readable: each value of the output schema is a Signal, a blob
(``{"href", "media_type"}``) being its absolute ``href``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from bluesky.protocols import Movable, Stoppable, Triggerable
from ophyd_async.core import (
    AsyncStatus,
    SignalR,
    StandardReadable,
    StandardReadableFormat,
)

from ._names import attribute_name
from .client import ThingClient
from .invocation import Invocation
from .signals import output_backends
from .td import ActionAffordance


class ThingAction(StandardReadable, Triggerable, Movable[Any], Stoppable):
    """One action of a Thing, as a triggerable, movable, stoppable and readable device.

    :param client: The Thing's client.
    :param action: The action.
    :param arguments: What ``trigger()`` invokes the action with.
    :param name: The device's name.

    Reading it gives the output of the last invocation that completed: a scalar or blob
    output under the device's own name, an object's fields as ``{name}-{field}``.
    """

    def __init__(
        self,
        client: ThingClient,
        action: ActionAffordance,
        arguments: Mapping[str, Any] | None = None,
        name: str = "",
    ) -> None:
        self.client = client
        self.action = action
        self.arguments: dict[str, Any] = dict(arguments or {})
        #: The latest invocation this device started.
        self.invocation: Invocation | None = None
        self._running: set[Invocation] = set()
        self._backends = output_backends(action)
        #: The Signals of the output's values, by path in the output (``()``: all of it).
        self.outputs: dict[tuple[str, ...], SignalR[Any]] = {}
        for path, backend in self._backends.items():
            signal = SignalR(backend)
            numeric = backend.value.datatype in (int, float)
            fmt = StandardReadableFormat.HINTED_SIGNAL if numeric else StandardReadableFormat.CHILD
            with self.add_children_as_readables(fmt):
                setattr(self, attribute_name(self, "_".join(path) or "output"), signal)
            self.outputs[path] = signal
        super().__init__(name=name)

    def set_name(self, name: str, *, child_name_separator: str | None = None) -> None:
        super().set_name(name, child_name_separator=child_name_separator)
        # A scalar (or blob) output reads under the device's own name.
        if (whole := self.outputs.get(())) is not None:
            whole.set_name(name)

    async def invoke(self, arguments: Mapping[str, Any] | None = None) -> Invocation:
        """Start an invocation with `arguments` (this device's `arguments` if None) and
        return it without waiting for its end (`stop` cancels it too).

        :raises ActionFailed: the server refused to start it.
        """
        invocation = await self.client.invoke(
            self.action.name, self.arguments if arguments is None else arguments
        )
        self._started(invocation)
        return invocation

    async def _run(self, arguments: Mapping[str, Any], timeout: float | None) -> Any:
        output = await self.client.run(
            self.action.name, arguments, timeout=timeout, started=self._started
        )
        for backend in self._backends.values():
            backend.set_output(output, self.client.td.base)
        return output

    def _started(self, invocation: Invocation) -> None:
        self.invocation = invocation
        self._running = {i for i in self._running if not i.done} | {invocation}

    @AsyncStatus.wrap
    async def trigger(self) -> Any:
        """Invoke the action with `arguments`; done when the invocation has ended."""
        return await self._run(self.arguments, None)

    def arguments_for(self, value: Any) -> dict[str, Any]:
        """The arguments ``set(value)`` invokes with: `value` itself if it is a mapping,
        else `value` as the action's one argument."""
        if isinstance(value, Mapping):
            return dict(value)
        names = list(self.action.arguments)
        if not names:
            raise TypeError(f"{self.action.name} takes no arguments: trigger() it")
        if len(names) != 1:
            raise TypeError(f"{self.action.name} takes {names}: set() it to a mapping of them")
        return {names[0]: value}

    @AsyncStatus.wrap
    async def set(self, value: Any, timeout: float | None = None) -> Any:
        """Invoke the action with `value` (see `arguments_for`); done when it has ended.

        :param timeout: Cancel the invocation if it has not ended within this many seconds
            (by default it may take as long as it takes).
        """
        return await self._run(self.arguments_for(value), timeout)

    async def stop(self, success: bool = True) -> None:
        """Cancel the invocations this device started that are still going.

        Their statuses then fail with `ActionCancelled` (the server's reason).
        """
        running = [i for i in self._running if not i.done]
        await asyncio.gather(*(invocation.cancel() for invocation in running))
