"""Every bench under bench/ still runs and passes its own correctness check.

A bench is a script nothing imports, so a product change can break it silently (a reply
that reads differently, a new column its SQL does not fill) until somebody next wants its
figures. Each runs here in its smallest mode, as a subprocess from the repository root, on
SQLite only: the benches wipe their PostgreSQL database, and CI's is shared with this suite,
so the PostgreSQL variables are taken out of their environment. Nothing here asserts a
speed, only the exit status and the bench's own check line.

The benches run side by side (started together, the first time one is needed, only those
selected), so the file costs about as long as the slowest of them, not their sum.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 300  # seconds for any one bench, started alongside the others on a busy machine


@dataclass(frozen=True)
class Bench:
    script: str
    args: tuple[str, ...]
    check: str  # a regular expression a line of its output must match


BENCHES = (
    Bench("booking.py", ("--ops", "50"), r"^sqlite check: ok$"),
    Bench(
        "conversation.py",
        ("--customers", "10", "--concurrency", "1,5"),
        r"^check: ok \(\d+ customers over 2 runs",
    ),
    Bench("delivery.py", ("--smoke", "--only", "sqlite"), r"^check: ok \(5 runs, 0 lost"),
    # SIGTERM rather than kill -9: the same harness, without waiting out the dead process's
    # 10 s leases.
    Bench(
        "inbound.py",
        ("--only", "sqlite", "--messages", "20", "--cases", "term"),
        r"^sqlite\s+SIGTERM\s+ok: ",
    ),
    Bench("inbox_claim.py", ("--history", "5000", "--waiting", "200"), r"^check: ok "),
    Bench(
        "payments.py",
        ("--customers", "250", "--concurrency", "20"),
        r"^  \[ok\] every paid booking confirmed exactly once: ",
    ),
    Bench("recurring.py", ("--sizes", "25,50"), r"^check: ok "),
    Bench("scale.py", ("--smoke",), r"^check sqlite: ok "),
    Bench("slots.py", ("--runs", "5"), r"^check: ok "),
)


def test_every_bench_is_listed() -> None:
    scripts = {p.name for p in (ROOT / "bench").glob("*.py")}
    helpers = {"cpu_use.py", "disposable_postgres.py", "machine_line.py", "scale_data.py"}
    assert scripts - helpers == {b.script for b in BENCHES}


@dataclass
class Started:
    process: subprocess.Popen[bytes]
    output: IO[bytes]

    def finish(self) -> tuple[int, str]:
        try:
            code = self.process.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            code = -1
        self.output.seek(0)
        return code, self.output.read().decode(errors="replace")


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if "POSTGRES_URL" not in k}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    return env


def _start(bench: Bench) -> Started:
    output = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the fixture
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / bench.script), *bench.args],
        cwd=ROOT,
        env=_environment(),
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    return Started(process, output)


@pytest.fixture(scope="module")
def runs(request: pytest.FixtureRequest) -> Iterator[dict[str, Started]]:
    """The selected benches, all started at once."""
    wanted = [
        item.callspec.params["bench"]
        for item in request.session.items
        if isinstance(item, pytest.Function)
        and item.originalname == "test_bench_runs"
        and hasattr(item, "callspec")
    ]
    started = {b.script: _start(b) for b in BENCHES if b in wanted}
    yield started
    for run in started.values():
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait()
        run.output.close()


@pytest.mark.parametrize("bench", BENCHES, ids=[b.script for b in BENCHES])
def test_bench_runs(bench: Bench, runs: dict[str, Started]) -> None:
    code, output = runs[bench.script].finish()
    tail = output[-4000:]
    assert code == 0, f"bench/{bench.script} exited {code}:\n{tail}"
    assert re.search(bench.check, output, re.MULTILINE), f"no {bench.check!r} in:\n{tail}"
