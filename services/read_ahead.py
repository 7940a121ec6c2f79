"""Blocking work done in a thread one step ahead of its consumer on the event loop.

An import reads and checks the file's next batch (CPU, in a thread) while the database files
the batch before it (I/O, awaited on the loop): the two overlap instead of taking turns, so a
batch costs the longer of the two rather than their sum."""

import asyncio
from collections.abc import AsyncGenerator, Callable
from typing import TypeVar

T = TypeVar("T")


async def read_ahead(produce: Callable[[], T | None]) -> AsyncGenerator[T, None]:
    """The items `produce` returns, made in a thread, until it returns None; the next item is
    in the making while the consumer works on this one. Close it (`contextlib.aclosing`):
    closing waits for the item in the making, so nothing the thread reads (an open file) is
    closed under it."""
    pending = asyncio.ensure_future(asyncio.to_thread(produce))
    try:
        while (item := await pending) is not None:
            pending = asyncio.ensure_future(asyncio.to_thread(produce))
            yield item
    finally:
        await asyncio.wait([pending])
        if not pending.cancelled():
            # Read, so an item the consumer no longer wants cannot fail unseen.
            pending.exception()
