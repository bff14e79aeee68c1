"""A connection to one Thing of a labthings server: HTTP for requests, one WebSocket
for what changes.

Properties are read and written and actions invoked and cancelled over HTTP
(LabThings-FastAPI's protocol). The Thing's WebSocket, in the LabThings dialect, carries
``propertyStatus`` messages for each change of an observed property and ``actionStatus``
messages for each change of an invocation of an observed action, so nothing is polled.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection

from .invocation import ActionFailed, Invocation, LabThingsError, problem_detail
from .td import ThingDescription

log = logging.getLogger(__name__)

PropertyListener = Callable[[Any], None]

#: How many status records of invocations not (yet) claimed by an `invoke` to keep: the
#: WebSocket may report an invocation before its ``POST`` has been answered.
_UNCLAIMED = 256


class ThingClient:
    """The HTTP and WebSocket client of one Thing, shared by all its Signals and actions.

    Create it anywhere; `connect` it in the event loop that will use it (Bluesky's, when
    it is used by ophyd-async Devices: `Device.connect` does that).

    :param td: The Thing's description.
    :param headers: Extra HTTP headers for every request and the WebSocket (e.g. an
        ``Authorization`` bearer token).
    """

    def __init__(self, td: ThingDescription, headers: Mapping[str, str] | None = None) -> None:
        self.td = td
        self.headers = dict(headers or {})
        self._http: httpx.AsyncClient | None = None
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._connecting: asyncio.Lock | None = None
        self._listeners: defaultdict[str, set[PropertyListener]] = defaultdict(set)
        # Subscriptions made (or being made) on the server: (kind, name) -> its task.
        self._observing: dict[tuple[str, str], asyncio.Task[None]] = {}
        # How many changes of each property the WebSocket has brought.
        self._heard: defaultdict[str, int] = defaultdict(int)
        self._invocations: dict[str, Invocation] = {}
        self._unclaimed: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._replies: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count()
        self._orphans: set[asyncio.Future[None]] = set()

    def __repr__(self) -> str:
        return f"<ThingClient {self.td.url}>"

    @property
    def connected(self) -> bool:
        """Whether the WebSocket is open."""
        return self._reader is not None and not self._reader.done()

    # --- connection -----------------------------------------------------------------

    async def connect(self, timeout: float = 10.0) -> None:
        """Open the HTTP client and the WebSocket (once).

        After the WebSocket was lost, the next call (every request makes one) opens it
        again and observes again the properties that have listeners, giving them their
        current value: what changed meanwhile is not missed. Invocations followed by the
        lost socket have failed with `ConnectionError`.
        """
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self.connected:
                return
            if self._http is None:
                self._http = httpx.AsyncClient(headers=self.headers, timeout=timeout)
            again = self._reader is not None
            self._observing.clear()
            self._ws = await websockets.connect(
                self.td.ws_url,
                additional_headers=self.headers,
                open_timeout=timeout,
                max_size=16 * 2**20,
            )
            self._reader = asyncio.create_task(self._read(self._ws), name=f"ws {self.td.url}")
        if again:
            names = [name for name, listeners in self._listeners.items() if listeners]
            await asyncio.gather(*(self._resubscribe(name) for name in names))

    async def _resubscribe(self, name: str) -> None:
        """Observe property `name` again and give its listeners its current value, unless
        a change arrived meanwhile (the WebSocket then brings the newest)."""
        await self._observe("Property", name)
        heard = self._heard[name]
        value = await self.read_property(name)
        if self._heard[name] == heard:
            self._notify(name, value)

    async def close(self) -> None:
        """Close the WebSocket and the HTTP client."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        if self._ws is not None:
            await self._ws.close()
            self._ws = None
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    @property
    def http(self) -> httpx.AsyncClient:
        """The HTTP client (after `connect`)."""
        if self._http is None:
            raise ConnectionError(f"{self} is not connected")
        return self._http

    # --- the WebSocket --------------------------------------------------------------

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for text in ws:
                try:
                    message = json.loads(text)
                    self._dispatch(message)
                except Exception:
                    log.exception("%s: could not handle the message %.200r", self, text)
        except websockets.ConnectionClosed:
            pass
        finally:
            why = f" ({ws.close_code} {ws.close_reason})" if ws.close_code is not None else ""
            reason = ConnectionError(f"the WebSocket {self.td.ws_url} closed{why}")
            if not asyncio.current_task().cancelling():  # type: ignore[union-attr]
                log.error("%s: %s", self, reason)
            for invocation in self._invocations.values():
                invocation.lose(reason)
            self._invocations.clear()
            for reply in self._replies.values():
                if not reply.done():
                    reply.set_exception(reason)
            self._replies.clear()

    def _dispatch(self, message: Mapping[str, Any]) -> None:
        kind = message.get("messageType")
        data = message.get("data")
        if kind == "propertyStatus" and isinstance(data, Mapping):
            for name, value in data.items():
                self._heard[name] += 1
                self._notify(name, value)
        elif kind == "actionStatus" and isinstance(data, Mapping):
            self._on_action_status(data)
        elif kind == "response":
            reply = self._replies.pop(str(message.get("correlationID")), None)
            if reply is not None and not reply.done():
                reply.set_result(dict(message))
            elif "error" in message:
                log.warning(
                    "%s: %s %s: %s",
                    self,
                    message.get("operation"),
                    message.get("name"),
                    problem_detail(message["error"], "refused"),
                )

    def _notify(self, name: str, value: Any) -> None:
        for listener in list(self._listeners.get(name, ())):
            try:
                listener(value)
            except Exception:
                log.exception("%s: a listener of %r failed", self, name)

    def _on_action_status(self, data: Mapping[str, Any]) -> None:
        id_ = str(data.get("id"))
        invocation = self._invocations.get(id_)
        if invocation is None:
            # Not (yet) ours: keep its latest record for a POST still being answered.
            self._unclaimed[id_] = dict(data)
            self._unclaimed.move_to_end(id_)
            while len(self._unclaimed) > _UNCLAIMED:
                self._unclaimed.popitem(last=False)
            return
        invocation.update(data)
        if invocation.done:
            del self._invocations[id_]

    async def _send(self, message: Mapping[str, Any]) -> None:
        await self.connect()
        assert self._ws is not None
        await self._ws.send(json.dumps(message))

    async def _barrier(self, timeout: float = 5.0) -> None:
        """Return once the server has handled every message sent before.

        The LabThings dialect does not acknowledge a subscription; a Web Thing Protocol
        request (the cheap ``querylease``) on the same socket is answered after the
        messages before it were handled, so it is one. A server that does not answer it
        (LabThings-FastAPI) is given `timeout` seconds.
        """
        correlation = f"labthings-bluesky-{next(self._ids)}"
        reply: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._replies[correlation] = reply
        await self._send(
            {"messageType": "request", "operation": "querylease", "correlationID": correlation}
        )
        try:
            await asyncio.wait_for(reply, timeout)
        except TimeoutError:
            self._replies.pop(correlation, None)
            log.warning("%s: no answer to a querylease: going on", self)

    async def _observe(self, kind: str, name: str) -> None:
        """Subscribe to property (`kind` ``"Property"``) or action ``name`` on the server,
        once; return when the server has taken the subscription."""
        await self.connect()
        key = (kind, name)
        task = self._observing.get(key)
        if task is None or (task.done() and (task.cancelled() or task.exception())):
            # A task of its own, so that a caller cancelled meanwhile cancels no other.
            task = asyncio.create_task(self._add_observation(kind, name))
            self._observing[key] = task
        await asyncio.shield(task)

    async def _add_observation(self, kind: str, name: str) -> None:
        await self._send({"messageType": f"add{kind}Observation", "data": {name: True}})
        await self._barrier()

    # --- properties -----------------------------------------------------------------

    async def observe_property(self, name: str, listener: PropertyListener) -> None:
        """Call `listener(value)` on each change of property `name`, from now on.

        Returns once the server observes the property for this socket.
        """
        self._listeners[name].add(listener)
        try:
            await self._observe("Property", name)
        except BaseException:
            self._listeners[name].discard(listener)
            raise

    def unobserve_property(self, name: str, listener: PropertyListener) -> None:
        """Stop calling `listener` (the dialect cannot unsubscribe on the server)."""
        self._listeners[name].discard(listener)

    async def read_property(self, name: str) -> Any:
        """``GET`` property `name`: its JSON value."""
        await self.connect()
        response = await self.http.get(self.td.properties[name].href)
        return self._json(response, f"reading {name}")

    async def write_property(self, name: str, value: Any) -> None:
        """``PUT`` `value` (JSON) to property `name`."""
        await self.connect()
        response = await self.http.put(self.td.properties[name].href, json=value)
        self._json(response, f"writing {name}")

    @staticmethod
    def _json(response: httpx.Response, doing: str) -> Any:
        body: Any = None
        if response.content:
            with contextlib.suppress(ValueError):
                body = response.json()
        if response.is_error:
            detail = problem_detail(body, response.text or response.reason_phrase)
            raise LabThingsError(detail, response.status_code, doing)
        return body

    # --- actions --------------------------------------------------------------------

    async def invoke(self, name: str, arguments: Mapping[str, Any] | None = None) -> Invocation:
        """``POST`` action `name` with `arguments`; follow the invocation it starts.

        :raises ActionFailed: the server refused to start it (with its reason).
        """
        await self._observe("Action", name)
        response = await self.http.post(self.td.actions[name].href, json=dict(arguments or {}))
        try:
            record = self._json(response, f"invoking {name}")
        except LabThingsError as error:
            raise ActionFailed(
                error.detail, status=error.status, doing=f"invoking {name}"
            ) from None
        invocation = Invocation(record, self.cancel)
        if (early := self._unclaimed.pop(invocation.id, None)) is not None:
            invocation.update(early)
        if not invocation.done:
            self._invocations[invocation.id] = invocation
        return invocation

    async def run(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        started: Callable[[Invocation], None] | None = None,
    ) -> Any:
        """Invoke action `name` and wait for its end: its output, or its reason raised.

        Cancelling the caller cancels the invocation on the server (see
        `Invocation.outcome`), also when that happens while the ``POST`` is under way.

        :param timeout: Cancel the invocation if it has not ended in this many seconds.
        :param started: Called with the invocation once the server has started it.
        :raises ActionFailed: it was refused or failed; `ActionCancelled` if cancelled.
        """
        posting = asyncio.ensure_future(self.invoke(name, arguments))
        try:
            invocation = await asyncio.shield(posting)
        except asyncio.CancelledError:
            posting.add_done_callback(self._cancel_started)
            raise
        if started is not None:
            started(invocation)
        return await invocation.outcome(timeout)

    def _cancel_started(self, posting: asyncio.Future[Invocation]) -> None:
        """Cancel the invocation a ``POST`` started for a caller that is gone."""
        if not posting.cancelled() and posting.exception() is None:
            task = asyncio.ensure_future(posting.result().cancel())
            self._orphans.add(task)
            task.add_done_callback(self._orphans.discard)

    async def cancel(self, invocation: str) -> None:
        """``DELETE`` an invocation (its ``href``, or its id); one that has already ended
        (409) or is gone (404) is left as it is."""
        response = await self.http.delete(self._invocation_href(invocation))
        if response.status_code not in (404, 409):
            self._json(response, f"cancelling {invocation}")

    async def invocation_record(self, invocation: str) -> dict[str, Any]:
        """``GET /action_invocations/{id}``: the server's record of an invocation (its
        ``href``, or its id)."""
        await self.connect()
        response = await self.http.get(self._invocation_href(invocation))
        return self._json(response, f"reading invocation {invocation}")

    def _invocation_href(self, invocation: str) -> str:
        if invocation.startswith(("http://", "https://")):
            return invocation
        base = self.td.base if self.td.base.endswith("/") else self.td.base + "/"
        return f"{base}action_invocations/{invocation}"
