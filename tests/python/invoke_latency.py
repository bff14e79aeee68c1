"""Time N invocations of `increment` with the LabThings-FastAPI 0.3.0 Python client.

Usage: python invoke_latency.py http://127.0.0.1:PORT/counter/ N
Prints one line of JSON: the time of each invocation, from the call to its output, in
seconds. The client polls the invocation (after 50 ms, then every 500 ms).
"""

import json
import sys
import time

from labthings_fastapi.client import ThingClient

counter = ThingClient.from_url(sys.argv[1])
times = []
for _ in range(int(sys.argv[2])):
    start = time.perf_counter()
    counter.increment()
    times.append(time.perf_counter() - start)
print(json.dumps(times))
