"""A throwaway MariaDB server for tests: its own data directory, 127.0.0.1 and a random port, stopped afterwards.

Used by the shared-state tests and by ``.ci/run`` (``python tests/mariadb_server.py`` starts one and prints its
port). Outside CI the tests skip when MariaDB is not installed; in CI (``CI`` set) they fail instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

INSTALL_DB = "mariadb-install-db"
SERVER = "mariadbd"
CLIENT = "mariadb"


def binaries() -> dict[str, str] | None:
    """The paths of the MariaDB programs, or None when one is missing."""
    found = {
        name: shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/usr/bin")
        for name in (INSTALL_DB, SERVER, CLIENT)
    }
    if any(path is None for path in found.values()):
        return None
    return {name: str(path) for name, path in found.items()}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class MariaDB:
    """A running server; ``sql`` runs statements as root through the command-line client."""

    root: Path
    port: int
    process: subprocess.Popen[bytes]
    client: str

    def sql(self, statements: str) -> str:
        out = subprocess.run(
            [self.client, "--no-defaults", "-h127.0.0.1", f"-P{self.port}", "-uroot", "-N", "-B", "-e", statements],
            check=True,
            capture_output=True,
            text=True,
            timeout=30,
        )
        return out.stdout

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def start(timeout: float = 60.0) -> MariaDB:
    """Install a data directory in a temporary directory and start a server on it (as ``mysql`` when run as root,
    since mariadbd refuses to run as root)."""
    progs = binaries()
    if progs is None:
        raise FileNotFoundError("MariaDB is not installed (apt-get install -y mariadb-server)")
    root = Path(tempfile.mkdtemp(prefix="wmsync-mariadb-"))
    data = root / "data"
    user: list[str] = []
    if os.geteuid() == 0:
        user = ["--user=mysql"]
        shutil.chown(root, "mysql", "mysql")
    subprocess.run(
        [
            progs[INSTALL_DB],
            "--no-defaults",
            *user,
            f"--datadir={data}",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
        ],
        check=True,
        capture_output=True,
        timeout=timeout,
    )
    port = free_port()
    process = subprocess.Popen(
        [
            progs[SERVER],
            "--no-defaults",
            *user,
            f"--datadir={data}",
            "--skip-networking=0",
            "--bind-address=127.0.0.1",
            f"--port={port}",
            f"--socket={root / 'sock'}",
            f"--pid-file={root / 'pid'}",
            f"--log-error={root / 'error.log'}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = MariaDB(root, port, process, progs[CLIENT])
    deadline = time.monotonic() + timeout
    while True:
        try:
            server.sql("SELECT 1")
            return server
        except subprocess.CalledProcessError:
            if process.poll() is not None or time.monotonic() > deadline:
                log = (root / "error.log").read_text(errors="replace")[-2000:] if (root / "error.log").exists() else ""
                server.stop()
                raise RuntimeError(f"MariaDB did not start:\n{log}") from None
            time.sleep(0.3)


if __name__ == "__main__":  # pragma: no cover - a manual check: start, print the version, stop
    srv = start()
    try:
        sys.stdout.write(f"port {srv.port}: {srv.sql('SELECT VERSION()')}")
    finally:
        srv.stop()
