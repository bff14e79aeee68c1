"""Drive a labthings server with the LabThings-FastAPI 0.3.0 Python client.

Usage: python labthings_client.py http://127.0.0.1:PORT/counter/
Exits non-zero (with a traceback) on the first failed check.
"""

import sys

from labthings_fastapi.client import ThingClient
from labthings_fastapi.exceptions import ClientPropertyError, ServerActionError

counter = ThingClient.from_url(sys.argv[1])

assert counter.count == 0, counter.count

counter.step = 5
assert counter.step == 5, counter.step
counter.label = "microscope"
assert counter.label == "microscope", counter.label

try:
    counter.step = 500
except ClientPropertyError as e:
    assert "maximum of 100" in str(e), e
else:
    raise AssertionError("a constraint violation was accepted")
assert counter.step == 5

try:
    counter.count = 3
except (ClientPropertyError, AttributeError):
    pass
else:
    raise AssertionError("a read-only property was written")

assert counter.increment() == 5
assert counter.add(n=10) == 15
assert counter.count == 15
assert counter.temperature == 21.5

try:
    counter.add(n=9223372036854775807)
except ServerActionError as e:
    assert "overflow" in str(e), e
else:
    raise AssertionError("a failing action did not raise")

print("labthings-fastapi client: all checks passed")
