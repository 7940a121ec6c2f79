"""R-EVT-1 attachment storage: the local-directory and the S3-compatible backends keep,
stream and delete the same bytes; keys that could leave the store are refused; the setting
chooses the backend."""

import os
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from services.settings import Settings
from services.storage import PIECE, Storage, storage_from
from services.storage_local import LocalStorage
from services.storage_s3 import S3Storage
from tests.s3 import s3_endpoint, s3_storage

__all__ = ["s3_endpoint", "s3_storage"]


async def _round_trip(storage: Storage) -> None:
    key = f"files/{uuid.uuid4()}"
    data = os.urandom(2 * PIECE + 123)
    await storage.put(key, data, content_type="video/mp4")
    assert await storage.get(key) == data
    pieces = [piece async for piece in storage.stream(key)]
    assert b"".join(pieces) == data and len(pieces) >= 2
    await storage.put(key, b"replaced", content_type="video/mp4")
    assert await storage.get(key) == b"replaced"
    await storage.delete(key)
    await storage.delete(key)  # deleting what is gone is no error


async def test_r_evt_1_local_storage_round_trip(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    await _round_trip(storage)
    key = f"uploads/{uuid.uuid4()}/000001"
    await storage.put(key, b"chunk", content_type="application/octet-stream")
    assert (tmp_path / key).read_bytes() == b"chunk"
    # Written under a temporary name and renamed: nothing half-written is left beside it.
    assert [p.name for p in (tmp_path / key).parent.iterdir()] == ["000001"]
    with pytest.raises(FileNotFoundError):
        await storage.get(f"files/{uuid.uuid4()}")


async def test_r_evt_1_s3_storage_round_trip(s3_storage: S3Storage) -> None:
    await _round_trip(s3_storage)
    with pytest.raises(ClientError):
        await s3_storage.get(f"files/{uuid.uuid4()}")


@pytest.mark.parametrize("key", ["../etc/passwd", "files/../../x", "/files/abc", "files/ABC", ""])
async def test_keys_cannot_leave_the_store(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError):
        await LocalStorage(tmp_path).put(key, b"x", content_type="text/plain")


def test_the_setting_chooses_the_backend(tmp_path: Path) -> None:
    local = storage_from(Settings(storage_dir=str(tmp_path)))
    assert isinstance(local, LocalStorage) and local.root == tmp_path
    s3 = storage_from(Settings(storage_backend="s3", s3_bucket="evidence"))
    assert isinstance(s3, S3Storage) and s3.bucket == "evidence"
    with pytest.raises(ValueError):
        storage_from(Settings(storage_backend="ftp"))
