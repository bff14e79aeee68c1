"""Action invocations on a labthings server, followed over the WebSocket.

An `Invocation` is the client's view of one ``POST {thing}/{action}``: its record is
updated from the ``actionStatus`` messages of the Thing's WebSocket, so waiting for it
to end never polls.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

#: The order of an invocation's states: a record never goes back (a late ``pending``
#: message does not undo a ``running`` one the HTTP response already gave).
_RANK = {"pending": 0, "running": 1, "completed": 2, "error": 2, "cancelled": 2}
FINAL = frozenset({"completed", "error", "cancelled"})


class LabThingsError(RuntimeError):
    """A request the server refused, or an action that failed: carries its reason.

    :param detail: The server's reason (the problem's ``detail``).
    :param status: The HTTP status, where there is one.
    :param doing: What was refused (``"writing exposure_ms"``), to prefix the message.
    """

    def __init__(self, detail: str, status: int | None = None, doing: str = "") -> None:
        super().__init__(f"{doing}: {detail}" if doing else detail)
        self.detail = detail
        self.status = status


class ActionFailed(LabThingsError):
    """An invocation that ended in ``error`` (or could not be started): its ``detail``
    (and message) is the server's reason, the invocation's ``error.detail``."""

    def __init__(
        self,
        detail: str,
        invocation: Invocation | None = None,
        status: int | None = None,
        doing: str = "",
    ) -> None:
        super().__init__(detail, status, doing)
        self.invocation = invocation


class ActionCancelled(ActionFailed):
    """An invocation that ended ``cancelled``."""


def problem_detail(body: Any, fallback: str) -> str:
    """The ``detail`` of an RFC 9457 problem (or of a LabThings ``error``), else `fallback`."""
    if isinstance(body, Mapping):
        detail = body.get("detail") or body.get("title")
        if isinstance(detail, str) and detail:
            return detail
        if isinstance(detail, list):  # FastAPI's validation errors
            return "; ".join(str(d.get("msg", d)) for d in detail)
    return fallback


class Invocation:
    """One invocation of an action: its latest record, and a way to wait for its end.

    :param record: The invocation record the server answered the ``POST`` with.
    :param cancel: How to ask the server to cancel it, given its ``href`` (or id):
        ``DELETE`` its record.
    """

    def __init__(self, record: Mapping[str, Any], cancel: Callable[[str], Awaitable[None]]) -> None:
        self.id: str = record["id"]
        self.href: str = record.get("href", "")
        self.record: dict[str, Any] = dict(record)
        self._cancel = cancel
        self._cancel_requested = False
        self._changed = asyncio.Event()
        self._ended = asyncio.Event()
        self._lost: BaseException | None = None
        if self.status in FINAL:
            self._ended.set()

    def __repr__(self) -> str:
        return f"<Invocation {self.id} {self.status}>"

    @property
    def status(self) -> str:
        """``pending``, ``running``, ``completed``, ``error`` or ``cancelled``."""
        return str(self.record.get("status", "pending"))

    @property
    def done(self) -> bool:
        """Whether the invocation has ended (or the connection following it was lost)."""
        return self._ended.is_set()

    @property
    def progress(self) -> float | None:
        """The progress the action last reported, in percent."""
        return self.record.get("progress")

    @property
    def output(self) -> Any:
        """The action's output, once completed."""
        return self.record.get("output")

    @property
    def error_detail(self) -> str:
        """The server's reason for an ``error`` or ``cancelled`` end."""
        return problem_detail(self.record.get("error"), f"the invocation ended {self.status}")

    def update(self, record: Mapping[str, Any]) -> None:
        """Take a newer record (an ``actionStatus`` message's data); never go back."""
        if self.done:
            return
        if _RANK.get(str(record.get("status")), -1) < _RANK.get(self.status, 0):
            return
        logged = self.record.get("logged", []) + list(record.get("logged", []))
        self.record.update(record)
        self.record["logged"] = logged
        self._changed.set()
        self._changed = asyncio.Event()
        if self.status in FINAL:
            self._ended.set()

    def lose(self, error: BaseException) -> None:
        """The connection following the invocation is gone: waiting raises `error`."""
        if not self.done:
            self._lost = error
            self._ended.set()
            self._changed.set()

    async def wait_for(self, predicate: Callable[[Invocation], bool]) -> None:
        """Wait until `predicate(self)` holds, or the invocation has ended."""
        while not predicate(self) and not self.done:
            await self._changed.wait()

    async def wait(self) -> Any:
        """Wait for the end: return the output, or raise the server's reason.

        :raises ActionFailed: it ended in ``error`` (``detail`` is ``error.detail``).
        :raises ActionCancelled: it was cancelled.
        :raises ConnectionError: the WebSocket following it closed first.
        """
        await self._ended.wait()
        if self._lost is not None:
            raise self._lost
        if self.status == "completed":
            return self.output
        kind = ActionCancelled if self.status == "cancelled" else ActionFailed
        raise kind(self.error_detail, self)

    async def cancel(self) -> None:
        """Ask the server to cancel the invocation (once; a no-op once it has ended).

        Returns when the server has taken the request; `wait` tells when it took effect.
        """
        if self.done or self._cancel_requested:
            return
        self._cancel_requested = True
        await self._cancel(self.href or self.id)

    async def outcome(self, timeout: float | None = None, cancel_timeout: float = 10.0) -> Any:
        """`wait` for the end, and cancel the invocation on the server if this is cancelled.

        When the awaiting task is cancelled (a Bluesky ``stop``, a timeout, an abort), the
        invocation is cancelled too and, for up to `cancel_timeout` seconds, its end is
        awaited before the cancellation goes on: the status of a stopped move completes
        once the device has stopped.

        :param timeout: Give up (and cancel the invocation) after this many seconds.
        """
        try:
            return await asyncio.wait_for(self.wait(), timeout)
        except (asyncio.CancelledError, TimeoutError) as stopped:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._cancel_and_end()), cancel_timeout)
            if isinstance(stopped, TimeoutError):
                raise TimeoutError(
                    f"{self.href or self.id} did not end within {timeout:.3g} s: cancelled"
                ) from None
            raise

    async def _cancel_and_end(self) -> None:
        await self.cancel()
        await self._ended.wait()
