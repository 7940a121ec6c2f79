"""A real S3-compatible server for the S3 storage backend: moto in server mode on a free
local port (a stand-in for the third-party object store, spoken to over HTTP), with a
bucket of its own."""

import socket
import uuid
from collections.abc import AsyncIterator, Iterator

import aioboto3
import pytest
from moto.server import ThreadedMotoServer

from services.storage_s3 import S3Storage

KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
async def s3_storage(s3_endpoint: str) -> AsyncIterator[S3Storage]:
    bucket = f"grid-test-{uuid.uuid4().hex[:12]}"
    session = aioboto3.Session(region_name="us-east-1", **KEYS)
    async with session.client("s3", endpoint_url=s3_endpoint) as s3:
        await s3.create_bucket(Bucket=bucket)
    yield S3Storage(
        bucket=bucket,
        endpoint_url=s3_endpoint,
        region="us-east-1",
        access_key_id=KEYS["aws_access_key_id"],
        secret_access_key=KEYS["aws_secret_access_key"],
    )
