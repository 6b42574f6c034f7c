"""A local HTTP server that answers file downloads the way the Hugging Face hub does (HF_ENDPOINT points here)."""

from __future__ import annotations

import hashlib
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<revision>[^/]+)/(?P<filename>.+)$")
COMMIT = "0123456789abcdef0123456789abcdef01234567"


class FakeHub:
    """Serves {(repo, filename): path}; records every request; can require a token."""

    def __init__(self, files: dict[tuple[str, str], Path], token: str | None = None):
        self.files = files
        self.token = token
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # header names lower-cased
        self._etags: dict[Path, str] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeHub:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def etag(self, path: Path) -> str:
        """The sha256 of a served file, which the hub uses as the ETag of LFS files."""
        if path not in self._etags:
            self._etags[path] = hashlib.sha256(path.read_bytes()).hexdigest()
        return self._etags[path]

    def _handler(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _answer(self, with_body: bool) -> None:
                hub.requests.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
                match = _RESOLVE.match(self.path.split("?")[0])
                if not match:
                    return self._error(404, "RepoNotFound")
                if hub.token and self.headers.get("Authorization") != f"Bearer {hub.token}":
                    return self._error(401, "RepoNotFound")
                repo, filename = match["repo"], match["filename"]
                if not any(known_repo == repo for known_repo, _ in hub.files):
                    return self._error(404, "RepoNotFound")
                path = hub.files.get((repo, filename))
                if path is None:
                    return self._error(404, "EntryNotFound")
                size = path.stat().st_size
                start, end = 0, size - 1
                ranged = re.match(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
                if ranged:
                    start = int(ranged[1])
                    end = int(ranged[2]) if ranged[2] else size - 1
                self.send_response(206 if ranged else 200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(end - start + 1))
                self.send_header("ETag", f'"{hub.etag(path)}"')
                self.send_header("X-Repo-Commit", COMMIT)
                self.send_header("Accept-Ranges", "bytes")
                if ranged:
                    self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
                self.end_headers()
                if with_body:
                    with path.open("rb") as source:
                        source.seek(start)
                        remaining = end - start + 1
                        while remaining > 0:
                            block = source.read(min(1 << 20, remaining))
                            if not block:
                                break
                            self.wfile.write(block)
                            remaining -= len(block)

            def _error(self, status: int, code: str) -> None:
                body = b'{"error": "not found"}'
                self.send_response(status)
                self.send_header("X-Error-Code", code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_HEAD(self) -> None:
                self._answer(with_body=False)

            def do_GET(self) -> None:
                self._answer(with_body=True)

        return Handler
