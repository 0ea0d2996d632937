"""The clarifai image processing platform, set up from YAML and scanned."""

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)
import yaml

from clarifai_emulator import ClarifaiEmulator
from custom_components.clarifai.const import DOMAIN, EVENT_PREDICTION
from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util

from .conftest import FRONT_DOOR, GARDEN, StillCamera, demo_jpeg
from .helpers import (
    DOCUMENTED_PLATFORM,
    FRONT_DOOR_SCANNER,
    scan,
    sent_requests,
    set_up_documented_platform,
    set_up_image_processing,
)

GARDEN_SCANNER = "image_processing.clarifai_garden"
WORKFLOWS = ["Face", "General", "Partial"]


@pytest.fixture
async def documented_platform(
    hass: HomeAssistant,
    cameras: dict[str, StillCamera],
    init_integration: MockConfigEntry,
) -> None:
    """Set up the documented YAML on the emulator's account."""
    await set_up_documented_platform(hass)


@pytest.mark.usefixtures("documented_platform")
async def test_documented_yaml_creates_an_entity(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, emulator: ClarifaiEmulator
) -> None:
    """The documented YAML adds one entity per source, unscanned until asked."""
    state = hass.states.get(FRONT_DOOR_SCANNER)
    assert state is not None
    assert state.state == STATE_UNKNOWN
    assert state.attributes["friendly_name"] == "Clarifai front_door"
    assert state.attributes["concepts"] == {}
    assert state.attributes["regions"] == []
    assert state.attributes["last_prediction"] is None

    entry = entity_registry.async_get(FRONT_DOOR_SCANNER)
    assert entry is not None
    assert (
        entry.unique_id
        == f"{emulator.user_id}-{emulator.user_id}-home-Face-{FRONT_DOOR}"
    )
    assert sent_requests(emulator) == []


async def test_documented_yaml_scan(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    documented_platform: None,
    emulator: ClarifaiEmulator,
) -> None:
    """A scan sends the camera's image, sets the state and fires the event."""
    events = async_capture_events(hass, EVENT_PREDICTION)
    scanned_at = dt_util.utcnow()

    await scan(hass)

    [request] = emulator.requests_for("PostWorkflowResults")
    assert request.token == emulator.access_token
    [message] = sent_requests(emulator)
    assert message.user_app_id.user_id == emulator.user_id
    assert message.user_app_id.app_id == "home"
    assert message.workflow_id == "Face"
    assert message.inputs[0].data.image.base64 == demo_jpeg(0)

    state = hass.states.get(FRONT_DOOR_SCANNER)
    assert state is not None
    # face (0.99912) is the most confident concept of the answer.
    assert state.state == "face"
    concepts = state.attributes["concepts"]
    assert concepts["Test"] == pytest.approx([0.97, 0.41])
    assert concepts["Carol"] == pytest.approx([0.93, 0.64])
    assert concepts["3D-P30"] == [0.0, 0.0]
    assert len(state.attributes["regions"]) == 4
    assert state.attributes["regions"][0]["boundingBox"]["topRow"] == 0.07539025
    assert state.attributes["region_count"] == 4
    assert state.attributes["last_prediction"] == scanned_at
    assert state.attributes["app_id"] == "home"
    assert state.attributes["workflow_id"] == "Face"

    [event] = events
    assert event.data == {
        "concepts": concepts,
        "regions": state.attributes["regions"],
        "entity_id": FRONT_DOOR,
        "user_id": emulator.user_id,
        "app_id": "home",
        "workflow_id": "Face",
        "result_format": "flat",
    }


async def test_documented_scan_interval(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    documented_platform: None,
    emulator: ClarifaiEmulator,
) -> None:
    """scan_interval: 10000 scans every 10000 seconds, not sooner."""
    events = async_capture_events(hass, EVENT_PREDICTION)

    freezer.tick(timedelta(seconds=9990))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert sent_requests(emulator) == []

    freezer.tick(timedelta(seconds=11))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(sent_requests(emulator)) == 1
    assert len(events) == 1

    freezer.tick(timedelta(seconds=10000))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(sent_requests(emulator)) == 2
    state = hass.states.get(FRONT_DOOR_SCANNER)
    assert state is not None
    assert state.state == "face"
    assert state.attributes["last_prediction"] == dt_util.utcnow()


