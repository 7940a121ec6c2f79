"""Resident memory of running processes, read from /proc."""

import threading
from pathlib import Path
from types import TracebackType

MB = 1024 * 1024


def rss(pid: int) -> int:
    """The process's resident set in bytes (0 once it is gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class PeakRss:
    """While entered, samples the processes every `interval` seconds and keeps the peak of
    their summed resident sets, and each one's own peak."""

    def __init__(self, pids: list[int], interval: float = 0.02) -> None:
        self.pids = pids
        self.interval = interval
        self.start = sum(rss(pid) for pid in pids)
        self.peak = self.start
        self.peaks = {pid: rss(pid) for pid in pids}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            sizes = {pid: rss(pid) for pid in self.pids}
            self.peak = max(self.peak, sum(sizes.values()))
            for pid, size in sizes.items():
                self.peaks[pid] = max(self.peaks[pid], size)

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth(self) -> int:
        return self.peak - self.start
