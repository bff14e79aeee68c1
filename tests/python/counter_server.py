"""Serve a Thing with the example counter's affordances from LabThings-FastAPI 0.3.0.

Usage: python counter_server.py
Listens on 127.0.0.1 on a free port, prints "listening on PORT", and serves until killed.
"""

import socket
import sys

import labthings_fastapi as lt
import uvicorn


class Counter(lt.Thing):
    """A counter served by LabThings-FastAPI."""

    count: int = lt.property(default=0, readonly=True)
    """The current count."""

    step: int = lt.property(default=1, ge=1, le=100)
    """How much `increment` adds."""

    label: str = lt.property(default="", max_length=64)
    """A free-text label."""

    @lt.property
    def temperature(self) -> float:
        """Temperature read from the hardware on every request."""
        return 21.5

    @lt.action
    def increment(self) -> int:
        """Add `step` to the count and return the new value."""
        self.count = self.count + self.step
        return self.count

    @lt.action
    def add(self, n: int) -> int:
        """Add `n` to the count and return the new value."""
        self.count = self.count + n
        return self.count

    @lt.action
    def wait(self, seconds: float) -> None:
        """Wait, cancellably."""
        lt.cancellable_sleep(seconds)

    @lt.action
    def fail(self) -> None:
        """Always fails."""
        raise ValueError("This never works!")


def main() -> None:
    server = lt.ThingServer.from_things({"counter": Counter})
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    # Listening now, connections wait in the backlog until uvicorn has started.
    sock.listen(128)
    print(f"listening on {sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(
        server.app, ws="websockets-sansio", log_level="warning", lifespan="on"
    )
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    sys.exit(main())
