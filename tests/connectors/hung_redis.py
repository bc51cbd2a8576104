"""A Redis that hangs: a local TCP server that accepts connections and never answers.

Bounded: it listens on 127.0.0.1 only, on a free port, and stops itself (closing every
socket it accepted) when the block ends or after `lifetime` seconds, whichever comes first.
"""
from __future__ import annotations

import socket
import threading
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def hung_redis(lifetime: float = 30.0) -> Iterator[str]:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.05)
    stop = threading.Event()
    accepted: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:       # timeout: look at the stop flag again
                continue
            accepted.append(conn)     # read nothing, answer nothing

    thread = threading.Thread(target=serve, name="hung-redis", daemon=True)
    thread.start()
    timer = threading.Timer(lifetime, stop.set)
    timer.daemon = True
    timer.start()
    try:
        yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    finally:
        stop.set()
        timer.cancel()
        thread.join(2)
        for conn in accepted:
            conn.close()
        server.close()
