"""The real Python `sangaboard` 0.4.1 driver against the simulated board at sys.argv[1].

Opens the port (the driver's handshake: version, list_modules, board, blocking_moves),
reads the position, moves, polls `moving?`, zeroes. Prints "all checks passed".
"""

import sys
import time

from sangaboard import Sangaboard

port = sys.argv[1]
with Sangaboard(port) as sb:
    assert sb.firmware.startswith("Sangaboard Firmware v1."), sb.firmware
    assert tuple(sb.position) == (0, 0, 0), sb.position
    sb.move_rel([200, -100, 50])  # blocking moves: returns once the move ends
    assert tuple(sb.position) == (200, -100, 50), sb.position
    assert sb.query("moving?") == "false"
    sb.query("blocking_moves false")
    sb.move_rel([1000, 0, 0])
    assert sb.query("moving?") == "true"
    while sb.query("moving?") == "true":
        time.sleep(0.05)
    assert tuple(sb.position) == (1200, -100, 50), sb.position
    sb.zero_position()
    assert tuple(sb.position) == (0, 0, 0), sb.position
    assert sb.illumination.cc_led == 0.32, sb.illumination.cc_led
print("all checks passed")
