"""Bluesky plans driving the microscope example's Things.

Run against a microscope server (``cargo run --example microscope``)::

    python -m labthings_bluesky.demo http://127.0.0.1:5000/

It focuses (``scan([camera], stage_z, -200, 200, 5)``: the camera's ``sharpness`` at
five heights of the stage) and takes two pictures (``count([camera.capture], num=2)``:
each event holds the picture's download link), printing a table of each run.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import bluesky.plans as bp
from bluesky import RunEngine
from bluesky.callbacks import LiveTable
from bluesky.run_engine import call_in_bluesky_event_loop
from bluesky.utils import Msg
from ophyd_async.plan_stubs import ensure_connected

from .actions import ThingAction
from .axis import ActionAxis
from .device import LabThingsServer, ThingDevice

Plan = Generator[Msg, Any, Any]
Callback = Callable[[str, Any], Any]


@dataclass
class Microscope:
    """The microscope's devices.

    :param stage: The stage (``stage-position-x`` ... as readings).
    :param camera: The camera; as a detector it reads ``camera-sharpness`` (and
        ``camera-sensor_temperature``), with ``camera-exposure_ms`` as configuration.
    :param stage_z: The stage's z as a motor: ``move_to`` with x and y kept.
    """

    server: LabThingsServer
    stage: ThingDevice
    camera: ThingDevice
    stage_z: ActionAxis

    @property
    def sharpness_detector(self) -> ThingDevice:
        """What a focus scan reads: the camera (its ``sharpness``)."""
        return self.camera

    @property
    def capture_detector(self) -> ThingAction:
        """What takes pictures: the camera's ``capture`` (read: the picture's href)."""
        return self.camera.actions["capture"]

    def close(self) -> None:
        """Close the connections (in Bluesky's event loop, where they were opened)."""
        call_in_bluesky_event_loop(self.server.close())


def microscope(url: str) -> Microscope:
    """Read the TDs of the microscope server at `url` and make its devices (not yet
    connected: see `connect`)."""
    server = LabThingsServer(url)
    stage = server.device("stage")
    camera = server.device("camera")
    stage_z = ActionAxis(stage, "z", action="move_to", property="position", name="stage_z")
    return Microscope(server, stage, camera, stage_z)


def connect(m: Microscope) -> Plan:
    """Connect the devices (their HTTP clients and WebSockets)."""
    yield from ensure_connected(m.stage, m.camera, m.stage_z)


def focus_scan(m: Microscope, start: float = -200, stop: float = 200, num: int = 5) -> Plan:
    """Read the camera's sharpness at `num` heights of the stage from `start` to `stop`."""
    return (yield from bp.scan([m.sharpness_detector], m.stage_z, start, stop, num))


def capture_count(m: Microscope, num: int = 2) -> Plan:
    """Take `num` pictures; each event holds the picture's link (``camera-capture``)."""
    return (yield from bp.count([m.capture_detector], num=num))


def run(url: str, callback: Callback | None = None) -> Microscope:
    """Run the focus scan and the captures against the server at `url`, sending each
    document to `callback` (by default, print tables). Returns the devices, connected."""
    RE = RunEngine({})
    m = microscope(url)
    RE(connect(m))
    if callback is None:
        # LiveTable is untyped: bluesky's subscriber type does not take it.
        RE(focus_scan(m), LiveTable(["stage_z", "camera-sharpness"]))  # type: ignore[arg-type]
        RE(capture_count(m), LiveTable(["camera-capture"], min_width=80))  # type: ignore[arg-type]
    else:
        RE(focus_scan(m), callback)
        RE(capture_count(m), callback)
    return m


def main(argv: list[str]) -> int:
    """``python -m labthings_bluesky.demo URL``."""
    if len(argv) != 2:
        print(f"usage: {argv[0]} http://HOST:PORT/", file=sys.stderr)
        return 2
    run(argv[1]).close()
    return 0


def cli() -> None:
    """The ``labthings-bluesky-demo`` command."""
    sys.exit(main(sys.argv))


if __name__ == "__main__":
    cli()
