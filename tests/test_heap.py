"""services.heap: the API and the worker freeze what they keep once started, so that full
collections no longer walk it, and collect their young generation less often."""

import gc
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from api.app import create_app
from services import heap
from workers.settings import shutdown, startup


@pytest.fixture
def unsettled() -> Iterator[None]:
    """The collector as CPython starts it; as it was, afterwards."""
    before = gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def frozen(kept: object) -> bool:
    # Frozen objects are in no generation that get_objects lists.
    return gc.is_tracked(kept) and not any(o is kept for o in gc.get_objects())


def test_settling_freezes_what_is_kept_and_collects_what_is_not(unsettled: None) -> None:
    kept: list[Any] = [[]]
    cycle: list[Any] = []
    cycle.append(cycle)
    collected_before = gc.get_stats()[2]["collected"]
    del cycle
    heap.settle()
    assert frozen(kept)
    assert gc.get_stats()[2]["collected"] > collected_before
    assert gc.get_threshold() == (heap.YOUNG_GENERATION, 10, 10)


async def _api() -> None:
    application = create_app()
    async with application.router.lifespan_context(application):
        pass


async def _worker() -> None:
    ctx: dict[str, Any] = {}
    await startup(ctx)
    await shutdown(ctx)


@pytest.mark.parametrize("start", [_api, _worker], ids=["api", "worker"])
async def test_the_api_and_the_worker_settle_once_started(
    unsettled: None, start: Callable[[], Awaitable[None]]
) -> None:
    kept: list[Any] = [[]]
    await start()
    assert frozen(kept)
    assert gc.get_threshold()[0] == heap.YOUNG_GENERATION
