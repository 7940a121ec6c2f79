"""The import job's read-ahead (R-IMP-1: a file's rows are read and checked while the batch
before them is filed): the next item is made while the consumer works, in order, and
closing waits for the item in the making."""

import asyncio
import threading
from contextlib import aclosing

import pytest

from services.read_ahead import read_ahead


async def test_items_come_in_order_and_stop_at_none() -> None:
    items = iter(range(1, 6))
    async with aclosing(read_ahead(lambda: next(items, None))) as ahead:
        assert [item async for item in ahead] == [1, 2, 3, 4, 5]


async def test_the_next_item_is_made_while_the_consumer_works_on_this_one() -> None:
    second_started = threading.Event()
    calls = iter(range(3))

    def produce() -> int | None:
        call = next(calls)
        if call == 1:
            second_started.set()
        return call if call < 2 else None

    async with aclosing(read_ahead(produce)) as ahead:
        seen = []
        async for item in ahead:
            if item == 0:
                # The consumer holds the first item and has not asked for the second yet:
                # a producer that took turns with it would never start the second.
                assert await asyncio.to_thread(second_started.wait, 10)
            seen.append(item)
    assert seen == [0, 1]


async def test_closing_early_waits_for_the_item_in_the_making() -> None:
    gate = threading.Event()
    finished: list[int] = []

    def produce() -> int | None:
        if not finished:
            finished.append(0)
            return 0
        gate.wait(10)
        sum(range(3_000_000))  # work that outlasts a close that would not wait
        finished.append(1)
        return 1

    async with aclosing(read_ahead(produce)) as ahead:
        async for _ in ahead:
            gate.set()
            break
    assert finished == [0, 1]


async def test_a_failure_in_the_thread_reaches_the_consumer() -> None:
    def produce() -> int | None:
        raise ValueError("unreadable")

    with pytest.raises(ValueError, match="unreadable"):
        async with aclosing(read_ahead(produce)) as ahead:
            async for _ in ahead:
                pass
