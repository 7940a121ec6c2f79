"""Attachments in a bucket of an S3-compatible store (AWS S3, MinIO, Ceph …) through the
maintained async client aioboto3."""

from collections.abc import AsyncIterator
from typing import Any

import aioboto3

from services.storage import PIECE, check_key


class S3Storage:
    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None,
        region: str,
        access_key_id: str | None,
        secret_access_key: str | None,
    ) -> None:
        self.bucket = bucket
        self._session = aioboto3.Session(
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            region_name=region,
        )
        self._endpoint_url = endpoint_url

    def _client(self) -> Any:
        return self._session.client("s3", endpoint_url=self._endpoint_url)

    async def put(self, key: str, data: bytes, *, content_type: str) -> None:
        async with self._client() as s3:
            await s3.put_object(
                Bucket=self.bucket, Key=check_key(key), Body=data, ContentType=content_type
            )

    async def get(self, key: str) -> bytes:
        async with self._client() as s3:
            found = await s3.get_object(Bucket=self.bucket, Key=check_key(key))
            data: bytes = await found["Body"].read()
            return data

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        async with self._client() as s3:
            found = await s3.get_object(Bucket=self.bucket, Key=check_key(key))
            body = found["Body"]
            try:
                async for piece in body.iter_chunks(PIECE):
                    yield piece
            finally:
                body.close()

    async def delete(self, key: str) -> None:
        async with self._client() as s3:
            await s3.delete_object(Bucket=self.bucket, Key=check_key(key))
