"""What the user sees when Clarifai answers a request with a failure."""

import asyncio
from collections.abc import Callable
from datetime import timedelta
import logging
from typing import Any

from clarifai_grpc.grpc.api.status import status_code_pb2
from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)

from clarifai_emulator import ClarifaiEmulator
from clarifai_emulator.world import required_scopes
from custom_components.clarifai import api
from custom_components.clarifai.const import DOMAIN, EVENT_PREDICTION
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import CONF_ACCESS_TOKEN, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util

from .conftest import FRONT_DOOR
from .helpers import (
    FRONT_DOOR_SCANNER,
    predict_general,
    scan,
    sent_requests,
    set_up_general_scanner,
    start_image_processing,
)

pytestmark = pytest.mark.usefixtures("cameras", "init_integration")


async def predict_error(hass: HomeAssistant, **data: Any) -> HomeAssistantError:
    """Call clarifai.predict, expecting it to fail; return the error."""
    with pytest.raises(HomeAssistantError) as raised:
        await predict_general(hass, **data)
    return raised.value


async def poll(hass: HomeAssistant) -> None:
    """Let the scan interval come round once.

    The image_processing.scan action skips entities that are unavailable, so
    only the interval can bring one back.
    """
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=10001))
    await hass.async_block_till_done(wait_background_tasks=True)


def entity_state(hass: HomeAssistant) -> str:
    """Return the front door scanner's state."""
    state = hass.states.get(FRONT_DOOR_SCANNER)
    assert state is not None
    return state.state


# --- The token ----------------------------------------------------------------


async def test_refused_token_asks_for_reauth_and_stops_scans(
    hass: HomeAssistant,
    emulator: ClarifaiEmulator,
    init_integration: MockConfigEntry,
) -> None:
    """A revoked token starts one reauth flow; scans stop until a new token."""
    await set_up_general_scanner(hass)
    await scan(hass)
    assert entity_state(hass) == "people"
    emulator.access_token = "a-new-token-the-entry-does-not-have"  # noqa: S105

    await poll(hass)
    await poll(hass)
    error = await predict_error(hass)

    # One refused scan; the next scan and the action sent nothing.
    assert len(sent_requests(emulator)) == 2
    assert entity_state(hass) == STATE_UNAVAILABLE
    assert error.translation_key == "invalid_auth"
    assert "Emulator User" in str(error)
    [flow] = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flow["context"]["source"] == SOURCE_REAUTH
    assert init_integration.state is ConfigEntryState.LOADED

    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_ACCESS_TOKEN: emulator.access_token}
    )
    await hass.async_block_till_done()
    assert result["reason"] == "reauth_successful"

    await scan(hass)
    assert entity_state(hass) == "people"
    assert len(sent_requests(emulator)) == 3


async def test_missing_scope_is_named(
    hass: HomeAssistant, emulator: ClarifaiEmulator
) -> None:
    """A token without the Workflows:Get scope says so; the next call works."""
    emulator.scopes = [
        scope for scope in emulator.scopes if scope not in ("All", "Workflows:Get")
    ]
    assert "Workflows:Get" in required_scopes("PostWorkflowResults")

    error = await predict_error(hass)

    assert error.translation_key == "insufficient_scopes"
    assert error.translation_placeholders is not None
    assert error.translation_placeholders["scope"] == "Workflows:Get"
    assert "lacks the scope Workflows:Get" in str(error)
    assert hass.config_entries.flow.async_progress_by_handler(DOMAIN) == []

    emulator.scopes.append("Workflows:Get")
    response = await predict_general(hass, result_format="flat")
    assert "people" in response[FRONT_DOOR]["concepts"]


# --- Ids that do not exist --------------------------------------------------


@pytest.mark.parametrize(
    ("call", "named", "translation_key"),
    [
        ({"app_id": "attic"}, "attic", "app_not_found"),
        ({"workflow_id": "Cats"}, "Cats", "workflow_not_found"),
        ({"user_id": "somebody-else"}, "somebody-else", "app_not_found"),
    ],
)
async def test_unknown_id_is_a_validation_error(
    hass: HomeAssistant,
    emulator: ClarifaiEmulator,
    call: dict[str, str],
    named: str,
    translation_key: str,
) -> None:
    """An app, workflow or owner Clarifai does not know is named in the error."""
    events = async_capture_events(hass, EVENT_PREDICTION)

    with pytest.raises(ServiceValidationError) as raised:
        await predict_general(hass, **call)

    assert raised.value.translation_key == translation_key
    assert named in str(raised.value)
    assert events == []
    assert await predict_general(hass)
    assert len(events) == 1


