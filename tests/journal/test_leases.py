"""Per-order leases: one run at a time per order; a lease left by a killed process does not block re-runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from wmsync.journal import Journal


def test_second_owner_waits_then_gives_up(tmp_path: Path) -> None:
    a, b = Journal(tmp_path / "j.sqlite3"), Journal(tmp_path / "j.sqlite3")
    assert a.acquire("s", "po:1", ttl=60, wait=0)
    assert not b.acquire("s", "po:1", ttl=60, wait=0.2, poll=0.05)
    a.release("s", "po:1")
    assert b.acquire("s", "po:1", ttl=60, wait=0)
    a.close()
    b.close()


def test_lease_of_a_dead_process_is_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    code = (
        "import os, signal, sys; from pathlib import Path; from wmsync.journal import Journal; "
        f"j = Journal(Path({str(path)!r})); assert j.acquire('s', 'po:1', ttl=3600, wait=0); "
        "os.kill(os.getpid(), signal.SIGKILL)"
    )
    subprocess.run([sys.executable, "-c", code], check=False)
    j = Journal(path)
    assert j.acquire("s", "po:1", ttl=60, wait=0)  # the owner is gone: no 10-minute wait
    j.close()


def test_lease_of_a_live_process_is_respected(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    code = (
        "import sys, time; from pathlib import Path; from wmsync.journal import Journal; "
        f"j = Journal(Path({str(path)!r})); j.acquire('s', 'po:1', ttl=3600, wait=0); print('held', flush=True); "
        "sys.stdin.readline()"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "held"
        j = Journal(path)
        assert not j.acquire("s", "po:1", ttl=60, wait=0)
        j.close()
    finally:
        proc.communicate("\n", timeout=10)


def test_owner_identity_rules() -> None:
    import os
    import socket

    from wmsync.journal import _owner_is_dead, _process_tag

    mine = _process_tag(os.getpid())
    if not mine:
        return  # not Linux: leases are only freed when they expire
    host = socket.gethostname()
    ns, boot, _start = mine.split(".")
    parent = os.getppid()
    parent_tag = _process_tag(parent)
    # a live process with its own start time: alive
    assert not _owner_is_dead(f"{host}:{parent}:{parent_tag}:x")
    # the same pid, but a different start time: the pid was reused, the owner is gone
    assert _owner_is_dead(f"{host}:{parent}:{ns}.{boot}.1:x")
    # another PID namespace (a container with the same hostname) or another boot: never judged here
    assert not _owner_is_dead(f"{host}:999999:4026999999.{boot}.1:x")
    assert not _owner_is_dead(f"{host}:999999:{ns}.ffffffff.1:x")
    # another host, or an owner without identity: never judged here
    assert not _owner_is_dead(f"other-host:999999:{mine}:x")
    assert not _owner_is_dead(f"{host}:999999::x")
    # a pid that does not exist in this namespace on this boot: gone
    assert _owner_is_dead(f"{host}:4194000:{ns}.{boot}.1:x")


def test_renew_extends_and_refuses_when_taken_over(tmp_path: Path) -> None:
    import pytest

    from wmsync.errors import LeaseTimeoutError

    a, b = Journal(tmp_path / "j.sqlite3"), Journal(tmp_path / "j.sqlite3")
    assert a.acquire("s", "po:1", ttl=0.05, wait=0)
    a.renew("s", "po:1", ttl=60)  # extended: b cannot take it
    assert not b.acquire("s", "po:1", ttl=60, wait=0)
    a.renew("s", "po:1", ttl=-1)  # let it lapse
    assert b.acquire("s", "po:1", ttl=60, wait=0)
    with pytest.raises(LeaseTimeoutError):
        a.renew("s", "po:1", ttl=60)  # never act on an order another run now holds
    a.close()
    b.close()


def test_item14_a_held_lease_names_its_holder(tmp_path: Path) -> None:
    import os
    import socket

    import pytest

    from wmsync.errors import LeaseTimeoutError
    from wmsync.workflows.base import order_lease

    a, b = Journal(tmp_path / "j.sqlite3"), Journal(tmp_path / "j.sqlite3")
    assert a.acquire("s", "po:108", ttl=60, wait=0)
    with pytest.raises(LeaseTimeoutError) as caught, order_lease(
        b, "s", "108", "000000104", dry_run=False, wait=0, ttl=60, sleep=lambda _s: None
    ):
        pass
    message = caught.value.message
    assert f"host {socket.gethostname()}" in message
    assert f"pid {os.getpid()}" in message
    assert "UTC" in message  # when its hold runs out unless renewed
    a.close()
    b.close()


def test_a_held_lease_says_since_when(tmp_path: Path) -> None:
    from types import SimpleNamespace

    import pytest

    from wmsync.errors import LeaseTimeoutError
    from wmsync.workflows.base import order_lease

    clock = [1_780_000_000.0]
    fake = SimpleNamespace(time=lambda: clock[0])
    a = Journal(tmp_path / "j.sqlite3", clock=fake)
    b = Journal(tmp_path / "j.sqlite3", clock=fake)
    assert a.acquire("s", "po:108", ttl=60, wait=0)
    clock[0] += 30
    a.renew("s", "po:108", ttl=60)  # renewing keeps when it was taken
    held = b.holder("s", "po:108")
    assert held is not None
    assert held["since"] == 1_780_000_000.0
    with pytest.raises(LeaseTimeoutError) as caught, order_lease(
        b, "s", "108", "000000104", dry_run=False, wait=0, ttl=60, sleep=lambda _s: None
    ):
        pass
    assert "since 2026-05-28 20:26:40 UTC" in caught.value.message, caught.value.message
    a.close()
    b.close()