@pytest.mark.usefixtures("cameras", "init_integration")
async def test_scan_interval_defaults_to_a_minute(
    hass: HomeAssistant, emulator: ClarifaiEmulator, freezer: FrozenDateTimeFactory
) -> None:
    """Without scan_interval a camera is scanned once a minute."""
    await set_up_image_processing(
        hass, app_id="home", workflow_id="General", source={"entity_id": FRONT_DOOR}
    )

    freezer.tick(timedelta(seconds=50))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert sent_requests(emulator) == []

    freezer.tick(timedelta(seconds=11))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(sent_requests(emulator)) == 1


@pytest.mark.usefixtures("cameras", "init_integration")
async def test_result_format_defaults_to_nested(
    hass: HomeAssistant, emulator: ClarifaiEmulator
) -> None:
    """The event is nested by default; the entity still shows flat concepts."""
    events = async_capture_events(hass, EVENT_PREDICTION)
    await set_up_image_processing(
        hass, app_id="home", workflow_id="Face", source=[{"entity_id": FRONT_DOOR}]
    )

    await scan(hass)

    [event] = events
    assert event.data["result_format"] == "nested"
    assert "concepts" not in event.data
    assert [o["model"]["id"] for o in event.data["outputs"]] == [
        "face-detection",
        "face-recognition",
    ]
    state = hass.states.get(FRONT_DOOR_SCANNER)
    assert state is not None
    assert state.state == "face"
    assert state.attributes["concepts"]["Test"] == pytest.approx([0.97, 0.41])


@pytest.mark.parametrize("result_format", ["flat", "nested"])
@pytest.mark.parametrize(
    ("workflow_id", "top_concept"),
    [("Face", "face"), ("General", "people"), ("Partial", "people")],
)
@pytest.mark.usefixtures("cameras", "init_integration")
async def test_each_workflow_in_each_format(
    hass: HomeAssistant,
    emulator: ClarifaiEmulator,
    workflow_id: str,
    top_concept: str,
    result_format: str,
) -> None:
    """Every emulator workflow scans in both formats; the state is the top concept."""
    events = async_capture_events(hass, EVENT_PREDICTION)
    await set_up_image_processing(
        hass,
        app_id="home",
        workflow_id=workflow_id,
        result_format=result_format,
        source=[{"entity_id": GARDEN}],
    )

    await scan(hass, GARDEN_SCANNER)

    [message] = sent_requests(emulator)
    assert message.workflow_id == workflow_id
    assert message.inputs[0].data.image.base64 == demo_jpeg(1)
    state = hass.states.get(GARDEN_SCANNER)
    assert state is not None
    assert state.state == top_concept
    [event] = events
    assert event.data["entity_id"] == GARDEN
    assert event.data["workflow_id"] == workflow_id
    assert event.data["result_format"] == result_format
    if result_format == "flat":
        assert event.data["concepts"] == state.attributes["concepts"]
        assert event.data["regions"] == state.attributes["regions"]
    else:
        outputs = emulator.workflow_outputs(workflow_id)
        assert len(event.data["outputs"]) == len(outputs)
    if workflow_id == "Partial":
        [failed] = event.data["failed_outputs"]
        assert failed["model_id"] == "plate-reader"
        assert state.attributes["failed_outputs"] == [failed]
    else:
        assert "failed_outputs" not in state.attributes


@pytest.mark.usefixtures("cameras", "init_integration")
async def test_sources_with_names_and_their_own_ids(
    hass: HomeAssistant, entity_registry: er.EntityRegistry, emulator: ClarifaiEmulator
) -> None:
    """Each source is an entity; name sets its name; unique ids differ."""
    await set_up_image_processing(
        hass,
        app_id="home",
        workflow_id="General",
        source=[{"entity_id": FRONT_DOOR, "name": "Porch"}, {"entity_id": GARDEN}],
    )

    porch = hass.states.get("image_processing.porch")
    garden = hass.states.get(GARDEN_SCANNER)
    assert porch is not None
    assert garden is not None
    assert porch.attributes["friendly_name"] == "Porch"
    unique_ids = {
        entity_registry.async_get(entity_id).unique_id  # type: ignore[union-attr]
        for entity_id in (porch.entity_id, garden.entity_id)
    }
    assert len(unique_ids) == 2

    await scan(hass, "image_processing.porch")

    [message] = sent_requests(emulator)
    assert message.inputs[0].data.image.base64 == demo_jpeg(0)


