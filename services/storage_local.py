"""Attachments in a local directory: each key a file under the root, written to a temporary
name and renamed, so a reader never sees half a file."""

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import anyio

from services.storage import PIECE, check_key


class LocalStorage:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    async def put(self, key: str, data: bytes, *, content_type: str) -> None:
        path = self._path(key)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
            temporary.write_bytes(data)
            os.replace(temporary, path)

        await anyio.to_thread.run_sync(write)

    async def get(self, key: str) -> bytes:
        return await anyio.Path(self._path(key)).read_bytes()

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        async with await anyio.open_file(self._path(key), "rb") as file:
            while piece := await file.read(PIECE):
                yield piece

    async def delete(self, key: str) -> None:
        await anyio.Path(self._path(key)).unlink(missing_ok=True)
