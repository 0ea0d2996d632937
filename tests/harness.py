"""What the tests and the benchmark both need to run Home Assistant here.

grpc.aio's poller thread started before anything is measured, cameras that
serve a picture held in memory, and real photos to serve.
"""

import asyncio
from collections.abc import Generator
from pathlib import Path

import grpc
import pytest
from pytest_homeassistant_custom_component.common import MockPlatform, mock_platform

from homeassistant.components.camera import Camera
import homeassistant.components.demo
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.helpers.typing import ConfigType, DiscoveryInfoType
from homeassistant.setup import async_setup_component

DEMO_DIR = Path(homeassistant.components.demo.__file__).parent


def demo_jpeg(index: int = 0) -> bytes:
    """Return one of the real photos Home Assistant ships with its demo."""
    return (DEMO_DIR / f"demo_{index}.jpg").read_bytes()


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


class StillCamera(Camera):
    """A camera showing a picture held in memory, which can be switched off."""

    _attr_should_poll = False

    def __init__(self, name: str, image: bytes | None) -> None:
        """Show the given picture under the given name."""
        super().__init__()
        self._attr_name = name
        self._attr_unique_id = f"still-{name}"
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


async def async_set_up_still_cameras(
    hass: HomeAssistant, images: dict[str, bytes | None], platform: str
) -> list[StillCamera]:
    """Set up one camera per name through YAML, as a user's camera platform."""
    entities = [StillCamera(name, image) for name, image in images.items()]

    async def async_setup_platform(
        hass: HomeAssistant,
        config: ConfigType,
        async_add_entities: AddEntitiesCallback,
        discovery_info: DiscoveryInfoType | None = None,
    ) -> None:
        async_add_entities(entities)

    mock_platform(
        hass,
        f"{platform}.camera",
        MockPlatform(async_setup_platform=async_setup_platform),
    )
    assert await async_setup_component(
        hass, "camera", {"camera": {"platform": platform}}
    )
    await hass.async_block_till_done()
    return entities
