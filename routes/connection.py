"""Whether the client of the current request is still connected."""

from __future__ import annotations

import select
import socket
import ssl

from flask import request


def _poll():
    """A poll object. Under gevent's monkey patching select.poll is gevent's (or gone); a poll with no timeout never
    blocks, so the original is safe to use there."""
    try:
        from gevent import monkey
    except ImportError:
        return select.poll()
    return monkey.get_original("select", "poll")()


def client_disconnected() -> bool:
    """True when the client has closed its connection (the socket reads as ended).

    Works under gunicorn and the development server, which both put the connection's socket in the WSGI
    environment; elsewhere (or over TLS terminated in the server itself) it answers False and the work goes on.
    """
    sock = request.environ.get("gunicorn.socket") or request.environ.get("werkzeug.socket")
    if not isinstance(sock, socket.socket) or isinstance(sock, ssl.SSLSocket) or sock.fileno() < 0:
        return False
    try:
        poller = _poll()  # not select(): it fails on descriptors above 1023
        poller.register(sock, select.POLLIN | select.POLLHUP)
        events = poller.poll(0)
        # Readable with nothing to read means the peer closed; data means a pipelined next request.
        return bool(events) and sock.recv(1, socket.MSG_PEEK) == b""
    except (BlockingIOError, InterruptedError, ValueError):
        return False
    except OSError:  # reset by the peer
        return True
