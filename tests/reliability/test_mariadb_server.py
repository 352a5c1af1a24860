"""The throwaway MariaDB the shared-state tests run on, and the property leases on it rely on: a ``GET_LOCK``
is released when the connection holding it dies (a crashed run on another host never blocks an order)."""

from __future__ import annotations

import subprocess
import time

import mariadb_server


def test_get_lock_is_released_when_its_holder_dies(mariadb: mariadb_server.MariaDB) -> None:
    holder = subprocess.Popen(
        [
            mariadb.client,
            "--no-defaults",
            "-h127.0.0.1",
            f"-P{mariadb.port}",
            "-uroot",
            "-N",
            "-B",
            "-e",
            "SELECT GET_LOCK('wmsync:order:1', 0); SELECT SLEEP(60);",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while mariadb.sql("SELECT IS_FREE_LOCK('wmsync:order:1')").strip() != "0":
            assert time.monotonic() < deadline, "the holder never took the lock"
            time.sleep(0.1)
        assert mariadb.sql("SELECT GET_LOCK('wmsync:order:1', 0)").strip() == "0"  # held elsewhere: refused
    finally:
        holder.kill()  # the holder crashes: its connection goes, and with it the lock
        holder.wait()
    deadline = time.monotonic() + 20
    while mariadb.sql("SELECT IS_FREE_LOCK('wmsync:order:1')").strip() != "1":
        assert time.monotonic() < deadline, "the lock outlived its holder's connection"
        time.sleep(0.1)
