"""A throwaway PostgreSQL server for the tests: its own cluster in a temporary folder, made with initdb and run as
a child process of the test (so the test holds the server's pid: it can kill it, stop it, start it again). As root,
initdb and postgres run as the `postgres` user, because PostgreSQL refuses to run as root."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

from manage import postgres_programs

USER = "docservice"


def _as_postgres_user() -> list[str]:
    """The prefix that runs a program as the `postgres` user when the tests run as root."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"]


class PostgresServer:
    """One PostgreSQL cluster on a loopback port; trust authentication, for tests only."""

    def __init__(self, port: int):
        programs = postgres_programs()
        if programs is None:
            raise RuntimeError("PostgreSQL is not installed: python3 manage.py test installs it (apt-get install "
                               "postgresql)")
        self.programs = programs
        self.port = port
        self.folder = Path(tempfile.mkdtemp(prefix="docservice-postgres-"))
        self.data = self.folder / "data"
        self.sockets = self.folder / "run"
        self.sockets.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
            shutil.chown(self.sockets, "postgres", "postgres")
        subprocess.run(
            [*_as_postgres_user(), str(programs / "initdb"), "-D", str(self.data), f"--username={USER}",
             "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"],
            check=True, capture_output=True, text=True,
        )
        self.process: subprocess.Popen | None = None
        self.log_path = self.folder / "postgres.log"

    def url(self, database: str = "postgres") -> str:
        """The URL of one of its databases."""
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def start(self, timeout: float = 30) -> None:
        """Start the server and wait until it takes connections."""
        log = open(self.log_path, "ab")  # noqa: SIM115 - the server writes to it for its whole life
        self.process = subprocess.Popen(
            [*_as_postgres_user(), str(self.programs / "postgres"), "-D", str(self.data), "-p", str(self.port),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.sockets}",
             "-c", "fsync=off", "-c", "max_connections=200"],
            stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg.connect(self.url(), connect_timeout=2).close()
                return
            except psycopg.OperationalError as error:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = self.log_path.read_text(errors="replace")
                    raise AssertionError(f"PostgreSQL did not start:\n{log}") from error
                time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL the server (its children, the backends, then end themselves)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._wait_for_backends_to_end()

    def stop(self) -> None:
        """Stop the server quickly (SIGINT: fast shutdown)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(2)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def _wait_for_backends_to_end(self, timeout: float = 10) -> None:
        # After a SIGKILL of the postmaster its shared memory lingers until its last backend exits; a new server
        # on the same folder refuses to start until then.
        deadline = time.monotonic() + timeout
        lock = self.data / "postmaster.pid"
        while lock.exists() and time.monotonic() < deadline:
            pid = int(lock.read_text().split()[0])
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)

    def new_database(self) -> str:
        """A new, empty database; its URL."""
        name = f"test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def remove(self) -> None:
        """Stop the server and delete its cluster."""
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
