"""R-IMP-1: an import streams — a 1,000,000-row file is never held in memory. A fresh
interpreter writes such a CSV, then reads and checks it through the import's own reader and
row checks (`services.imports.staged_batches`, what the job runs before each COPY); its peak
resident size after the first 50,000 rows and at the end differ by less than a batch would
need if rows were kept."""

import json
import subprocess
import sys
from pathlib import Path

ROWS = 1_000_000
SCRIPT = """
import json, resource, sys
from datetime import date
from pathlib import Path
from domain.imports import TEMPLATES
from services import imports
from services.imports_files import open_table

template = TEMPLATES["people_registered"]
path = Path(sys.argv[1])
rows = int(sys.argv[2])
keys = [c.key for c in template.columns]
with path.open("w", encoding="utf-8-sig") as out:
    out.write(",".join(template.headers) + "\\n")
    for i in range(rows):
        cells = dict.fromkeys(keys, "")
        cells.update(name=f"居民{i}", phone="13800001111", no_house_reason="借住")
        out.write(",".join(cells[k] for k in keys) + "\\n")

def peak_kib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

read, early = 0, None
with open_table(path, "csv") as table:
    for batch in imports.staged_batches(template, table.rows, date(2026, 11, 23)):
        read += len(batch)
        if early is None and read >= 50_000:
            early = peak_kib()
print(json.dumps({"read": read, "early": early, "end": peak_kib()}))
"""


def test_a_million_row_file_is_read_in_flat_memory_r_imp_1(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "million.csv"), str(ROWS)],
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    report = json.loads(done.stdout)
    assert report["read"] == ROWS
    # A million kept rows would take hundreds of megabytes; growth stays within 16 MiB.
    assert report["end"] - report["early"] < 16 * 1024, report
