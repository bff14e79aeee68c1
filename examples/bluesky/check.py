#!/usr/bin/env python3
"""Check labthings_bluesky against a running microscope example server.

    python check.py http://127.0.0.1:5000/

Runs the demo's plans with a Bluesky RunEngine, collects their documents and checks
them (sharpness at each z, z readbacks, units, downloadable capture links), then checks
that a move beyond the stage's limits fails with the server's reason, that ``stop()``
cancels a long move on the server, that positions are observed over the WebSocket, and
that settings are written. Prints "all checks passed", or exits non-zero.
"""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import itertools
import logging
import math
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar

import httpx
from bluesky import RunEngine
from bluesky import plan_stubs as bps
from bluesky.run_engine import call_in_bluesky_event_loop
from bluesky.utils import FailedStatus
from ophyd_async.core import SignalR, SignalRW, observe_value, wait_for_value

sys.path.insert(0, str(Path(__file__).resolve().parent))

from labthings_bluesky import ActionCancelled, ActionFailed, Invocation, LabThingsError, demo

T = TypeVar("T")
#: The focus heights of the scan.
POINTS = [-200, -100, 0, 100, 200]


class CheckFailed(AssertionError):
    """A check that did not hold."""


def check(condition: object, message: str) -> None:
    """Fail with `message` unless `condition` holds."""
    if not condition:
        raise CheckFailed(message)


class Documents:
    """A RunEngine callback keeping every document, by kind."""

    def __init__(self) -> None:
        self.by_kind: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)

    def __call__(self, name: str, doc: Any) -> None:
        self.by_kind[name].append(doc)

    def events(self) -> list[dict[str, Any]]:
        return self.by_kind["event"]

    def data_keys(self) -> dict[str, Any]:
        (descriptor,) = self.by_kind["descriptor"]
        return descriptor["data_keys"]


def in_loop(coroutine: Awaitable[T], timeout: float = 30.0) -> T:
    """Run `coroutine` in Bluesky's event loop, where the devices live."""
    return call_in_bluesky_event_loop(coroutine, timeout=timeout)


def check_scan(RE: RunEngine, m: demo.Microscope) -> None:
    docs = Documents()
    RE(demo.focus_scan(m, POINTS[0], POINTS[-1], len(POINTS)), docs)
    events = docs.events()
    check(len(events) == len(POINTS), f"the scan made {len(events)} events, not {len(POINTS)}")
    zs = [e["data"]["stage_z"] for e in events]
    check(zs == POINTS, f"the z readbacks {zs} are not the set points {POINTS}")
    sharpness = [e["data"]["camera-sharpness"] for e in events]
    check(
        all(isinstance(s, float) and math.isfinite(s) for s in sharpness),
        f"the sharpness values {sharpness} are not floats",
    )
    # Focus is above z = 200: each point is sharper than the last (fresh reads, not stale).
    check(
        all(a < b for a, b in itertools.pairwise(sharpness)),
        f"the sharpness {sharpness} does not rise towards focus: stale reads?",
    )
    keys = docs.data_keys()
    check(keys["stage_z"].get("units") == "steps", f"z's datakey has no units: {keys['stage_z']}")
    check(keys["camera-sharpness"]["dtype"] == "number", "sharpness is not a number")
    check(
        keys["camera-sensor_temperature"].get("units") == "°C"
        and keys["camera-sensor_temperature"]["limits"]["alarm"] == {"low": 5.0, "high": 45.0},
        f"sensor_temperature's datakey lacks units or limits: {keys['camera-sensor_temperature']}",
    )
    (config,) = (d["configuration"]["camera"] for d in docs.by_kind["descriptor"])
    check(
        config["data_keys"]["camera-exposure_ms"].get("units") == "ms"
        and config["data_keys"]["camera-exposure_ms"]["limits"]["control"]["high"] == 1000.0,
        f"exposure_ms's configuration datakey: {config['data_keys']}",
    )
    (stop,) = docs.by_kind["stop"]
    check(stop["exit_status"] == "success", f"the scan ended {stop['exit_status']}")


def check_captures(RE: RunEngine, m: demo.Microscope) -> None:
    docs = Documents()
    RE(demo.capture_count(m, 2), docs)
    hrefs = [e["data"]["camera-capture"] for e in docs.events()]
    check(len(hrefs) == 2 and len(set(hrefs)) == 2, f"the captures' links: {hrefs}")
    key = docs.data_keys()["camera-capture"]
    check(key["dtype"] == "string" and key.get("media_type") == "image/jpeg", f"datakey {key}")
    for href in hrefs:
        response = httpx.get(href)
        check(response.status_code == 200, f"{href}: HTTP {response.status_code}")
        kind = response.headers.get("content-type", "")
        check(kind.startswith("image/jpeg"), f"{href}: content-type {kind}")
        check(response.content[:2] == b"\xff\xd8", f"{href} is not a JPEG")


