"""`scripts/supervise.sh`, which keeps the worker running under `make run`: a child that dies
is started again, and a TERM stops the child and the supervisor without a restart."""

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

SUPERVISE = Path(__file__).resolve().parent.parent / "scripts" / "supervise.sh"
# The first restart waits 1 s (the script's back-off); real processes need real time.
DEADLINE_SECONDS = 15.0


def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    """Running (a zombie, already dead but not yet reaped, does not count)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture
def pid_file(tmp_path: Path) -> Path:
    return tmp_path / "pids"


@pytest.fixture
def supervisor(pid_file: Path) -> Iterator[subprocess.Popen[bytes]]:
    """The supervisor keeping a child that logs its pid and then idles."""
    child = f"echo $$ >> {pid_file}; exec sleep 300"
    process = subprocess.Popen([str(SUPERVISE), "sh", "-c", child], stderr=subprocess.DEVNULL)
    yield process
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=DEADLINE_SECONDS)


def _pids(pid_file: Path) -> list[int]:
    if not pid_file.exists():
        return []
    return [int(line) for line in pid_file.read_text().split()]


def test_a_killed_child_is_restarted(supervisor: subprocess.Popen[bytes], pid_file: Path) -> None:
    _until(lambda: len(_pids(pid_file)) == 1)
    (first,) = _pids(pid_file)
    os.kill(first, signal.SIGKILL)
    _until(lambda: len(_pids(pid_file)) == 2)
    second = _pids(pid_file)[1]
    assert second != first and _alive(second)
    assert supervisor.poll() is None


def test_term_stops_the_child_and_the_supervisor(
    supervisor: subprocess.Popen[bytes], pid_file: Path
) -> None:
    _until(lambda: len(_pids(pid_file)) == 1)
    (child,) = _pids(pid_file)
    supervisor.terminate()
    assert supervisor.wait(timeout=DEADLINE_SECONDS) == 143
    _until(lambda: not _alive(child))
    assert len(_pids(pid_file)) == 1  # not restarted


def test_without_a_command_it_explains_its_usage() -> None:
    result = subprocess.run([str(SUPERVISE)], capture_output=True, text=True, timeout=10)
    assert result.returncode == 2 and "usage" in result.stderr
