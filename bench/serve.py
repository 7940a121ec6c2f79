"""The processes a run drives, side by side: the product's API (`api.app:create_app`, one
uvicorn process) and its arq worker, the floor's ASGI app (`bench.floor`) and a bare arq
worker (`bench.worker`). Both apps are served wrapped in `InFlight`, so the harness can ask
each how many requests it is still serving (`bench.harness` waits for none between sides)."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import httpx
from arq.constants import default_queue_name, health_check_key_suffix
from redis import Redis
from starlette.types import ASGIApp, Receive, Scope, Send

from bench.worker import FLOOR_QUEUE
from services.settings import get_settings

IN_FLIGHT = "/_bench/in-flight"
# What each worker writes at its first poll (arq's health check of its queue).
HEALTH_KEYS = (default_queue_name + health_check_key_suffix, FLOOR_QUEUE + health_check_key_suffix)


class InFlight:
    """`app` with a count of the HTTP requests it has not finished (a handler goes on after
    its client has gone: wrk stopping does not stop it). GET `IN_FLIGHT` answers the count
    and is not counted."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.count = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == IN_FLIGHT:
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": str(self.count).encode()})
            return
        self.count += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.count -= 1


def product() -> ASGIApp:
    from api.app import create_app

    return InFlight(create_app())


def floor() -> ASGIApp:
    from bench import floor as bare

    return InFlight(cast(ASGIApp, bare.app))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def uvicorn(target: str, port: int, env: dict[str, str], factory: bool) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        target,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    return subprocess.Popen([*command, "--factory"] if factory else command, env=env)


def wait_http(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not start")


def _wait_worker(health_key: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """A worker is up once it has written its health-check key (at its first poll)."""
    with Redis.from_url(get_settings().redis_url) as redis:
        for _ in range(600):
            if process.poll() is not None:
                break
            if redis.exists(health_key):
                return
            time.sleep(0.2)
    # The log goes with the run's directory: what it says is kept in the error.
    said = log.read_text(errors="replace")[-2000:]
    raise RuntimeError(f"worker {process.args!r} did not start (exit {process.poll()}):\n{said}")


@dataclass(frozen=True)
class Servers:
    product_url: str
    floor_url: str
    api_pid: int
    worker_pid: int


@contextmanager
def _running(process: subprocess.Popen[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=60)


@contextmanager
def servers(env: dict[str, str], logs: Path) -> Iterator[Servers]:
    """Everything started with `env` (the workers logging into `logs`), stopped on exit."""
    product_port, floor_port = free_port(), free_port()
    # A worker's health key outlives it for a while: a fresh one must be seen.
    with Redis.from_url(get_settings().redis_url) as redis:
        redis.delete(*HEALTH_KEYS)
    with ExitStack() as stack:
        api = stack.enter_context(
            _running(uvicorn("bench.serve:product", product_port, env, factory=True))
        )
        bare = stack.enter_context(
            _running(uvicorn("bench.serve:floor", floor_port, env, factory=True))
        )
        workers = {}
        for side in ("product", "floor"):
            log = logs / f"worker-{side}.log"
            out = stack.enter_context(log.open("wb"))
            command = [sys.executable, "-m", "bench.worker", side]
            workers[side] = stack.enter_context(
                _running(subprocess.Popen(command, env=env, stdout=out, stderr=out))
            )
        _wait_worker(HEALTH_KEYS[0], workers["product"], logs / "worker-product.log")
        _wait_worker(HEALTH_KEYS[1], workers["floor"], logs / "worker-floor.log")
        urls = f"http://127.0.0.1:{product_port}", f"http://127.0.0.1:{floor_port}"
        wait_http(f"{urls[0]}/healthz", api)
        wait_http(f"{urls[1]}{IN_FLIGHT}", bare)
        yield Servers(urls[0], urls[1], api.pid, workers["product"].pid)


def bench_env(dsn: str, scope: str, storage: Path) -> dict[str, str]:
    """The environment of every process: the floor's DSN and scope, and the run's own
    storage directory for uploads."""
    return {**os.environ, "BENCH_DSN": dsn, "BENCH_SCOPE": scope, "GRID_STORAGE_DIR": str(storage)}
