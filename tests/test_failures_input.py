"""Bad input: a clear error, nothing sent to Clarifai, the integration still works."""

import logging
from typing import Any

import probatio
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from clarifai_emulator import ClarifaiEmulator
from custom_components.clarifai.const import DOMAIN, EVENT_PREDICTION
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.setup import async_setup_component

from .conftest import FRONT_DOOR, StillCamera
from .helpers import (
    FRONT_DOOR_SCANNER,
    predict_general,
    scan,
    sent_requests,
    set_up_general_scanner,
    set_up_image_processing,
)

TOO_LARGE = b"\xff" * 21_000_000


async def assert_still_working(hass: HomeAssistant, emulator: ClarifaiEmulator) -> None:
    """Check that nothing was sent, and that a good call still works."""
    assert sent_requests(emulator) == []
    assert FRONT_DOOR in await predict_general(hass)
    assert len(sent_requests(emulator)) == 1


@pytest.mark.usefixtures("cameras", "init_integration")
@pytest.mark.parametrize(
    "data",
    [
        {"result_format": "xml"},
        {"result_format": ""},
        {"app_id": ""},
        {"app_id": "   "},
        {"workflow_id": ["Face", "General"]},
        {"workflow_id": None},
        {"user_id": ""},
        {"entity_id": ""},
    ],
)
async def test_malformed_action_data_is_refused(
    hass: HomeAssistant, emulator: ClarifaiEmulator, data: dict[str, Any]
) -> None:
    """Home Assistant's schema check names the bad field before anything runs."""
    events = async_capture_events(hass, EVENT_PREDICTION)

    with pytest.raises(probatio.Invalid) as raised:
        await predict_general(hass, **data)

    assert next(iter(data)) in str(raised.value)
    assert events == []
    await assert_still_working(hass, emulator)


@pytest.mark.usefixtures("cameras", "init_integration")
@pytest.mark.parametrize(
    ("entity_id", "key"),
    [
        ("light.kitchen", "not_a_camera"),
        ("sensor.front_door", "not_a_camera"),
        ("camera.attic", "camera_not_found"),
    ],
)
async def test_entity_that_is_not_a_camera(
    hass: HomeAssistant, emulator: ClarifaiEmulator, entity_id: str, key: str
) -> None:
    """A non-camera or a missing camera is named in a validation error."""
    with pytest.raises(ServiceValidationError) as raised:
        await predict_general(hass, entity_id=[FRONT_DOOR, entity_id])

    assert raised.value.translation_key == key
    assert entity_id in str(raised.value)
    await assert_still_working(hass, emulator)


@pytest.mark.usefixtures("init_integration")
async def test_camera_off_or_without_image(
    hass: HomeAssistant, emulator: ClarifaiEmulator, cameras: dict[str, StillCamera]
) -> None:
    """A camera that is off, or has no picture, is named; nothing is sent."""
    await cameras[FRONT_DOOR].async_turn_off()
    with pytest.raises(HomeAssistantError) as off:
        await predict_general(hass)

    await cameras[FRONT_DOOR].async_turn_on()
    cameras[FRONT_DOOR].image = None
    with pytest.raises(HomeAssistantError) as empty:
        await predict_general(hass)

    for raised in (off, empty):
        assert raised.value.translation_key == "camera_image_unavailable"
        assert str(raised.value).startswith(
            f"{FRONT_DOOR} did not return an image. Check that the camera is on"
        )
    cameras[FRONT_DOOR].image = b"\xff\xd8 a small picture"
    await assert_still_working(hass, emulator)


@pytest.mark.usefixtures("init_integration")
async def test_image_too_large_is_not_sent(
    hass: HomeAssistant, emulator: ClarifaiEmulator, cameras: dict[str, StillCamera]
) -> None:
    """An image over Clarifai's 20 MB limit is refused before it is sent."""
    picture = cameras[FRONT_DOOR].image
    cameras[FRONT_DOOR].image = TOO_LARGE

    with pytest.raises(ServiceValidationError) as raised:
        await predict_general(hass)

    assert raised.value.translation_key == "image_too_large"
    assert FRONT_DOOR in str(raised.value)
    assert "21000000 bytes" in str(raised.value)
    cameras[FRONT_DOOR].image = picture
    await assert_still_working(hass, emulator)