# --- Hourly and monthly limits ----------------------------------------------


async def test_monthly_limit_pauses_scans_until_next_month(
    hass: HomeAssistant,
    emulator: ClarifaiEmulator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The community plan's monthly cap: a repair issue, then no retry storm."""
    now = dt_util.utcnow()
    next_month = (now.replace(day=1) + timedelta(days=32)).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    await set_up_general_scanner(hass)
    emulator.fail_next(status_code_pb2.CONN_EXCEED_MONTHLY_LIMIT)

    await scan(hass)
    for _ in range(5):
        await scan(hass)
    error = await predict_error(hass)

    assert len(sent_requests(emulator)) == 1
    assert error.translation_key == "monthly_limit"
    resume = dt_util.as_local(next_month).strftime("%Y-%m-%d %H:%M")
    assert f"Requests resume on {resume}" in str(error)
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"request_limit_{hass.config_entries.async_entries(DOMAIN)[0].entry_id}"
    )
    assert issue is not None
    assert issue.translation_key == "monthly_limit"
    assert issue.is_fixable
    assert issue.translation_placeholders == {
        "account": "Emulator User",
        "resume": resume,
    }
    # The last good answer stays; the API is fine, only the account is not.
    assert entity_state(hass) == "unknown"

    # A clock in the future, not the past: gRPC deadlines follow it.
    freezer.move_to(next_month + timedelta(seconds=1))
    await scan(hass)

    assert len(sent_requests(emulator)) == 2
    assert entity_state(hass) == "people"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue.issue_id) is None


async def test_hourly_limit_resumes_when_the_user_fixes_the_issue(
    hass: HomeAssistant,
    hass_client: Any,
    emulator: ClarifaiEmulator,
) -> None:
    """An hourly limit pauses until the next full hour or the user's say-so."""
    next_hour = dt_util.utcnow().replace(minute=0, second=0, microsecond=0) + (
        timedelta(hours=1)
    )
    assert await async_setup_component(hass, "repairs", {})
    emulator.fail_next(status_code_pb2.CONN_EXCEED_HOURLY_LIMIT)

    first = await predict_error(hass)
    second = await predict_error(hass)

    assert first.translation_key == second.translation_key == "hourly_limit"
    resume = dt_util.as_local(next_hour)
    assert f"Requests resume at {resume:%Y-%m-%d %H:%M}" in str(second)
    assert len(sent_requests(emulator)) == 1
    [issue] = [
        issue for issue in ir.async_get(hass).issues.values() if issue.domain == DOMAIN
    ]
    assert issue.translation_key == "hourly_limit"

    client = await hass_client()
    response = await client.post(
        "/api/repairs/issues/fix", json={"handler": DOMAIN, "issue_id": issue.issue_id}
    )
    flow = await response.json()
    assert flow["step_id"] == "confirm"
    response = await client.post(f"/api/repairs/issues/fix/{flow['flow_id']}")
    assert (await response.json())["type"] == "create_entry"

    assert await predict_general(hass)
    assert len(sent_requests(emulator)) == 2
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue.issue_id) is None


