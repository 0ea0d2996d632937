"""The documentation's example automation, pasted as written, on real predictions."""

from datetime import timedelta
from pathlib import Path
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
    async_mock_service,
)
import yaml

from clarifai_emulator import ClarifaiEmulator
from custom_components.clarifai.const import EVENT_PREDICTION
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.setup import async_setup_component

from .conftest import FRONT_DOOR, GARDEN, StillCamera
from .helpers import predict_without_response, scan, set_up_documented_platform

# Copied verbatim from the documentation, Liquid's raw markers included.
EXAMPLE_AUTOMATION = Path(__file__).parent / "fixtures" / "example_automation.yaml"

GRANTED = "Access granted: Test"
DENIED = "Access denied"


def example_automation() -> dict[str, Any]:
    """Return the documented example as configuration.yaml would hold it."""
    text = EXAMPLE_AUTOMATION.read_text(encoding="utf-8")
    # The raw markers only keep the docs site from rendering the template.
    lines = [
        line
        for line in text.splitlines()
        if line.strip() not in ("{% raw %}", "{% endraw %}")
    ]
    config: dict[str, Any] = yaml.safe_load("\n".join(lines))
    return config


def face_result(test_values: list[float]) -> dict[str, Any]:
    """Return a Face answer where the concept Test has the given confidences."""
    regions = [
        {
            "id": f"face-{index}",
            "regionInfo": {
                "boundingBox": {
                    "topRow": 0.1 * index,
                    "leftCol": 0.1,
                    "bottomRow": 0.1 * index + 0.05,
                    "rightCol": 0.3,
                }
            },
            "data": {
                "concepts": [
                    {"id": "test", "name": "Test", "value": value},
                    {"id": "alice", "name": "Alice", "value": 0.95},
                ]
            },
        }
        for index, value in enumerate(test_values, start=1)
    ]
    if not test_values:
        regions = [
            {
                "id": "face-1",
                "regionInfo": {"boundingBox": {"topRow": 0.1, "bottomRow": 0.3}},
                "data": {"concepts": [{"id": "alice", "name": "Alice", "value": 0.95}]},
            }
        ]
    return {
        "outputs": [
            {
                "status": {"code": "SUCCESS"},
                "model": {"id": "face-recognition"},
                "data": {"regions": regions},
            }
        ]
    }


@pytest.fixture
async def notifications(
    hass: HomeAssistant,
    cameras: dict[str, StillCamera],
    init_integration: MockConfigEntry,
) -> list[ServiceCall]:
    """Set up the example automation and capture what notify.test receives."""
    calls: list[ServiceCall] = async_mock_service(hass, "notify", "test")
    assert await async_setup_component(hass, "automation", example_automation())
    await hass.async_block_till_done()
    return calls


async def predict_face(
    hass: HomeAssistant,
    result_format: str = "flat",
    entity_id: str | list[str] = FRONT_DOOR,
) -> None:
    """Run the Face workflow through the action, without asking for a response."""
    await predict_without_response(
        hass,
        app_id="home",
        workflow_id="Face",
        result_format=result_format,
        entity_id=entity_id,
    )


def messages(calls: list[ServiceCall]) -> list[str]:
    return [call.data["message"] for call in calls]


async def test_the_example_is_one_automation(
    hass: HomeAssistant, notifications: list[ServiceCall]
) -> None:
    """The pasted example loads as an enabled automation."""
    [entity_id] = hass.states.async_entity_ids("automation")
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.state == "on"


async def test_granted_with_the_emulator_face_workflow(
    hass: HomeAssistant, notifications: list[ServiceCall]
) -> None:
    """The shipped Face workflow sees Test at 0.97: access is granted."""
    await predict_face(hass)

    assert messages(notifications) == [GRANTED]


@pytest.mark.parametrize(
    ("test_values", "message"),
    [
        ([0.97], GRANTED),
        ([0.12, 0.93, 0.4], GRANTED),
        ([0.91], GRANTED),
        ([0.85], DENIED),
        ([0.85, 0.5, 0.2], DENIED),
        ([0.0], DENIED),
        ([], DENIED),
    ],
    ids=[
        "max 0.97",
        "max 0.93 in a second face",
        "max 0.91",
        "max 0.85",
        "max 0.85 of three",
        "zero",
        "absent",
    ],
)
async def test_highest_confidence_decides(
    hass: HomeAssistant,
    emulator: ClarifaiEmulator,
    notifications: list[ServiceCall],
    test_values: list[float],
    message: str,
) -> None:
    """Only the highest confidence of Test counts, and it must exceed 0.9."""
    emulator.set_workflow_result("Face", face_result(test_values))

    await predict_face(hass)

    assert messages(notifications) == [message]


async def test_one_notification_per_camera(
    hass: HomeAssistant,
    emulator: ClarifaiEmulator,
    notifications: list[ServiceCall],
) -> None:
    """An action naming two cameras fires two events, each answered."""
    emulator.set_workflow_result("Face", face_result([0.97]))

    await predict_face(hass, entity_id=[FRONT_DOOR, GARDEN])

    assert messages(notifications) == [GRANTED, GRANTED]


async def test_nested_results_carry_no_concepts(
    hass: HomeAssistant, notifications: list[ServiceCall]
) -> None:
    """The example reads flat concepts: a nested event is denied, not an error."""
    await predict_face(hass, result_format="nested")

    assert messages(notifications) == [DENIED]


@pytest.mark.parametrize(
    ("test_values", "message"), [([0.97], GRANTED), ([0.85], DENIED), ([], DENIED)]
)
async def test_scan_of_the_documented_platform(
    hass: HomeAssistant,
    *,
    freezer: FrozenDateTimeFactory,
    emulator: ClarifaiEmulator,
    notifications: list[ServiceCall],
    test_values: list[float],
    message: str,
) -> None:
    """The documented image_processing YAML drives the example on its interval."""
    emulator.set_workflow_result("Face", face_result(test_values))
    await set_up_documented_platform(hass)

    await scan(hass)
    assert messages(notifications) == [message]

    freezer.tick(timedelta(seconds=10001))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert messages(notifications) == [message, message]


async def test_documented_event_trigger(
    hass: HomeAssistant,
    cameras: dict[str, StillCamera],
    init_integration: MockConfigEntry,
) -> None:
    """The event trigger of the documentation fires on each prediction.

    The documented snippet is a fragment: pasted alone, Home Assistant
    disables it for want of an action, so the test gives it one.
    """
    events = async_capture_events(hass, EVENT_PREDICTION)
    calls = async_mock_service(hass, "notify", "test")
    config = yaml.safe_load(
        """
automation:
  trigger:
    platform: event
    event_type: clarifai.prediction
"""
    )
    # The documented trigger, given something to do.
    config["automation"]["action"] = {
        "service": "notify.test",
        "data": {"message": "{{ trigger.event.data.entity_id }}"},
    }
    assert await async_setup_component(hass, "automation", config)
    await hass.async_block_till_done()

    await predict_face(hass)

    assert len(events) == 1
    assert messages(calls) == [FRONT_DOOR]
