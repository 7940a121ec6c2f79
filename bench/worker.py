"""The arq workers a run starts (`python -m bench.worker product|floor`).

`product` is the product's worker (`workers.settings.WorkerSettings`: its startup, JSON
serialisation, concurrency and jobs, imports among them) with one job more, a no-op the
pickup scenario enqueues, and without its crons: their periodic sweeps over the data set
would run through the timings. `floor` is a bare arq worker — arq's defaults, an empty
function — on a queue of its own in the same Redis. Both run as `gridctl worker` runs
(`workers.runner`)."""

import sys
from typing import Any

from workers.queue import redis_settings
from workers.runner import run
from workers.settings import WorkerSettings

NOOP = "bench_noop"
FLOOR_QUEUE = "bench:floor"


async def bench_noop(ctx: dict[str, Any]) -> None:
    """Nothing: what the job costs is the queue's alone."""


def product_settings() -> dict[str, Any]:
    """The product's settings, changed as above (arq reads a settings class's own
    attributes only, so a subclass would lose them)."""
    own = {key: value for key, value in vars(WorkerSettings).items() if not key.startswith("_")}
    return {**own, "functions": (*WorkerSettings.functions, bench_noop), "cron_jobs": ()}


def floor_settings() -> dict[str, Any]:
    return {
        "functions": (bench_noop,),
        "queue_name": FLOOR_QUEUE,
        "redis_settings": redis_settings(),
    }


def main() -> None:
    run(product_settings() if sys.argv[1] == "product" else floor_settings())


if __name__ == "__main__":
    main()
