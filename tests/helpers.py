"""Steps the tests share: run the action, scan a camera, read what Clarifai got.

Plain functions only; fixtures live in conftest.py.
"""

from typing import Any, cast

from clarifai_grpc.grpc.api import service_pb2
from pytest_homeassistant_custom_component.common import MockConfigEntry
import yaml

from clarifai_emulator import ClarifaiEmulator
from custom_components.clarifai.const import CONF_USER_ID, DOMAIN
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

from .conftest import FRONT_DOOR, entry_data

FRONT_DOOR_SCANNER = "image_processing.clarifai_front_door"

# The platform as the documentation shows it, placeholders filled in.
DOCUMENTED_PLATFORM = """
image_processing:
  - platform: clarifai
    app_id: home
    workflow_id: Face
    result_format: flat # or nested
    scan_interval: 10000 # reduce this but be careful with API limit
    source:
      - entity_id: camera.front_door
"""


# --- The config entry ---------------------------------------------------------


def emulator_entry(
    emulator: ClarifaiEmulator,
    *,
    source: str = SOURCE_USER,
    user_id: str | None = None,
) -> MockConfigEntry:
    """Return a config entry for the emulator's account, not yet added."""
    data = entry_data(emulator)
    if user_id is not None:
        data[CONF_USER_ID] = user_id
    return MockConfigEntry(
        domain=DOMAIN,
        source=source,
        title="Emulator User",
        unique_id=emulator.user_id,
        data=data,
    )


# --- The clarifai.predict action ----------------------------------------------


async def predict(hass: HomeAssistant, **data: Any) -> dict[str, Any]:
    """Call clarifai.predict with exactly this data and return its response."""
    response = await hass.services.async_call(
        DOMAIN, "predict", data, blocking=True, return_response=True
    )
    assert response is not None
    return dict(response)


async def predict_general(hass: HomeAssistant, **data: Any) -> dict[str, Any]:
    """Run the home app's General workflow on the front door, data overriding."""
    return await predict(
        hass,
        **{"app_id": "home", "workflow_id": "General", "entity_id": FRONT_DOOR, **data},
    )


async def predict_without_response(hass: HomeAssistant, **data: Any) -> None:
    """Call clarifai.predict as a fire-and-forget step, then let listeners run."""
    await hass.services.async_call(DOMAIN, "predict", data, blocking=True)
    await hass.async_block_till_done()


def sent_requests(
    emulator: ClarifaiEmulator,
) -> list[service_pb2.PostWorkflowResultsRequest]:
    """Return the workflow requests Clarifai received, oldest first."""
    return [
        cast(service_pb2.PostWorkflowResultsRequest, request.message)
        for request in emulator.requests_for("PostWorkflowResults")
    ]


# --- The image_processing platform --------------------------------------------


async def start_image_processing(hass: HomeAssistant, **platform: Any) -> None:
    """Set up image_processing with one clarifai platform, not waiting for scans."""
    assert await async_setup_component(
        hass,
        "image_processing",
        {"image_processing": [{"platform": DOMAIN, **platform}]},
    )


async def set_up_image_processing(hass: HomeAssistant, **platform: Any) -> None:
    """Set up image_processing with one clarifai platform and let it settle."""
    await start_image_processing(hass, **platform)
    await hass.async_block_till_done()


async def set_up_general_scanner(hass: HomeAssistant) -> None:
    """Watch the front door with the General workflow, scanned on demand."""
    await set_up_image_processing(
        hass,
        app_id="home",
        workflow_id="General",
        scan_interval=10000,
        source=[{"entity_id": FRONT_DOOR}],
    )


async def set_up_documented_platform(hass: HomeAssistant) -> None:
    """Set up image_processing from the documentation's YAML, as pasted."""
    assert await async_setup_component(
        hass, "image_processing", yaml.safe_load(DOCUMENTED_PLATFORM)
    )
    await hass.async_block_till_done()


async def scan(hass: HomeAssistant, entity_id: str = FRONT_DOOR_SCANNER) -> None:
    """Ask for a scan now, as a user or an automation would."""
    await hass.services.async_call(
        "image_processing", "scan", {"entity_id": entity_id}, blocking=True
    )
    await hass.async_block_till_done()
