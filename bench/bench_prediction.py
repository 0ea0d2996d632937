"""What a prediction costs: the integration beside a bare clarifai-grpc call.

Each `bench_*` function measures one or two figures of the issue's table in
a fresh Home Assistant instance and hands them to the session's report.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
import gc
import io
from pathlib import Path
import random
import statistics
import time
import timeit
from typing import Any
from urllib.parse import urlsplit

from clarifai_grpc.channel.clarifai_channel import ClarifaiChannel
from clarifai_grpc.grpc.api import resources_pb2, service_pb2, service_pb2_grpc
from clarifai_grpc.grpc.api.status import status_code_pb2
from PIL import Image
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
)

from bench.report import BenchReport, Figure, expect
from clarifai_emulator.world import DEFAULT_ACCESS_TOKEN, DEFAULT_USER_ID
from custom_components.clarifai.const import CONF_ENDPOINT, DOMAIN, EVENT_PREDICTION
from custom_components.clarifai.formatting import flatten_workflow_result
from homeassistant.const import CONF_ACCESS_TOKEN
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.setup import async_setup_component
from tests.harness import async_set_up_still_cameras, demo_jpeg

APP_ID = "home"
WORKFLOW_ID = "Face"
DEMO_JPEG = demo_jpeg(0)

# Samples per side for the ratios: the issue asks for a median of >= 200.
ACTION_SAMPLES = 300
SCAN_ROUNDS = 200
BLOCK = 20
WARM_UP = 30
CAMERA_COUNT = 16
STALL_PREDICTIONS = 30
HEARTBEAT_INTERVAL = 0.001
WIRE_PREDICTIONS = 20
MEMORY_WARM_UP = 200
MEMORY_PREDICTIONS = 5000
REGION_COUNT = 100
CONCEPTS_PER_REGION = 50
FORMATTING_ROUNDS = 40


# --- Home Assistant pieces --------------------------------------------------


async def async_add_cameras(hass: HomeAssistant, images: dict[str, bytes]) -> list[str]:
    """Set up one camera per name, serving its image; return their entity ids."""
    entities = await async_set_up_still_cameras(hass, dict(images), "bench_camera")
    return [entity.entity_id for entity in entities]


async def async_add_clarifai(hass: HomeAssistant, endpoint: str) -> MockConfigEntry:
    """Set up a Clarifai entry against the given endpoint."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Emulator User",
        unique_id=f"{DEFAULT_USER_ID}-{endpoint}",
        data={CONF_ACCESS_TOKEN: DEFAULT_ACCESS_TOKEN, CONF_ENDPOINT: endpoint},
    )
    entry.add_to_hass(hass)
    expect(await hass.config_entries.async_setup(entry.entry_id), "the entry loaded")
    await hass.async_block_till_done()
    return entry


class EventCounter:
    """Count clarifai.prediction events, to prove each prediction fired one."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Listen on the bus."""
        self.count = 0
        self.unsubscribe = hass.bus.async_listen(EVENT_PREDICTION, self._on_event)

    @callback
    def _on_event(self, event: Event) -> None:
        self.count += 1


def predict_action(
    hass: HomeAssistant, camera: str, entry: MockConfigEntry | None = None
) -> Callable[[], Awaitable[None]]:
    """Return one clarifai.predict call on one camera, as a user would make it."""
    data: dict[str, Any] = {
        "entity_id": camera,
        "app_id": APP_ID,
        "workflow_id": WORKFLOW_ID,
        "result_format": "flat",
    }
    if entry is not None:
        data["config_entry_id"] = entry.entry_id

    async def predict() -> None:
        await hass.services.async_call(DOMAIN, "predict", data, blocking=True)

    return predict


# --- The bare client ---------------------------------------------------------


class BareClient:
    """clarifai-grpc's aio stub with nothing around it: the baseline."""

    def __init__(self, endpoint: str) -> None:
        """Open a channel of its own to the endpoint."""
        parts = urlsplit(endpoint)
        self.channel = ClarifaiChannel.get_aio_insecure_grpc_channel(
            parts.hostname, parts.port
        )
        self.stub = service_pb2_grpc.V2Stub(self.channel)
        self.metadata = (("authorization", f"Key {DEFAULT_ACCESS_TOKEN}"),)

    async def predict(self, image: bytes) -> None:
        """Run the workflow on an image, with the cheapest request to build.

        The image is set in place rather than nested as in Clarifai's
        examples, which copy it at every level: the baseline is the fastest
        a client can be, not a typical one.
        """
        request = service_pb2.PostWorkflowResultsRequest(
            user_app_id=resources_pb2.UserAppIDSet(
                user_id=DEFAULT_USER_ID, app_id=APP_ID
            ),
            workflow_id=WORKFLOW_ID,
        )
        request.inputs.add().data.image.base64 = image
        response = await self.stub.PostWorkflowResults(
            request, metadata=self.metadata, timeout=30
        )
        if response.status.code != status_code_pb2.SUCCESS:
            raise RuntimeError(response.status.description)

    async def close(self) -> None:
        """Close the channel."""
        await self.channel.close()