def check_out_of_limits(RE: RunEngine, m: demo.Microscope) -> None:
    quiet = logging.getLogger("bluesky")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # the RunEngine logs the (expected) failure
    try:
        RE(bps.mv(m.stage_z, 10**12))
    except FailedStatus as failed:
        error = failed.args[0].exception() if failed.args else None
    else:
        raise CheckFailed("a move to z = 10**12 did not fail")
    finally:
        quiet.setLevel(level)
    check(isinstance(error, ActionFailed), f"the move failed with {error!r}, not ActionFailed")
    assert isinstance(error, ActionFailed) and error.invocation is not None
    record = in_loop(m.stage.client.invocation_record(error.invocation.id))
    detail = record["error"]["detail"]
    check(record["status"] == "error", f"the invocation ended {record['status']}")
    check("outside the stage's limits" in detail, f"the server's reason: {detail!r}")
    check(str(error) == detail, f"the status says {str(error)!r}, the server {detail!r}")


async def check_stop(m: demo.Microscope) -> None:
    axis = m.stage_z
    start = await axis.readback.get_value()
    invoked: asyncio.Future[Invocation] = asyncio.get_running_loop().create_future()
    axis.add_invocation_callback(invoked.set_result)
    try:
        status = axis.set(90_000)  # 4.5 s at the stage's 20,000 steps/s
        invocation = await asyncio.wait_for(invoked, 5)
    finally:
        axis.remove_invocation_callback(invoked.set_result)
    await asyncio.wait_for(invocation.wait_for(lambda i: i.status != "pending"), 5)
    # Under way once the observed position has left the start.
    await wait_for_value(axis.readback, lambda z: z > start + 100, timeout=5)
    check(invocation.status == "running", f"the moving invocation is {invocation.status}")
    started = time.monotonic()
    await axis.stop()
    try:
        await asyncio.wait_for(status, 5)
    except RuntimeError as error:
        check("stopped" in str(error), f"the stopped move failed with {error!r}")
    else:
        raise CheckFailed("a stopped move succeeded")
    check(time.monotonic() - started < 3, "the move took long to stop")
    check(invocation.status == "cancelled", f"the invocation ended {invocation.status}")
    with contextlib.suppress(ActionCancelled):
        await invocation.wait()
    record = await m.stage.client.invocation_record(invocation.id)
    check(record["status"] == "cancelled", f"the server says {record['status']}")
    z = await axis.readback.get_value()
    check(0 < z < 90_000, f"the stage stopped at z = {z}, not on the way")


async def check_observed(m: demo.Microscope) -> None:
    axis, z = m.stage_z, m.stage.signal("position", "z")
    assert isinstance(z, SignalR)
    start = await axis.readback.get_value()
    end = start + 3_000  # 150 ms: about 15 positions published on the way
    status = axis.set(end)
    seen = [value async for value in observe_value(z, done_status=status)]
    on_the_way = {value for value in seen if start < value < end}
    check(len(on_the_way) >= 3, f"only {sorted(on_the_way)} observed between {start} and {end}")
    check(await z.get_value() == end, "the move did not reach its target")


async def check_settings(m: demo.Microscope) -> None:
    exposure = m.camera.signal("exposure_ms")
    assert isinstance(exposure, SignalRW)
    before = await exposure.get_value()
    await exposure.set(20.0)
    check(await exposure.get_value() == 20.0, "exposure_ms was not written")
    try:
        await exposure.set(5_000.0)
    except LabThingsError as error:
        check("maximum" in error.detail, f"the refusal's reason: {error.detail!r}")
    else:
        raise CheckFailed("exposure_ms = 5000 (above its maximum) was accepted")
    await exposure.set(before)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} http://HOST:PORT/", file=sys.stderr)
        return 2
    # Never hang: a server that stops answering fails the check within a minute.
    faulthandler.dump_traceback_later(60, exit=True)
    RE = RunEngine({})
    try:
        m = demo.microscope(argv[1])
    except httpx.HTTPError as error:
        print(f"FAILED: cannot read the TDs at {argv[1]}: {error}", file=sys.stderr)
        return 1
    try:
        RE(demo.connect(m))
        check_scan(RE, m)
        check_captures(RE, m)
        check_out_of_limits(RE, m)
        in_loop(check_stop(m))
        in_loop(check_observed(m))
        in_loop(check_settings(m))
    except Exception as error:  # any failure: report it, exit non-zero
        print(f"FAILED: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    finally:
        m.close()
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
