"""Real processes for the fault tests: a Redis server of the test's own (the shared one is
never touched), the API under uvicorn, the worker under `scripts/supervise.sh`, and a TCP
proxy in front of PostgreSQL whose link can be cut and restored.

Outages are real, so these helpers wait on real time, always against a deadline."""

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import IO

import redis

ROOT = Path(__file__).resolve().parents[2]
SUPERVISE = ROOT / "scripts" / "supervise.sh"
GRIDCTL = Path(sys.executable).parent / "gridctl"
STEP_SECONDS = 0.1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def until(condition: Callable[[], Awaitable[bool]], *, seconds: float, what: str) -> None:
    """Wait until `condition` holds, failing with `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while not await condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(STEP_SECONDS)


def alive(pid: int) -> bool:
    """Running (a zombie, dead but not yet reaped, does not count)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def children(pid: int) -> list[int]:
    """The live child processes of `pid`."""
    try:
        listed = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:
        return []
    return [int(child) for child in listed if alive(int(child))]


def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)


class RedisServer:
    """A `redis-server` on a port of its own, without persistence: a restart comes back
    empty, as a Redis that lost its memory does (queued jobs gone)."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--logfile", str(self.log)),
            ]
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + 15
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(STEP_SECONDS)
        client.close()

    def kill(self) -> None:
        """Redis gone at once, as a crash or a host failure takes it."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=15)
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


@contextlib.contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    server = RedisServer(directory / "redis.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def service_env(*, redis_url: str, database_url: str | None = None) -> dict[str, str]:
    """The environment of the API and worker processes: the test's database and Redis."""
    env = {**os.environ, "GRID_REDIS_URL": redis_url}
    if database_url is not None:
        env["GRID_DATABASE_URL"] = database_url
    return env


@contextlib.contextmanager
def api_server(
    env: dict[str, str], log: IO[bytes] | None = None, *, access_log: bool = False
) -> Iterator[str]:
    """uvicorn serving the app on a free port of the loopback. The socket listens before
    uvicorn starts (`--fd`), so the first call simply waits in the backlog. Quiet unless
    `access_log`: then uvicorn logs as `gridctl serve` has it, every request included."""
    verbosity = (
        ("--log-level", "info") if access_log else ("--log-level", "warning", "--no-access-log")
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory"),
            *("--fd", str(sock.fileno()), *verbosity),
        ],
        cwd=ROOT,
        env=env,
        pass_fds=[sock.fileno()],
        stdout=log,
        stderr=log,
    )
    sock.close()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(server)


class Supervised:
    """`scripts/supervise.sh gridctl worker`, as `make run` starts it; its own log file
    tells each restart."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            [str(SUPERVISE), str(GRIDCTL), "worker"],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=self._log,
        )

    def worker(self) -> int | None:
        """The worker's pid while one runs."""
        running = children(self.process.pid)
        return running[0] if running else None

    def restarts(self) -> int:
        return self.log.read_text(errors="replace").count("supervise: ")

    def close(self) -> None:
        # TERM reaches the worker through the supervisor, which then exits (143).
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker = self.worker()
                if worker is not None:
                    os.kill(worker, signal.SIGKILL)
                self.process.kill()
                self.process.wait(timeout=30)
        self._log.close()


@contextlib.contextmanager
def supervised_worker(env: dict[str, str], log: Path) -> Iterator[Supervised]:
    supervised = Supervised(env, log)
    try:
        yield supervised
    finally:
        supervised.close()


class TcpProxy:
    """A TCP relay on the loopback in front of PostgreSQL. `cut()` drops every relayed
    connection and refuses new ones, as a restarting server does; `restore()` listens again
    on the same port."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _relay(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_w.close()
            return
        self._links.update((client_w, server_w))
        try:
            await asyncio.gather(self._pipe(client_r, server_w), self._pipe(server_r, client_w))
        finally:
            self._links.difference_update((client_w, server_w))

    async def restore(self) -> None:
        assert self._server is None
        self._server = await asyncio.start_server(
            self._relay, "127.0.0.1", self.port, reuse_address=True
        )

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for link in list(self._links):
            link.transport.abort()
        self._links.clear()
        await self._server.wait_closed()
        self._server = None

    def links(self) -> int:
        """Relayed connections open now (each has two ends)."""
        return len(self._links) // 2


@contextlib.asynccontextmanager
async def tcp_proxy(target_port: int) -> AsyncIterator[TcpProxy]:
    proxy = TcpProxy(target_port)
    await proxy.restore()
    try:
        yield proxy
    finally:
        if proxy._server is not None:
            await proxy.cut()


def _pg_error(sqlstate: str, message: str) -> bytes:
    """A PostgreSQL ErrorResponse message (protocol 3.0) at severity FATAL."""
    fields = b"".join(
        tag + value.encode() + b"\0"
        for tag, value in ((b"S", "FATAL"), (b"V", "FATAL"), (b"C", sqlstate), (b"M", message))
    )
    body = fields + b"\0"
    return b"E" + (len(body) + 4).to_bytes(4, "big") + body


# The request a client sends to ask for TLS before its startup message (protocol 3.0).
_SSL_REQUEST = (8).to_bytes(4, "big") + (80877103).to_bytes(4, "big")


@contextlib.asynccontextmanager
async def postgres_starting_up() -> AsyncIterator[int]:
    """A port where a PostgreSQL server is still starting up, as after a restart: every
    connection is answered 57P03 `the database system is starting up` and closed."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            first = await reader.readexactly(8)
            if first == _SSL_REQUEST:
                writer.write(b"N")  # no TLS; the startup message comes next
                first = await reader.readexactly(4)
            length = int.from_bytes(first[:4], "big")
            await reader.readexactly(length - len(first))
            writer.write(_pg_error("57P03", "the database system is starting up"))
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()
