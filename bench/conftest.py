"""Fixtures of the benchmark: a Home Assistant like production, an emulator apart.

The benchmark runs with the Home Assistant test plugin for its `hass` fixture,
but it is not a test: `scripts/bench` collects `bench_*` functions from here,
and the normal test run (testpaths = tests) never sees this folder.
"""

# Import our integration before the test plugin points Home Assistant at its own
# testing_config, whose `custom_components` package would otherwise shadow ours.
import custom_components.clarifai  # noqa: F401  # isort: skip

import asyncio
from collections.abc import Generator
import os
from pathlib import Path
import subprocess
import sys

import pytest

from bench.report import BenchReport

# A session fixture: it starts grpc.aio's poller thread before any benchmark.
from tests.harness import grpc_aio_poller  # noqa: F401

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_PATH = REPO_ROOT / "bench" / "results.md"


@pytest.fixture(autouse=True)
async def enable_event_loop_debug() -> None:
    """Leave asyncio's debug mode off, as Home Assistant runs in production.

    The test plugin switches it on for every test; its bookkeeping on each
    callback would be measured as the integration's cost.
    """
    asyncio.get_running_loop().set_debug(False)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load the integration from custom_components."""


@pytest.fixture(scope="session")
def emulator_endpoint() -> Generator[str]:
    """Run the emulator in its own process, with no added latency.

    In a separate process its CPU time does not land in Home Assistant's
    event loop, where it would be counted against the integration (and
    against the bare client, diluting the ratio).
    """
    # Port 0: the emulator picks a free port and prints its endpoint.
    process = subprocess.Popen(
        [sys.executable, "-m", "clarifai_emulator", "--port", "0"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        text=True,
    )
    try:
        first_line = process.stdout.readline() if process.stdout else ""
        if "listening on " not in first_line:
            raise RuntimeError(f"the Clarifai emulator did not start: {first_line}")
        yield first_line.rpartition("listening on ")[2].strip()
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def report() -> Generator[BenchReport]:
    """Collect every figure; print the table and write results.md at the end."""
    collected = BenchReport()
    yield collected
    table = collected.render()
    RESULTS_PATH.write_text(table, encoding="utf-8")
    print()  # noqa: T201
    print(table)  # noqa: T201