@pytest.mark.usefixtures("cameras", "init_integration")
async def test_owner_of_a_public_workflow(
    hass: HomeAssistant, emulator: ClarifaiEmulator
) -> None:
    """user_id names the owner of the app, as for the action."""
    await set_up_image_processing(
        hass,
        user_id="clarifai",
        app_id="main",
        workflow_id="General",
        source=[{"entity_id": FRONT_DOOR}],
    )

    await scan(hass)

    [message] = sent_requests(emulator)
    assert message.user_app_id.user_id == "clarifai"
    assert message.user_app_id.app_id == "main"
    state = hass.states.get(FRONT_DOOR_SCANNER)
    assert state is not None
    assert state.state == "people"


@pytest.mark.usefixtures("cameras", "init_integration")
async def test_empty_answer_leaves_no_top_concept(
    hass: HomeAssistant, emulator: ClarifaiEmulator
) -> None:
    """A workflow that finds nothing gives no state and empty lists."""
    emulator.set_workflow_result("Face", {"outputs": [{"data": {}}]})
    events = async_capture_events(hass, EVENT_PREDICTION)
    await set_up_image_processing(
        hass,
        app_id="home",
        workflow_id="Face",
        result_format="flat",
        source=[{"entity_id": FRONT_DOOR}],
    )

    await scan(hass)

    state = hass.states.get(FRONT_DOOR_SCANNER)
    assert state is not None
    assert state.state == STATE_UNKNOWN
    assert state.attributes["concepts"] == {}
    assert state.attributes["regions"] == []
    assert state.attributes["last_prediction"] is not None
    [event] = events
    assert event.data["concepts"] == {}


@pytest.mark.usefixtures("documented_platform")
async def test_camera_without_image_keeps_the_last_answer(
    hass: HomeAssistant,
    emulator: ClarifaiEmulator,
    cameras: dict[str, StillCamera],
) -> None:
    """A scan of a camera that is off sends nothing and changes nothing."""
    await scan(hass)
    before = hass.states.get(FRONT_DOOR_SCANNER)
    events = async_capture_events(hass, EVENT_PREDICTION)
    await cameras[FRONT_DOOR].async_turn_off()

    await scan(hass)

    assert len(sent_requests(emulator)) == 1
    assert events == []
    after = hass.states.get(FRONT_DOOR_SCANNER)
    assert after is not None
    assert before is not None
    assert after.state == before.state == "face"
    assert after.attributes == before.attributes


@pytest.mark.usefixtures("cameras", "init_integration")
async def test_unknown_result_format_adds_no_entity(
    hass: HomeAssistant, emulator: ClarifaiEmulator
) -> None:
    """A misspelt result_format is a configuration error."""
    await set_up_image_processing(
        hass,
        app_id="home",
        workflow_id="Face",
        result_format="tree",
        source=[{"entity_id": FRONT_DOOR}],
    )

    assert hass.states.async_entity_ids("image_processing") == []


@pytest.mark.usefixtures("cameras")
async def test_platform_waits_for_the_clarifai_entry(
    hass: HomeAssistant,
    emulator: ClarifaiEmulator,
    config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Without a loaded account the platform retries until there is one."""
    await set_up_image_processing(
        hass, app_id="home", workflow_id="Face", source=[{"entity_id": FRONT_DOOR}]
    )
    assert hass.states.get(FRONT_DOOR_SCANNER) is None

    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    freezer.tick(timedelta(seconds=60))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)

    assert hass.states.get(FRONT_DOOR_SCANNER) is not None
    await scan(hass)
    assert len(sent_requests(emulator)) == 1


@pytest.mark.usefixtures("cameras")
async def test_whole_configuration_yaml(
    hass: HomeAssistant, emulator: ClarifaiEmulator
) -> None:
    """The clarifai: and image_processing: snippets together, as one file."""
    config = yaml.safe_load(
        f"""
clarifai:
  access_token: {emulator.access_token}
  endpoint: {emulator.endpoint}
{DOCUMENTED_PLATFORM}
"""
    )
    assert await async_setup_component(hass, DOMAIN, config)
    await hass.async_block_till_done()
    assert await async_setup_component(hass, "image_processing", config)
    await hass.async_block_till_done()

    await scan(hass)

    [request] = emulator.requests_for("PostWorkflowResults")
    assert request.token == emulator.access_token
    state = hass.states.get(FRONT_DOOR_SCANNER)
    assert state is not None
    assert state.state == "face"
