"""Gather the benchmark's figures and render them as the results table."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import metadata
import os
from pathlib import Path
import platform
import sys
import time


class BenchmarkInvalidError(Exception):
    """A measurement did not do what it claims, so its figure would be wrong."""


def expect(condition: bool, what: str) -> None:
    """Stop the run when a measurement did not do what it claims."""
    if not condition:
        raise BenchmarkInvalidError(f"expected {what}")


@dataclass(frozen=True, kw_only=True, slots=True)
class Figure:
    """One measured figure beside its target and its baseline."""

    order: int
    name: str
    target: str
    measured: str
    passed: bool
    detail: str


@dataclass(slots=True)
class BenchReport:
    """Figures collected during one run of the benchmark."""

    figures: list[Figure] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def add(self, figure: Figure) -> None:
        """Record a figure."""
        self.figures.append(figure)

    def render(self) -> str:
        """Return results.md: the table, the machine and the method."""
        lines = [
            "# Benchmark results",
            "",
            "Written by `scripts/bench`; do not edit by hand. Every ratio is the",
            "integration's figure over a bare `clarifai-grpc` aio call measured in",
            "the same run, interleaved, against the same emulator.",
            "",
            "| figure | target | measured | result |",
            "|---|---|---|---|",
        ]
        lines.extend(
            f"| {figure.name} | {figure.target} | {figure.measured} | "
            f"{'pass' if figure.passed else '**MISS**'} |"
            for figure in sorted(self.figures, key=lambda figure: figure.order)
        )
        if len(self.figures) < FIGURE_COUNT:
            lines.append(
                f"| {FIGURE_COUNT - len(self.figures)} figure(s) | | not measured: "
                "the run failed before them | **MISS** |"
            )
        lines += ["", "## Baselines and details", ""]
        lines.extend(
            f"- **{figure.name}**: {figure.detail}"
            for figure in sorted(self.figures, key=lambda figure: figure.order)
        )
        lines += ["", "## Machine", "", *_machine_lines(), ""]
        lines.append(
            f"The whole run took {time.monotonic() - self.started:.0f} seconds."
        )
        lines += ["", METHOD]
        return "\n".join(lines) + "\n"


FIGURE_COUNT = 6


def _machine_lines() -> list[str]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.partition(":")[2].strip()
                break
    versions = ", ".join(
        f"{package} {_version(package)}"
        for package in ("homeassistant", "clarifai-grpc", "grpcio", "protobuf")
    )
    return [
        f"- CPU: {cpu}, {os.cpu_count()} logical cores (nproc "
        f"{len(os.sched_getaffinity(0))})",
        f"- {platform.system()} {platform.release()}, Python {sys.version.split()[0]}",
        f"- {versions}",
    ]


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


METHOD = """\
## Method

Run `scripts/bench` from the repository root. It brings `.venv` up to date
like `scripts/test` does, then runs `bench/bench_prediction.py` with the Home
Assistant test plugin: each `bench_*` function gets a real Home Assistant
instance (the plugin's `hass`), with asyncio's debug mode switched back off as
in production. The benchmark is not a test and never runs in CI; the normal
test run only collects `tests/`.

- **Emulator.** `python -m clarifai_emulator` runs in its own process with no
  added latency, so its CPU time does not land in Home Assistant's event loop.
  It answers the `Face` workflow fixture. Every ratio therefore compares the
  integration's local cost with the cheapest possible call; against Clarifai's
  cloud, where a call takes 100 ms and more, the same overhead is a far smaller
  share.
- **Baseline.** A bare `V2Stub(ClarifaiChannel.get_aio_insecure_grpc_channel())`
  built in the same process and loop, sending `PostWorkflowResults` with the
  same image to the same emulator, building its request on every call as any
  client must. Integration (A) and baseline (B) run in alternating blocks
  (ABBA order) after a warm-up, so a noisy neighbour hits both; the table shows
  the ratio of the medians.
- **Action.** `clarifai.predict` called with `blocking=True` on one camera that
  serves a JPEG from memory (Home Assistant's demo photo, 43 kB): the camera
  image is fetched, sent, the answer formatted (flat) and `clarifai.prediction`
  fired; a listener counts the events to prove each one was fired.
- **16 cameras.** The `image_processing` platform set up from YAML with 16
  cameras; one sample is `image_processing.scan` over all 16 entities (each
  fetches, predicts, fires its event and writes its state, concurrently),
  against 16 bare calls under `asyncio.gather`.
- **Event-loop stall.** A heartbeat scheduled with `loop.call_at` every 1 ms
  records how late each beat runs; the figure is the latest beat while the
  action predicts a 3840x2160 JPEG of about 2 MB (generated with Pillow from
  seeded noise, never committed). The same heartbeat over bare calls with the
  same image, and over an idle loop, are its baselines: a stall the bare call
  shows too belongs to grpc or the machine, not to the integration.
- **Bytes sent.** A TCP relay in front of the emulator counts the bytes the
  client sends, that is everything on the wire: HTTP/2 frames and headers,
  gRPC's 5-byte message prefix, the protobuf request, window updates and
  pings. After one warm-up call (connection preface and HPACK table), the
  bytes of N predictions are divided by N and by the image size. Counting on
  the wire catches any re-encoding (base64 would show as 1.33) that the
  emulator's decoded request would hide. The worse of a 43 kB and a 2 MB image
  is the figure; the bare client through the same relay is the baseline.
- **Memory.** VmRSS from `/proc/self/status` after `gc.collect()`, once after
  200 warm-up predictions and again after 5,000 more through the action.
- **Formatting.** `timeit` of `flatten_workflow_result` on an answer with 100
  regions of 50 concepts each (the same 50 concept names in every region, as a
  recognizer returns), best of 200 repeats of 5 calls. The baseline is merely
  walking the same message (reading every concept's name and value), the floor
  any formatting in Python pays.
"""
