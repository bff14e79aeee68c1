"""Time `count` `p?` queries by the Python `sangaboard` 0.4.1 driver to the board at
sys.argv[1]; prints each round trip in seconds, one per line."""

import sys
import time

from sangaboard import Sangaboard

port, count = sys.argv[1], int(sys.argv[2])
with Sangaboard(port) as sb:
    for _ in range(50):
        sb.query("p?")
    times = []
    for _ in range(count):
        started = time.perf_counter()
        sb.query("p?")
        times.append(time.perf_counter() - started)
for t in times:
    print(t)
