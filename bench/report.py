"""A scenario's outcome and the results file."""

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bench.dataset import Scale


@dataclass(frozen=True)
class Side:
    """One side of a scenario: throughput (or one run's time) and latency, and what else
    it measured in words (`detail`)."""

    rate: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    failures: int = 0
    seconds: float | None = None
    detail: str = ""

    def text(self) -> str:
        parts = []
        if self.seconds is not None:
            parts.append(f"{self.seconds:,.1f} s")
        if self.rate is not None:
            parts.append(f"{self.rate:,.0f}/s")
        if self.p50_ms is not None:
            parts.append(f"p50 {self.p50_ms:.1f} ms")
        if self.p95_ms is not None:
            parts.append(f"p95 {self.p95_ms:.1f} ms")
        if self.failures:
            parts.append(f"{self.failures} failed")
        if self.detail:
            parts.append(self.detail)
        return ", ".join(parts)


@dataclass(frozen=True)
class Outcome:
    group: str
    name: str
    product: Side
    floor: Side
    # Product cost over the floor's for the same work (≥ 1 means the product is slower).
    ratio: float | None
    checks: list[tuple[str, bool]] = field(default_factory=list)
    # How the run went beyond the figures: waits for the previous side to drain, a file
    # cut to the scale.
    notes: list[str] = field(default_factory=list)

    @property
    def met(self) -> bool:
        return all(ok for _, ok in self.checks)

    def line(self) -> str:
        ratio = f" ratio {self.ratio:.2f}" if self.ratio is not None else ""
        sides = f"product {self.product.text()} | floor {self.floor.text()}"
        missed = [text for text, ok in self.checks if not ok]
        verdict = f"missed: {'; '.join(missed)}" if missed else "met"
        notes = "".join(f" ({note})" for note in self.notes)
        return f"[{self.group}] {self.name}: {sides}{ratio} — {verdict}{notes}"


def write_report(
    path: Path,
    *,
    scale: Scale,
    when: datetime,
    machine: str,
    build_timings: dict[str, float],
    outcomes: list[Outcome],
) -> None:
    lines = [
        "# Benchmark results",
        "",
        f"- Date: {when:%Y-%m-%d %H:%M} UTC",
        f"- Machine: {machine}",
        f"- Scale: `{scale.name}` — {scale.people:,} people, ~{scale.grids:,} grids, "
        f"{scale.events:,} events",
    ]
    for phase, seconds in build_timings.items():
        lines.append(f"- Build ({phase.removesuffix('_s')}): {seconds:,.0f} s")
    if not build_timings:
        lines.append("- Build: not recorded (the database was built before its timings were kept)")
    lines += [
        "",
        "Ratio = the product's cost per unit of work over the floor's (bare SQL via raw "
        "asyncpg + orjson, same queries, same uvicorn) in the same run.",
        "",
        "| Group | Scenario | Product | Floor | Ratio | Targets | Notes |",
        "|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        ratio = f"{o.ratio:.2f}" if o.ratio is not None else "—"
        targets = "; ".join(f"{'✅' if ok else '❌'} {text}" for text, ok in o.checks)
        sides = f"{o.product.text()} | {o.floor.text()}"
        notes = "; ".join(o.notes)
        lines.append(f"| {o.group} | {o.name} | {sides} | {ratio} | {targets} | {notes} |")
    missed = [o for o in outcomes if not o.met]
    lines += ["", f"Targets met: {len(outcomes) - len(missed)} of {len(outcomes)} scenarios."]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
