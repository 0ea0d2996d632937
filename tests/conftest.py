"""Shared fixtures: the Clarifai emulator first, Home Assistant's below."""

# Import our integration before the test plugin points Home Assistant at its own
# testing_config, whose `custom_components` package would otherwise shadow ours.
import custom_components.clarifai  # noqa: F401  # isort: skip

from collections.abc import AsyncGenerator
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from clarifai_emulator import ClarifaiEmulator
from custom_components.clarifai.const import CONF_ENDPOINT, DOMAIN
from homeassistant.const import CONF_ACCESS_TOKEN
from homeassistant.core import HomeAssistant

# The test files take these from here; grpc_aio_poller is a session fixture
# that must be visible to pytest in this conftest.
from .harness import (  # noqa: F401
    StillCamera,
    async_set_up_still_cameras,
    demo_jpeg,
    grpc_aio_poller,
)

# --- Clarifai emulator fixtures ---------------------------------------------


@pytest.fixture
async def emulator() -> AsyncGenerator[ClarifaiEmulator]:
    """Serve a Clarifai emulator on a free loopback port for one test."""
    clarifai = ClarifaiEmulator()
    await clarifai.start(host="127.0.0.1", port=0)
    yield clarifai
    await clarifai.stop()


# --- Home Assistant fixtures ------------------------------------------------


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load the integration from custom_components."""


CAMERA_PLATFORM = "test_camera"
FRONT_DOOR = "camera.front_door"
GARDEN = "camera.garden"


@pytest.fixture
async def cameras(hass: HomeAssistant) -> dict[str, StillCamera]:
    """Set up two cameras, camera.front_door and camera.garden, through YAML."""
    entities = await async_set_up_still_cameras(
        hass, {"Front door": demo_jpeg(0), "Garden": demo_jpeg(1)}, CAMERA_PLATFORM
    )
    return {entity.entity_id: entity for entity in entities}


def entry_data(emulator: ClarifaiEmulator) -> dict[str, Any]:
    """Return config entry data pointing at the emulator."""
    return {CONF_ACCESS_TOKEN: emulator.access_token, CONF_ENDPOINT: emulator.endpoint}


@pytest.fixture
def config_entry(emulator: ClarifaiEmulator) -> MockConfigEntry:
    """Return a Clarifai config entry for the emulator's account."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Emulator User",
        unique_id=emulator.user_id,
        data=entry_data(emulator),
    )


@pytest.fixture
async def init_integration(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    cameras: dict[str, StillCamera],
) -> MockConfigEntry:
    """Set up the Clarifai entry against the emulator, cameras first.

    The integration pulls in the camera component; the test cameras must be
    set up before that, or their YAML platform would never be loaded.
    """
    config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    return config_entry
