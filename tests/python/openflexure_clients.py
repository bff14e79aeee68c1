"""The OpenFlexure v3 clients, unmodified, against the openflexure example at sys.argv[1]
(e.g. http://127.0.0.1:PORT/api/v3): the gamepad client's jog loop (with a pad whose stick is
held for ten polls), its `run_autofocus()` and `capture_image()`, its `invoke_and_wait`, and the
LabThings-FastAPI 0.3.0 `ThingClient` driving `stage` as it would drive labthings-sangaboard.
Prints "all checks passed".
"""

import sys
import time
from queue import Queue

import requests
import openflexure_gamepad_client.main as gamepad
from labthings_fastapi.client import ThingClient

base = sys.argv[1].rstrip("/")
# The client hard-codes http://localhost:5000/api/v3; the test server is on a free port.
gamepad.BASE_URI = base


def position():
    return requests.get(base + "/stage/position").json()


class HeldStick:
    """A pad whose stick is pushed (towards -x on the pad: +x on the stage) for ten polls."""

    buttons = {}

    def __init__(self):
        self.polls = 0

    @property
    def axes(self):
        self.polls += 1
        return {"x-ax": -1 if self.polls <= 10 else 0, "y-ax": 0}


start = position()
gamepad.jog_microscope_with_joypad(HeldStick(), Queue())
while requests.get(base + "/stage/moving").json():
    time.sleep(0.05)
after_jog = position()
assert after_jog["x"] > start["x"], (start, after_jog)
assert after_jog["y"] == start["y"] and after_jog["z"] == start["z"], (start, after_jog)

gamepad.run_autofocus()
focused = position()["z"]
assert abs(focused - 300) <= 100, focused

gamepad.capture_image()
captured = gamepad.invoke_and_wait(
    "/camera/capture",
    payload={"capture_mode": "standard", "image_format": "jpeg", "retain_image": True},
)
blob = captured["output"]
assert blob["media_type"] == "image/jpeg", blob
jpeg = requests.get(blob["href"]).content
assert jpeg[:2] == b"\xff\xd8", jpeg[:16]

stage = ThingClient.from_url(base + "/stage/")
before = stage.position
stage.move_relative(x=100, z=-5)
moved = stage.position
assert moved == {"x": before["x"] + 100, "y": before["y"], "z": before["z"] - 5}, moved
assert stage.axis_names == ["x", "y", "z"]
assert stage.moving is False
stage.set_zero_position()
assert stage.position == {"x": 0, "y": 0, "z": 0}
print("all checks passed")
