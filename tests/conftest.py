"""Shared fixtures: the Clarifai emulator first, Home Assistant's below."""

# Import our integration before the test plugin points Home Assistant at its own
# testing_config, whose `custom_components` package would otherwise shadow ours.
import custom_components.clarifai  # noqa: F401  # isort: skip

import asyncio
from collections.abc import AsyncGenerator, Generator
from pathlib import Path
from typing import Any

import grpc
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockPlatform,
    mock_platform,
)

from clarifai_emulator import ClarifaiEmulator
from custom_components.clarifai.const import CONF_ENDPOINT, DOMAIN
from homeassistant.components.camera import Camera
import homeassistant.components.demo
from homeassistant.const import CONF_ACCESS_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.helpers.typing import ConfigType, DiscoveryInfoType
from homeassistant.setup import async_setup_component

DEMO_DIR = Path(homeassistant.components.demo.__file__).parent

# --- Clarifai emulator fixtures ---------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def grpc_aio_poller() -> Generator[None]:
    """Start grpc.aio's poller thread once, before the first test.

    grpc.aio starts one poller thread per process and stops it when its last
    channel or server is gone; the test plugin fails any test that leaves a new
    thread behind. An idle channel held for the whole session keeps that thread
    alive from here on. It never connects: channels connect on first use.
    """
    loop = asyncio.new_event_loop()

    async def open_idle_channel() -> grpc.aio.Channel:
        return grpc.aio.insecure_channel("127.0.0.1:9")

    channel = loop.run_until_complete(open_idle_channel())
    yield
    loop.run_until_complete(channel.close())
    loop.close()


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


def demo_jpeg(index: int = 0) -> bytes:
    """Return one of the real photos Home Assistant ships with its demo."""
    return (DEMO_DIR / f"demo_{index}.jpg").read_bytes()


class StillCamera(Camera):
    """A camera whose picture the test sets, and which can be switched off."""

    _attr_should_poll = False

    def __init__(self, name: str, image: bytes | None) -> None:
        """Show the given picture under the given name."""
        super().__init__()
        self._attr_name = name
        self._attr_unique_id = f"test-{name}"
        self.image = image

    async def async_camera_image(
        self, width: int | None = None, height: int | None = None
    ) -> bytes | None:
        """Return the current picture; a camera that is off has none."""
        return self.image if self.is_on else None

    async def async_turn_off(self) -> None:
        """Switch the camera off."""
        self._attr_is_on = False
        self.async_write_ha_state()

    async def async_turn_on(self) -> None:
        """Switch the camera on."""
        self._attr_is_on = True
        self.async_write_ha_state()


@pytest.fixture
async def cameras(hass: HomeAssistant) -> dict[str, StillCamera]:
    """Set up two cameras, camera.front_door and camera.garden, through YAML."""
    entities = [
        StillCamera("Front door", demo_jpeg(0)),
        StillCamera("Garden", demo_jpeg(1)),
    ]

    async def async_setup_platform(
        hass: HomeAssistant,
        config: ConfigType,
        async_add_entities: AddEntitiesCallback,
        discovery_info: DiscoveryInfoType | None = None,
    ) -> None:
        async_add_entities(entities)

    mock_platform(
        hass,
        f"{CAMERA_PLATFORM}.camera",
        MockPlatform(async_setup_platform=async_setup_platform),
    )
    assert await async_setup_component(
        hass, "camera", {"camera": {"platform": CAMERA_PLATFORM}}
    )
    await hass.async_block_till_done()
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
