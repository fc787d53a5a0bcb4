"""A real HTTP receiver for webhooks on 127.0.0.1: records every request (headers and raw body) and
answers as the test says (a status per request, or holding the request open)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def verified(self, secret: str) -> dict:
        """The payload, once the standardwebhooks library has checked its signature."""
        return Webhook(secret).verify(self.body, self.headers)


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    # Called with the request number (1, 2, ...): the status to answer.
    status: Callable[[int], int] = lambda n: 200
    hold: threading.Event | None = None  # set: the handler waits until it is released
    arrived: threading.Event = field(default_factory=threading.Event)

    def payloads(self, secret: str) -> list[dict]:
        return [r.verified(secret) for r in self.requests]


@contextmanager
def webhook_receiver():
    box: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            receiver = box[0]
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
            number = len(receiver.requests)
            receiver.arrived.set()
            if receiver.hold is not None:
                receiver.hold.wait(30)
            answer = json.dumps({"received": number}).encode()
            try:
                self.send_response(receiver.status(number))
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    box.append(Receiver(f"http://127.0.0.1:{server.server_address[1]}/hooks/followup"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield box[0]
    finally:
        if box[0].hold is not None:
            box[0].hold.set()
        server.shutdown()
        server.server_close()
