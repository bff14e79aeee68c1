"""Drive the simulated microscope with the LabThings-FastAPI 0.3.0 Python client.

Usage: python microscope_client.py http://127.0.0.1:PORT/
Exits non-zero (with a traceback) on the first failed check.
"""

import sys

from labthings_fastapi.client import ThingClient
from labthings_fastapi.exceptions import ClientPropertyError, ServerActionError

base = sys.argv[1]
stage = ThingClient.from_url(base + "stage/")
camera = ThingClient.from_url(base + "camera/")
autofocus = ThingClient.from_url(base + "autofocus/")

assert stage.position == {"x": 0, "y": 0, "z": 0}, stage.position
assert stage.moving is False

stage.speed = 50000.0
assert stage.speed == 50000.0, stage.speed
try:
    stage.speed = 0.5
except ClientPropertyError as e:
    assert "minimum" in str(e), e
else:
    raise AssertionError("a speed below the minimum was accepted")

reached = stage.move_to(x=100, y=-200, z=1000)
assert reached == {"x": 100, "y": -200, "z": 1000}, reached
assert stage.position == reached, stage.position
assert stage.moving is False

try:
    stage.move_to(x=0, y=0, z=1000000)
except ServerActionError as e:
    assert "outside the stage's limits" in str(e), e
else:
    raise AssertionError("a move outside the limits did not raise")

focus = autofocus.run(range=3000, steps=31)
assert abs(focus["best_z"] - 1234) <= 100, focus["best_z"]
assert len(focus["scores"]) == 31, focus["scores"]
assert stage.position["z"] == focus["best_z"], stage.position
assert camera.sharpness > 0.9, camera.sharpness

# A blob output: the client downloads it from its link.
image = camera.capture()
data = image.content
assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9", data[:4]
assert image.media_type == "image/jpeg", image.media_type

print("labthings-fastapi client and the microscope: all checks passed")