@asynccontextmanager
async def bare_client(endpoint: str) -> AsyncGenerator[BareClient]:
    """Open a bare client for the block, and close it after."""
    client = BareClient(endpoint)
    try:
        yield client
    finally:
        await client.close()


# --- Measuring ---------------------------------------------------------------


async def interleaved(
    integration: Callable[[], Awaitable[None]],
    baseline: Callable[[], Awaitable[None]],
    samples: int,
) -> tuple[list[float], list[float]]:
    """Time both sides in alternating blocks (ABBA) after a warm-up."""
    for _ in range(WARM_UP):
        await integration()
        await baseline()

    timings: tuple[list[float], list[float]] = ([], [])
    sides = ((integration, timings[0]), (baseline, timings[1]))
    block = 0
    while len(timings[0]) < samples or len(timings[1]) < samples:
        order = sides if block % 2 == 0 else sides[::-1]
        for run, durations in order:
            for _ in range(BLOCK):
                started = time.perf_counter()
                await run()
                durations.append(time.perf_counter() - started)
        block += 1
    return timings


def ratio_figure(
    order: int,
    name: str,
    integration: list[float],
    baseline: list[float],
    unit: str,
) -> Figure:
    """Compare the medians of two timings against the 1.15 target."""
    median_a = statistics.median(integration)
    median_b = statistics.median(baseline)
    ratio = median_a / median_b
    return Figure(
        order=order,
        name=name,
        target="<= 1.15",
        measured=f"{ratio:.3f}",
        passed=ratio <= 1.15,
        detail=(
            f"median {median_a * 1000:.3f} ms per {unit} through the integration, "
            f"{median_b * 1000:.3f} ms through the bare client "
            f"(n = {len(integration)} and {len(baseline)}; "
            f"p90 {_quantile(integration, 0.9) * 1000:.3f} ms vs "
            f"{_quantile(baseline, 0.9) * 1000:.3f} ms); overhead "
            f"{(median_a - median_b) * 1000:.3f} ms per {unit}"
        ),
    )


def _quantile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


class Heartbeat:
    """Beat every millisecond; record the longest gap between beats.

    Two measures of one gap: wall-clock lateness, and the CPU time the
    loop's thread spent between the beats. They differ when the OS runs
    another process instead of the loop (this machine is shared), which
    stalls an idle Home Assistant just the same; the CPU time is the part
    that work in the loop is to blame for.
    """

    def __init__(self) -> None:
        """Prepare; nothing runs until start()."""
        self.loop = asyncio.get_running_loop()
        self.wall = 0.0
        self.busy = 0.0
        self._due = 0.0
        self._cpu = 0.0
        self._handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Start beating; forget earlier beats."""
        self.wall = self.busy = 0.0
        self._cpu = time.thread_time()
        self._due = self.loop.time() + HEARTBEAT_INTERVAL
        self._handle = self.loop.call_at(self._due, self._beat)

    def stop(self) -> tuple[float, float]:
        """Stop beating; return the longest stall as (busy, wall) seconds."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        return self.busy, self.wall

    def _beat(self) -> None:
        now = self.loop.time()
        cpu = time.thread_time()
        self.wall = max(self.wall, now - self._due)
        self.busy = max(self.busy, cpu - self._cpu)
        self._cpu = cpu
        self._due = now + HEARTBEAT_INTERVAL
        self._handle = self.loop.call_at(self._due, self._beat)


async def stall_while(
    run: Callable[[], Awaitable[None]], times: int
) -> tuple[float, float]:
    """Return the longest stall (busy, wall) while awaiting run() `times` times."""
    heartbeat = Heartbeat()
    heartbeat.start()
    try:
        for _ in range(times):
            await run()
    finally:
        stall = heartbeat.stop()
    return stall


