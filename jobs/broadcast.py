"""Job changes told to every process of a deployment. On one machine the job service wakes its own waiters and
that is all (Broadcast). On PostgreSQL, each change is also a NOTIFY that every API node and worker LISTENs to
(PostgresBroadcast): the node that holds a client's event stream wakes when a worker elsewhere makes progress, and
streamed text travels the same way, a sentence at a time, well under NOTIFY's 8 kB payload."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable

log = logging.getLogger(__name__)
CHANNEL = "docservice_jobs"
PIECE_CHARS = 1000  # streamed text is sent in pieces of at most this many characters (≤ 4 kB of UTF-8)


class Broadcast:
    """One process: nothing to tell others."""

    def start(self, on_change: Callable[[str], None], on_text: Callable[[str, str], None],
              on_end: Callable[[str], None], on_gap: Callable[[], None]) -> None:
        """Begin hearing what other processes tell: a job changed, streamed text, a job ended, or a gap in what
        was heard (everyone should look again)."""

    def job_changed(self, job_id: str, *, ended: bool = False) -> None:
        """Tell the others a job changed (ended: for good)."""

    def text_streamed(self, job_id: str, piece: str) -> None:
        """Tell the others the next piece of a job's streamed text."""

    def close(self) -> None:
        """Stop hearing."""


class PostgresBroadcast(Broadcast):
    """Changes as NOTIFY on one channel of the deployment's PostgreSQL (storage/postgres.py sends and listens)."""

    def __init__(self, database):
        self._database = database
        self._me = uuid.uuid4().hex[:12]  # this process's own notifications are not heard again
        self._listener = None

    def start(self, on_change, on_text, on_end, on_gap):
        def heard(payload: str) -> None:
            try:
                message = json.loads(payload)
            except ValueError:
                return
            if not isinstance(message, dict) or message.get("from") == self._me or "job" not in message:
                return
            job_id = str(message["job"])
            if "text" in message:
                on_text(job_id, str(message["text"]))
            if message.get("ended"):
                on_end(job_id)
            on_change(job_id)

        self._listener = self._database.listen(CHANNEL, heard, on_gap)

    def _send(self, message: dict) -> None:
        try:
            self._database.notify(CHANNEL, json.dumps({"from": self._me, **message}, ensure_ascii=False))
        except Exception as error:  # noqa: BLE001 - a lost wake-up is made up by the followers' own polling
            log.warning("could not tell other nodes of a job change: %s", error)

    def job_changed(self, job_id, *, ended=False):
        self._send({"job": job_id, **({"ended": True} if ended else {})})

    def text_streamed(self, job_id, piece):
        for start in range(0, len(piece), PIECE_CHARS):
            self._send({"job": job_id, "text": piece[start:start + PIECE_CHARS]})

    def close(self):
        if self._listener is not None:
            self._listener.stop()