# --- Throttling -----------------------------------------------------------------


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry throttled requests without waiting."""
    monkeypatch.setattr(api, "THROTTLE_BACKOFF", 0)


@pytest.mark.usefixtures("no_backoff")
async def test_throttled_request_is_retried(
    hass: HomeAssistant, emulator: ClarifaiEmulator
) -> None:
    """Two throttled answers, then success: the user sees only the result."""
    emulator.fail_next(status_code_pb2.CONN_THROTTLED, count=2)

    assert FRONT_DOOR in await predict_general(hass)

    assert len(sent_requests(emulator)) == 3


@pytest.mark.usefixtures("no_backoff")
async def test_retries_for_throttling_are_bounded(
    hass: HomeAssistant, emulator: ClarifaiEmulator
) -> None:
    """Clarifai throttling on and on gives up after a few attempts."""
    emulator.fail_next(status_code_pb2.CONN_THROTTLED, count=10)

    error = await predict_error(hass)

    assert error.translation_key == "throttled"
    assert len(sent_requests(emulator)) == api.THROTTLE_RETRIES + 1
    emulator.clear_failures()
    assert await predict_general(hass)


# --- Partial and unexpected answers -------------------------------------------


async def test_mixed_status_returns_what_succeeded(hass: HomeAssistant) -> None:
    """An output that failed is listed; the others are returned as usual."""
    response = await predict_general(hass, workflow_id="Partial", result_format="flat")

    result = response[FRONT_DOOR]
    assert set(result["concepts"]) == {"people", "street", "car", "outdoors"}
    assert result["failed_outputs"] == [
        {
            "model_id": "plate-reader",
            "code": status_code_pb2.MODEL_PREDICTION_FAILED,
            "description": "Model prediction failed",
        }
    ]


@pytest.mark.parametrize(
    ("code", "description"),
    [
        (status_code_pb2.INTERNAL_SERVER_ISSUE, "Internal server issue"),
        (status_code_pb2.DATA_DUMP_FAILED, "The data dump could not be made"),
    ],
)
async def test_internal_and_unknown_errors_carry_clarifai_s_words(
    hass: HomeAssistant, emulator: ClarifaiEmulator, code: int, description: str
) -> None:
    """An error the integration has no special meaning for quotes Clarifai."""
    emulator.fail_next(code, description=description)

    error = await predict_error(hass)

    assert error.translation_key == "api_error"
    assert description in str(error)
    assert "General" in str(error)
    assert await predict_general(hass)


# --- The network ----------------------------------------------------------------


async def test_unreachable_at_startup_retries_setup(
    hass: HomeAssistant, emulator: ClarifaiEmulator
) -> None:
    """Setup is retried while the API is down, and succeeds once it is back."""
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    assert await hass.config_entries.async_unload(entry.entry_id)
    await emulator.stop()

    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY

    await emulator.start()
    # Retried as Home Assistant does, while gRPC waits out its reconnect
    # backoff (about a second) after the refused attempt.
    for _ in range(50):
        await asyncio.sleep(0.1)
        if await hass.config_entries.async_reload(entry.entry_id):
            break
    assert entry.state is ConfigEntryState.LOADED


async def test_lost_connection_is_logged_once_and_its_recovery_once(
    hass: HomeAssistant,
    emulator: ClarifaiEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Scans go unavailable while Clarifai is gone and come back with it."""
    await set_up_general_scanner(hass)
    await scan(hass)
    caplog.clear()
    await emulator.stop()

    await scan(hass)
    for _ in range(3):
        await poll(hass)
    assert entity_state(hass) == STATE_UNAVAILABLE
    with pytest.raises(HomeAssistantError) as raised:
        await predict_general(hass)
    assert raised.value.translation_key == "cannot_connect"

    await emulator.start()
    # gRPC waits a moment (its reconnect backoff) before dialling again.
    # (Counted, not timed: poll() fires every timer of the loop, timeouts too.)
    for _ in range(50):
        await asyncio.sleep(0.2)
        await poll(hass)
        if entity_state(hass) == "people":
            break
    await poll(hass)
    ours = [r for r in caplog.records if r.name.startswith("custom_components")]
    assert [(r.levelno, r.getMessage()) for r in ours if r.levelno >= logging.INFO] == [
        (logging.WARNING, ours[0].getMessage()),
        (logging.INFO, f"Clarifai at {emulator.host}:{emulator.port} answers again"),
    ]
    assert (
        ours[0]
        .getMessage()
        .startswith(f"Clarifai at {emulator.host}:{emulator.port} cannot be reached")
    )


async def wait_for(condition: Callable[[], bool], seconds: float = 10) -> None:
    """Let the event loop run until a condition holds (a hang guard, not a timer)."""
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - Home Assistant sets no event
            await asyncio.sleep(0.02)


async def test_hung_api_ends_the_scan_and_scans_do_not_pile_up(
    hass: HomeAssistant,
    emulator: ClarifaiEmulator,
    init_integration: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A request past its deadline is abandoned; overdue scans are skipped."""
    init_integration.runtime_data.client.timeout = 1.0
    emulator.latency = 30
    await start_image_processing(
        hass,
        app_id="home",
        workflow_id="General",
        scan_interval=0.2,
        source=[{"entity_id": FRONT_DOOR}],
    )

    # The interval comes round while the first scan still waits on Clarifai.
    await wait_for(lambda: "took longer than the scheduled update" in caplog.text)
    assert len(sent_requests(emulator)) == 1

    await wait_for(lambda: hass.states.get(FRONT_DOOR_SCANNER) is not None)
    await wait_for(lambda: entity_state(hass) == STATE_UNAVAILABLE)
    assert "cannot be reached: the API did not answer in time" in caplog.text

    emulator.latency = 0
    await wait_for(lambda: entity_state(hass) == "people")
