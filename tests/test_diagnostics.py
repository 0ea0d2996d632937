"""Diagnostics, and a full run that must never show the access token."""

import asyncio
from collections.abc import AsyncGenerator
import contextlib
import json
import logging
from typing import Any

from clarifai_grpc.grpc.api.status import status_code_pb2
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)

from clarifai_emulator import ClarifaiEmulator
from custom_components.clarifai import api
from custom_components.clarifai.const import CONF_ENDPOINT, DOMAIN
from homeassistant.components.diagnostics import REDACTED
from homeassistant.const import CONF_ACCESS_TOKEN, MATCH_ALL
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component

from .conftest import FRONT_DOOR

# Distinctive, so that any copy of it anywhere is found.
SECRET_TOKEN = "pat-Zq81xV-secret-4f7c2d9e0b"  # noqa: S105
NEW_SECRET_TOKEN = "pat-Wk22rT-secret-8a1b3c5d7e"  # noqa: S105
ENTITY_ID = "image_processing.clarifai_front_door"
PLATFORM = {
    "platform": DOMAIN,
    "app_id": "home",
    "workflow_id": "Partial",
    "scan_interval": 10000,
    "source": [{"entity_id": FRONT_DOOR}],
}


@pytest.fixture
async def emulator() -> AsyncGenerator[ClarifaiEmulator]:
    """Serve an emulator that accepts only the distinctive token."""
    clarifai = ClarifaiEmulator(access_token=SECRET_TOKEN)
    await clarifai.start(host="127.0.0.1", port=0)
    yield clarifai
    await clarifai.stop()


@pytest.mark.usefixtures("cameras")
async def test_diagnostics_redact_the_token(
    hass: HomeAssistant,
    hass_client: Any,
    emulator: ClarifaiEmulator,
    init_integration: MockConfigEntry,
) -> None:
    """The entry, account and scanners are described; the token is not."""
    assert await async_setup_component(
        hass, "image_processing", {"image_processing": [PLATFORM]}
    )
    await hass.services.async_call(
        "image_processing", "scan", {"entity_id": ENTITY_ID}, blocking=True
    )

    diagnostics = await get_diagnostics_for_config_entry(
        hass, hass_client, init_integration
    )

    # The entry is titled with the account holder's name: personal, redacted.
    assert diagnostics["entry"]["title"] == REDACTED
    assert diagnostics["entry"]["data"] == {
        CONF_ACCESS_TOKEN: REDACTED,
        CONF_ENDPOINT: emulator.endpoint,
    }
    assert diagnostics["account"] == {
        "user_id": emulator.user_id,
        "full_name": REDACTED,
        "email": REDACTED,
    }
    assert diagnostics["requests"] == {
        "auth_failed": False,
        "connection_lost": False,
        "paused_until": None,
        "pause_reason": None,
        "timeout": api.DEFAULT_TIMEOUT,
    }
    [scanner] = diagnostics["image_processing"]
    assert scanner["entity_id"] == ENTITY_ID
    assert scanner["state"] == "people"
    assert scanner["attributes"]["failed_outputs"][0]["model_id"] == "plate-reader"
    assert SECRET_TOKEN not in json.dumps(diagnostics)


async def wait_until_reachable(client: api.ClarifaiClient) -> None:
    """Wait out gRPC's reconnect backoff (about a second) after a restart."""
    for _ in range(50):
        await asyncio.sleep(0.1)
        with contextlib.suppress(api.ClarifaiConnectionError):
            await client.async_get_user()
            return


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry throttled requests without waiting."""
    monkeypatch.setattr(api, "THROTTLE_BACKOFF", 0)


@pytest.mark.usefixtures("cameras", "no_backoff")
async def test_no_token_anywhere_in_a_full_run(
    hass: HomeAssistant,
    hass_client: Any,
    emulator: ClarifaiEmulator,
    config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Setup, scans, every kind of failure, reauth, diagnostics: no token."""
    caplog.set_level(logging.DEBUG)
    events: list[Event] = []
    hass.bus.async_listen(MATCH_ALL, events.append)
    seen: list[Any] = []

    async def predict(**data: Any) -> None:
        call = {"app_id": "home", "workflow_id": "Partial", "entity_id": FRONT_DOOR}
        try:
            seen.append(
                await hass.services.async_call(
                    DOMAIN,
                    "predict",
                    {**call, **data},
                    blocking=True,
                    return_response=True,
                )
            )
        except HomeAssistantError as err:
            seen.append((str(err), err.translation_placeholders))

    async def scan() -> None:
        await hass.services.async_call(
            "image_processing", "scan", {"entity_id": ENTITY_ID}, blocking=True
        )
        await hass.async_block_till_done()

    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    assert await async_setup_component(
        hass, "image_processing", {"image_processing": [PLATFORM]}
    )
    await hass.async_block_till_done()
    await scan()
    await predict(result_format="flat")
    await predict(workflow_id="Missing")
    for code in (
        status_code_pb2.CONN_THROTTLED,
        status_code_pb2.INTERNAL_SERVER_ISSUE,
        status_code_pb2.CONN_INSUFFICIENT_SCOPES,
    ):
        emulator.fail_next(code, count=5)
        await predict()
        emulator.clear_failures()
    await emulator.stop()
    await predict()
    await emulator.start()
    await wait_until_reachable(config_entry.runtime_data.client)
    emulator.fail_next(status_code_pb2.CONN_EXCEED_MONTHLY_LIMIT)
    await predict()
    await predict()
    seen.extend(ir.async_get(hass).issues.values())

    # A reload ends the pause; then the token is revoked and replaced.
    assert await hass.config_entries.async_reload(config_entry.entry_id)
    emulator.access_token = NEW_SECRET_TOKEN
    await predict()
    await scan()
    [flow] = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    seen.append(
        await hass.config_entries.flow.async_configure(
            flow["flow_id"], {CONF_ACCESS_TOKEN: "pat-wrong"}
        )
    )
    seen.append(
        await hass.config_entries.flow.async_configure(
            flow["flow_id"], {CONF_ACCESS_TOKEN: NEW_SECRET_TOKEN}
        )
    )
    await hass.async_block_till_done()
    await predict()
    seen.append(await get_diagnostics_for_config_entry(hass, hass_client, config_entry))
    seen.extend(hass.states.async_all())

    # The run did reach every path it was meant to.
    assert config_entry.data[CONF_ACCESS_TOKEN] == NEW_SECRET_TOKEN
    assert emulator.requests_for("PostWorkflowResults")
    assert "cannot be reached" in caplog.text
    assert "refused the access token" in caplog.text
    assert "over its monthly limit" in caplog.text
    record = "\n".join(
        [caplog.text, *(repr(event) for event in events), *(repr(s) for s in seen)]
    )
    for token in (SECRET_TOKEN, NEW_SECRET_TOKEN):
        assert token not in record