def four_k_jpeg() -> bytes:
    """Return a 3840x2160 JPEG of about 2 MB, made from seeded noise."""
    noise = random.Random(4096)  # noqa: S311 -- a picture, not a secret
    width, height, scale = 3840, 2160, 4
    small = Image.frombytes(
        "RGB",
        (width // scale, height // scale),
        noise.randbytes(width // scale * height // scale * 3),
    )
    picture = small.resize((width, height), Image.Resampling.BILINEAR)
    # Smoothed noise at this quality lands near 2 MB; step down if it is over.
    for quality in range(72, 40, -2):
        buffer = io.BytesIO()
        picture.save(buffer, "JPEG", quality=quality)
        if buffer.tell() <= 2_100_000:
            return buffer.getvalue()
    raise AssertionError("cannot make a 4K JPEG of about 2 MB")


class WireCounter:
    """A TCP relay in front of the emulator, counting what the client sends."""

    def __init__(self, target: str) -> None:
        """Relay to the endpoint's host and port."""
        parts = urlsplit(target)
        self._target_host = parts.hostname or "127.0.0.1"
        self._target_port = parts.port or 80
        self.sent = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> str:
        """Listen on a free loopback port; return the endpoint to use."""
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        """Close the listener and every relayed connection."""
        if self._server is not None:
            self._server.close()
        for writer in self._writers:
            writer.close()
        for task in self._tasks:
            task.cancel()
        for task in list(self._tasks):
            with suppress(asyncio.CancelledError, ConnectionError):
                await task
        if self._server is not None:
            await self._server.wait_closed()

    async def _relay(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        server_reader, server_writer = await asyncio.open_connection(
            self._target_host, self._target_port
        )
        self._writers += [client_writer, server_writer]
        for pump in (
            self._pump(client_reader, server_writer, count=True),
            self._pump(server_reader, client_writer, count=False),
        ):
            task = asyncio.create_task(pump)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, count: bool
    ) -> None:
        try:
            while chunk := await reader.read(256 * 1024):
                if count:
                    self.sent += len(chunk)
                writer.write(chunk)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()


async def bytes_per_prediction(
    counter: WireCounter, run: Callable[[], Awaitable[None]]
) -> float:
    """Return the bytes the client sends per call, after one warm-up call."""
    await run()
    before = counter.sent
    for _ in range(WIRE_PREDICTIONS):
        await run()
    return (counter.sent - before) / WIRE_PREDICTIONS


def resident_memory() -> int:
    """Return this process's resident memory in bytes, after a full collection."""
    gc.collect()
    for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def large_answer() -> resources_pb2.WorkflowResult:
    """Return a workflow answer with 100 regions of 50 concepts each."""
    rng = random.Random(100)  # noqa: S311 -- made-up scores, not a secret
    result = resources_pb2.WorkflowResult(id="bench")
    output = result.outputs.add()
    output.model.id = "face-identifier"
    output.status.code = status_code_pb2.SUCCESS
    for index in range(REGION_COUNT):
        region = output.data.regions.add()
        region.id = f"region-{index}"
        top, left = rng.random() * 0.8, rng.random() * 0.8
        box = region.region_info.bounding_box
        box.top_row, box.left_col = top, left
        box.bottom_row, box.right_col = top + 0.1, left + 0.1
        for concept_index in range(CONCEPTS_PER_REGION):
            concept = region.data.concepts.add()
            concept.id = f"ai_{concept_index:04d}"
            concept.name = f"person {concept_index}"
            concept.value = rng.random()
    return result


def _walk(result: resources_pb2.WorkflowResult) -> None:
    for output in result.outputs:
        for region in output.data.regions:
            for concept in region.data.concepts:
                concept.name  # noqa: B018
                concept.value  # noqa: B018


# --- The benchmarks ----------------------------------------------------------


async def bench_memory(
    hass: HomeAssistant, emulator_endpoint: str, report: BenchReport
) -> None:
    """Measure resident memory before and after 5,000 predictions.

    Runs first, in a process that has held no 4K picture yet, so memory
    other benchmarks free meanwhile does not hide a leak.
    """
    [camera] = await async_add_cameras(hass, {"Front door": DEMO_JPEG})
    await async_add_clarifai(hass, emulator_endpoint)
    predict = predict_action(hass, camera)
    events = EventCounter(hass)

    for _ in range(MEMORY_WARM_UP):
        await predict()
    before = resident_memory()
    started = time.perf_counter()
    for _ in range(MEMORY_PREDICTIONS):
        await predict()
    elapsed = time.perf_counter() - started
    after = resident_memory()

    expect(
        events.count == MEMORY_WARM_UP + MEMORY_PREDICTIONS,
        "one event per prediction",
    )
    growth = (after - before) / 1e6
    report.add(
        Figure(
            order=5,
            name=f"resident memory growth over {MEMORY_PREDICTIONS:,} predictions",
            target="<= 10 MB",
            measured=f"{growth:+.2f} MB",
            passed=growth <= 10,
            detail=(
                f"VmRSS {before / 1e6:.1f} MB after {MEMORY_WARM_UP} warm-up "
                f"predictions, {after / 1e6:.1f} MB after {MEMORY_PREDICTIONS:,} "
                f"more ({elapsed:.1f} s, "
                f"{elapsed / MEMORY_PREDICTIONS * 1000:.2f} ms each)"
            ),
        )
    )


async def bench_action(
    hass: HomeAssistant, emulator_endpoint: str, report: BenchReport
) -> None:
    """One camera through clarifai.predict against one bare call, interleaved."""
    [camera] = await async_add_cameras(hass, {"Front door": DEMO_JPEG})
    await async_add_clarifai(hass, emulator_endpoint)
    events = EventCounter(hass)

    async with bare_client(emulator_endpoint) as bare:
        integration, baseline = await interleaved(
            predict_action(hass, camera),
            lambda: bare.predict(DEMO_JPEG),
            ACTION_SAMPLES,
        )

    expect(events.count == len(integration) + WARM_UP, "one event per prediction")
    report.add(
        ratio_figure(
            1,
            "time per prediction through `clarifai.predict` / bare aio call "
            f"(median, n >= {ACTION_SAMPLES})",
            integration,
            baseline,
            "prediction",
        )
    )


async def bench_scan(
    hass: HomeAssistant, emulator_endpoint: str, report: BenchReport
) -> None:
    """16 cameras scanned at once by the platform against 16 gathered calls."""
    cameras = await async_add_cameras(
        hass, {f"Camera {index:02d}": DEMO_JPEG for index in range(CAMERA_COUNT)}
    )
    await async_add_clarifai(hass, emulator_endpoint)
    platform_config = {
        "platform": DOMAIN,
        "app_id": APP_ID,
        "workflow_id": WORKFLOW_ID,
        # No result_format: the default, nested, as most users will have it;
        # each entity then also formats the answer flat for its attributes.
        # Only the scans measured here, never a poll in between.
        "scan_interval": 86400,
        "source": [{"entity_id": camera} for camera in cameras],
    }
    expect(
        await async_setup_component(
            hass, "image_processing", {"image_processing": platform_config}
        ),
        "the image processing platform set up",
    )
    await hass.async_block_till_done()
    scanners = hass.states.async_entity_ids("image_processing")
    expect(len(scanners) == CAMERA_COUNT, "one scanner per camera")
    events = EventCounter(hass)

    async def scan_all() -> None:
        await hass.services.async_call(
            "image_processing", "scan", {"entity_id": scanners}, blocking=True
        )

    async with bare_client(emulator_endpoint) as bare:

        async def predict_all() -> None:
            await asyncio.gather(
                *(bare.predict(DEMO_JPEG) for _ in range(CAMERA_COUNT))
            )

        integration, baseline = await interleaved(scan_all, predict_all, SCAN_ROUNDS)

    expect(
        events.count == (len(integration) + WARM_UP) * CAMERA_COUNT,
        "one event per camera and scan",
    )
    report.add(
        ratio_figure(
            2,
            f"same ratio, {CAMERA_COUNT} cameras scanned concurrently by the "
            f"`image_processing` platform (median, n >= {SCAN_ROUNDS} rounds)",
            integration,
            baseline,
            f"round of {CAMERA_COUNT}",
        )
    )


async def bench_stall_and_wire(
    hass: HomeAssistant,
    emulator_endpoint: str,
    report: BenchReport,
    socket_enabled: None,
) -> None:
    """Measure the longest event-loop stall on a 4K image, and the bytes sent.

    The wire counter is a relay made of Python sockets, which the test plugin
    blocks unless asked (`socket_enabled`).
    """
    four_k = four_k_jpeg()
    counter = WireCounter(emulator_endpoint)
    relayed = await counter.start()
    big, small = await async_add_cameras(hass, {"Big": four_k, "Small": DEMO_JPEG})
    direct_entry = await async_add_clarifai(hass, emulator_endpoint)
    relayed_entry = await async_add_clarifai(hass, relayed)

    # Stall: the integration (direct, no relay in the loop), then its baselines.
    predict_big = predict_action(hass, big, direct_entry)
    async with bare_client(emulator_endpoint) as bare:
        for _ in range(3):
            await predict_big()
            await bare.predict(four_k)
        stalls = []
        bare_stalls = []
        for _ in range(3):
            stalls.append(await stall_while(predict_big, STALL_PREDICTIONS // 3))
            bare_stalls.append(
                await stall_while(lambda: bare.predict(four_k), STALL_PREDICTIONS // 3)
            )
        idle_stall = await stall_while(lambda: asyncio.sleep(0.5), 1)

    busy, wall = max(stall[0] for stall in stalls), max(stall[1] for stall in stalls)
    bare_busy = max(stall[0] for stall in bare_stalls)
    bare_wall = max(stall[1] for stall in bare_stalls)
    report.add(
        Figure(
            order=3,
            name=f"longest event-loop stall while predicting a 4K JPEG "
            f"({len(four_k) / 1e6:.2f} MB)",
            target="<= 5 ms",
            measured=f"{busy * 1000:.2f} ms busy ({wall * 1000:.2f} ms wall)",
            passed=busy <= 0.005,
            detail=(
                f"over {STALL_PREDICTIONS} predictions through the action, the "
                f"loop's thread was busy for at most {busy * 1000:.2f} ms between "
                f"two heartbeats, and a beat came at most {wall * 1000:.2f} ms "
                f"late; the bare client with the same image: "
                f"{bare_busy * 1000:.2f} ms busy, {bare_wall * 1000:.2f} ms wall; "
                f"an idle loop: {idle_stall[0] * 1000:.2f} ms busy, "
                f"{idle_stall[1] * 1000:.2f} ms wall (heartbeat every "
                f"{HEARTBEAT_INTERVAL * 1000:g} ms)"
            ),
        )
    )

    # Bytes: both images through the relayed entry, and the bare client.
    ratios: dict[str, float] = {}
    bare_ratios: dict[str, float] = {}
    async with bare_client(relayed) as bare_relayed:
        for label, camera, image in (
            ("4K", big, four_k),
            ("demo", small, DEMO_JPEG),
        ):
            sent = await bytes_per_prediction(
                counter, predict_action(hass, camera, relayed_entry)
            )
            bare_sent = await bytes_per_prediction(
                counter, lambda image=image: bare_relayed.predict(image)
            )
            ratios[label] = sent / len(image)
            bare_ratios[label] = bare_sent / len(image)
    expect(
        await hass.config_entries.async_unload(relayed_entry.entry_id),
        "the relayed entry unloaded",
    )
    await counter.stop()

    worst = max(ratios.values())
    report.add(
        Figure(
            order=4,
            name="bytes sent to the API per prediction / image size",
            target="<= 1.02",
            measured=f"{worst:.4f}",
            passed=worst <= 1.02,
            detail=(
                f"{ratios['4K']:.5f} for the {len(four_k):,} byte 4K JPEG, "
                f"{ratios['demo']:.5f} for the {len(DEMO_JPEG):,} byte demo JPEG; "
                f"the bare client sends {bare_ratios['4K']:.5f} and "
                f"{bare_ratios['demo']:.5f} (counted on the wire by a TCP relay)"
            ),
        )
    )


def bench_flat_formatting(report: BenchReport) -> None:
    """Flat formatting of an answer with 100 regions of 50 concepts."""
    answer = large_answer()
    flat = flatten_workflow_result(answer)
    expect(
        len(flat["regions"]) == REGION_COUNT
        and sum(map(len, flat["concepts"].values()))
        == REGION_COUNT * CONCEPTS_PER_REGION,
        "every region and concept formatted",
    )

    # The machine is shared and noisy: many short repeats, interleaved with
    # the floor, and the best of each, which is what the code costs when
    # nothing else runs.
    calls = 5
    best = floor = float("inf")
    for _ in range(FORMATTING_ROUNDS):
        best = min(
            best,
            *timeit.repeat(
                lambda: flatten_workflow_result(answer), number=calls, repeat=5
            ),
        )
        floor = min(
            floor, *timeit.repeat(lambda: _walk(answer), number=calls, repeat=5)
        )
    per_call = best / calls
    report.add(
        Figure(
            order=6,
            name=f"flat formatting of an answer with {REGION_COUNT} regions x "
            f"{CONCEPTS_PER_REGION} concepts",
            target="<= 2 ms",
            measured=f"{per_call * 1000:.3f} ms",
            passed=per_call <= 0.002,
            detail=(
                f"best of {FORMATTING_ROUNDS * 5} repeats of {calls} calls; merely "
                "reading every concept's "
                f"name and value takes {floor / calls * 1000:.3f} ms"
            ),
        )
    )
