"""Command-centre polling (issue target 7): the dashboard summary polled as screens poll it,
with `If-None-Match` set to the ETag of a first GET, counting the 304s — against the floor:
the same statements through asyncpg, the board's fingerprint first and the whole board only
when it no longer matches, polled the same way."""

from dataclasses import dataclass

import httpx

from bench.harness import Harness
from bench.load import poll_wrk
from bench.report import Outcome, Side

URL = "/api/v1/command-centre/summary"
MIN_RATE = 500
MAX_P95_MS = 50
MIN_NOT_MODIFIED = 0.8


@dataclass(frozen=True)
class PollingScenario:
    group: str = "7 polling"
    name: str = "command-centre summary polled with If-None-Match"
    connections: int = 16

    def measure(self, h: Harness) -> Outcome:
        first = httpx.get(h.product_url + URL, headers=h.auth, timeout=120)
        first.raise_for_status()
        floor_url = f"{h.floor_url}/summary?user_id={h.user_id}"
        floor_first = httpx.get(floor_url, timeout=120)
        floor_first.raise_for_status()
        notes: list[str] = []
        h.settle("product", notes)
        product = poll_wrk(
            h.product_url + URL,
            token=h.token,
            etag=first.headers["ETag"],
            seconds=h.seconds,
            connections=self.connections,
        )
        h.settle("floor", notes)
        floor = poll_wrk(
            floor_url,
            token=h.token,
            etag=floor_first.headers["ETag"],
            seconds=h.seconds,
            connections=self.connections,
        )
        share = product.not_modified / product.requests if product.requests else 0.0
        floor_share = floor.not_modified / floor.requests if floor.requests else 0.0
        ratio = floor.rate / product.rate if product.rate else None
        return Outcome(
            self.group,
            self.name,
            Side(
                product.rate,
                product.p50_ms,
                product.p95_ms,
                product.failures,
                detail=f"{share:.0%} answered 304",
            ),
            Side(
                floor.rate,
                floor.p50_ms,
                floor.p95_ms,
                floor.failures,
                detail=f"{floor_share:.0%} answered 304",
            ),
            ratio,
            [
                ("no failed requests", product.failures == 0),
                (f"≥ {MIN_RATE}/s", product.rate >= MIN_RATE),
                (f"p95 ≤ {MAX_P95_MS} ms", product.p95_ms <= MAX_P95_MS),
                (f"≥ 80 % answered 304 ({share:.0%})", share >= MIN_NOT_MODIFIED),
            ],
            notes,
        )
