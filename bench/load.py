"""HTTP load through wrk: a file of request lines replayed round-robin for a fixed time, or
one URL polled with an ETag."""

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).parent / "wrk" / "requests.lua"
POLL_SCRIPT = Path(__file__).parent / "wrk" / "poll.lua"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: str = ""

    def line(self) -> str:
        return (
            "\t".join((self.method, self.path, self.body))
            if self.body
            else (f"{self.method}\t{self.path}")
        )


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    failures: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    # Responses 304 Not Modified (counted by the polling script only).
    not_modified: int = 0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def run_wrk(
    base_url: str,
    requests: list[Request],
    *,
    token: str = "",
    seconds: int = 10,
    connections: int = 32,
    threads: int = 2,
) -> LoadResult:
    """Replay `requests` against `base_url`; failures count socket errors and 4xx/5xx."""
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as plan:
        plan.write("\n".join(r.line() for r in requests) + "\n")
    try:
        return _wrk(
            SCRIPT, base_url, [plan.name], {"BENCH_TOKEN": token}, seconds, connections, threads
        )
    finally:
        os.unlink(plan.name)


def poll_wrk(
    url: str, *, token: str, etag: str, seconds: int = 10, connections: int = 32, threads: int = 2
) -> LoadResult:
    """GET `url` over and over with `If-None-Match: etag`, as a screen polls; the result
    counts the 304s."""
    env = {"BENCH_TOKEN": token, "BENCH_ETAG": etag}
    return _wrk(POLL_SCRIPT, url, [], env, seconds, connections, threads)


def _wrk(
    script: Path,
    url: str,
    args: list[str],
    env: dict[str, str],
    seconds: int,
    connections: int,
    threads: int,
) -> LoadResult:
    completed = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "5s",
            "-s",
            str(script),
            url,
            "--",
            *args,
        ],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    summary = json.loads(completed.stdout.strip().splitlines()[-1])
    return LoadResult(
        requests=summary["requests"],
        seconds=summary["duration_us"] / 1e6,
        failures=summary["socket_errors"] + summary["bad_status"],
        p50_ms=summary["p50_us"] / 1000,
        p95_ms=summary["p95_us"] / 1000,
        p99_ms=summary["p99_us"] / 1000,
        not_modified=summary.get("not_modified", 0),
    )
