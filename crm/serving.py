"""Production serving: gunicorn's threaded worker, with a limit on how long a client may stall.

gunicorn.conf.py selects `ThreadWorker`. gthread already keeps idle connections out of the
thread pool (a connection that sends nothing waits in the poller, not in a thread); what it
lacks is a bound once a client has started a request: a client that sends half its headers or
half its body and then goes quiet would hold a thread for as long as it keeps the connection
open. Here every blocking read and write on a client connection gives up after
`CRM_CLIENT_TIMEOUT` seconds of silence (default 10), which closes that connection and frees
the thread. The limit is on silence, not on the whole request: a slow but steady upload of a
full 1 MiB body is fine.
"""

from __future__ import annotations

import os
import socket

from gunicorn.workers import gthread

CLIENT_TIMEOUT = float(os.environ.get("CRM_CLIENT_TIMEOUT", "10"))


class ClientSocket(socket.socket):
    """A client connection whose blocking mode carries a timeout.

    gthread switches each connection between non-blocking (while the poller watches it) and
    blocking (while a thread serves it); blocking here means "blocking, for at most
    CLIENT_TIMEOUT seconds per read or write"."""

    def setblocking(self, flag: bool) -> None:
        if flag:
            self.settimeout(CLIENT_TIMEOUT)
        else:
            super().setblocking(False)


class ThreadWorker(gthread.ThreadWorker):
    def enqueue_req(self, conn) -> None:
        # Every connection passes here before a thread reads from it; new ones are re-wrapped
        # (same file descriptor) so that their reads are bounded.
        if type(conn.sock) is socket.socket:
            conn.sock = ClientSocket(fileno=conn.sock.detach())
        super().enqueue_req(conn)