@pytest.mark.usefixtures("init_integration")
async def test_scan_of_a_too_large_image_is_logged_once(
    hass: HomeAssistant,
    emulator: ClarifaiEmulator,
    cameras: dict[str, StillCamera],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A scanner keeps its last answer and warns once, not every interval."""
    await set_up_general_scanner(hass)
    await scan(hass)
    before = hass.states.get(FRONT_DOOR_SCANNER)
    cameras[FRONT_DOOR].image = TOO_LARGE

    for _ in range(3):
        await scan(hass)

    after = hass.states.get(FRONT_DOOR_SCANNER)
    assert before is not None
    assert after is not None
    assert after.state == before.state == "people"
    assert after.attributes == before.attributes
    assert len(sent_requests(emulator)) == 1
    warnings = [
        record
        for record in caplog.records
        if record.levelno == logging.WARNING and "too large" in record.getMessage()
    ]
    assert len(warnings) == 1


@pytest.mark.usefixtures("cameras")
async def test_action_without_a_loaded_entry(
    hass: HomeAssistant, emulator: ClarifaiEmulator, config_entry: MockConfigEntry
) -> None:
    """Without a working account the action says so, in Home Assistant's words."""
    assert await async_setup_component(hass, DOMAIN, {})
    with pytest.raises(ServiceValidationError) as none_set_up:
        await predict_general(hass)
    assert none_set_up.value.translation_key == (
        "service_found_no_config_entry_for_domain"
    )

    await emulator.stop()
    config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    with pytest.raises(ServiceValidationError) as not_loaded:
        await predict_general(hass)
    assert not_loaded.value.translation_key == "service_config_entry_not_loaded"

    with pytest.raises(ServiceValidationError) as unknown:
        await predict_general(hass, config_entry_id="no-such-entry")
    assert unknown.value.translation_key == "service_config_entry_not_found"

    await emulator.start()
    assert await hass.config_entries.async_reload(config_entry.entry_id)
    await assert_still_working(hass, emulator)


@pytest.mark.usefixtures("cameras", "init_integration")
@pytest.mark.parametrize(
    "platform",
    [
        {"app_id": "home", "workflow_id": "General", "result_format": "xml"},
        {"app_id": "", "workflow_id": "General"},
        {"app_id": "home"},
        {"app_id": "home", "workflow_id": {"id": "General"}},
        {"app_id": "home", "workflow_id": "General", "source": "camera.front_door"},
    ],
)
async def test_malformed_platform_yaml_adds_no_entity(
    hass: HomeAssistant,
    emulator: ClarifaiEmulator,
    caplog: pytest.LogCaptureFixture,
    platform: dict[str, Any],
) -> None:
    """A bad image_processing entry is a logged configuration error."""
    await set_up_image_processing(hass, **platform)

    assert hass.states.async_entity_ids("image_processing") == []
    assert "Invalid config for 'image_processing'" in caplog.text
    await assert_still_working(hass, emulator)


@pytest.mark.usefixtures("cameras")
@pytest.mark.parametrize("clarifai", [{"access_token": ""}, {"access_token": None}])
async def test_malformed_clarifai_yaml_sets_up_nothing(
    hass: HomeAssistant,
    emulator: ClarifaiEmulator,
    caplog: pytest.LogCaptureFixture,
    clarifai: dict[str, Any],
) -> None:
    """An empty token under clarifai: is a configuration error, not a request."""
    assert not await async_setup_component(hass, DOMAIN, {DOMAIN: clarifai})
    await hass.async_block_till_done()

    assert "Invalid config for 'clarifai'" in caplog.text
    assert hass.config_entries.async_entries(DOMAIN) == []
    assert emulator.requests == []
