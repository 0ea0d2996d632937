"""The clarifai.predict action, run against the emulator through Home Assistant."""

import re
from typing import Any, cast

from clarifai_grpc.grpc.api import service_pb2
from google.protobuf import json_format
import probatio
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)
import yaml

from clarifai_emulator import PUBLIC_APP_ID, PUBLIC_USER_ID, ClarifaiEmulator
from custom_components.clarifai.api import SERIALIZE_IN_THREAD_BYTES
from custom_components.clarifai.const import DOMAIN, EVENT_PREDICTION
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import service
from homeassistant.setup import async_setup_component

from .conftest import FRONT_DOOR, GARDEN, StillCamera, demo_jpeg
from .helpers import predict, predict_general, sent_requests

# Cameras first: the integration depends on the camera component, and once
# that is set up the cameras fixture could no longer add its platform.
pytestmark = pytest.mark.usefixtures("cameras", "init_integration")

# The action exactly as the documentation shows it, with its placeholders
# filled in for the emulator's `home` app.
DOCUMENTED_ACTION = """
service: clarifai.predict
data:
  app_id: home
  workflow_id: Face
  result_format: flat # or nested
  entity_id: camera.front_door
"""

WORKFLOWS = ["Face", "General", "Partial"]
# A second account's made-up token.
OTHER_TOKEN = "other-pat-1111111111"  # noqa: S105


def concept_names(emulator: ClarifaiEmulator, workflow_id: str) -> set[str]:
    """Return every concept name a workflow answers with, at any depth."""
    names: set[str] = set()

    def walk(data: Any) -> None:
        names.update(concept.name or concept.id for concept in data.concepts)
        for region in data.regions:
            walk(region.data)

    for output in emulator.workflow_outputs(workflow_id):
        walk(output.data)
    return names


async def test_documented_action(
    hass: HomeAssistant, emulator: ClarifaiEmulator
) -> None:
    """The documented snippet sends the camera's image and answers in flat form."""
    events = async_capture_events(hass, EVENT_PREDICTION)
    action = yaml.safe_load(DOCUMENTED_ACTION)

    response = await predict(hass, **action["data"])

    [request] = emulator.requests_for("PostWorkflowResults")
    assert request.token == emulator.access_token
    message = request.message
    assert isinstance(message, service_pb2.PostWorkflowResultsRequest)
    assert message.user_app_id.user_id == emulator.user_id
    assert message.user_app_id.app_id == "home"
    assert message.workflow_id == "Face"
    [sent] = message.inputs
    assert sent.data.image.base64 == demo_jpeg(0)

    assert list(response) == [FRONT_DOOR]
    flat = response[FRONT_DOOR]
    assert set(flat) == {"concepts", "regions"}
    assert flat["concepts"]["Test"] == pytest.approx([0.97, 0.41])
    assert flat["concepts"]["face"] == pytest.approx([0.99912, 0.98354, 0.87061])
    assert flat["concepts"]["3D-P27"] == [0.0, 0.0]
    # Three faces seen by both models, and one region inside a face.
    assert len(flat["regions"]) == 4
    assert flat["regions"][0] == {
        "boundingBox": {
            "topRow": 0.07539025,
            "leftCol": 0.2703206,
            "bottomRow": 0.7358365,
            "rightCol": 0.7092912,
        }
    }

    [event] = events
    assert event.data == {
        **flat,
        "entity_id": FRONT_DOOR,
        "user_id": emulator.user_id,
        "app_id": "home",
        "workflow_id": "Face",
        "result_format": "flat",
    }


async def test_result_format_defaults_to_nested(
    hass: HomeAssistant, emulator: ClarifaiEmulator
) -> None:
    """Without result_format the answer keeps Clarifai's nested structure."""
    events = async_capture_events(hass, EVENT_PREDICTION)

    response = await predict(
        hass, app_id="home", workflow_id="Face", entity_id=FRONT_DOOR
    )

    nested = response[FRONT_DOOR]
    assert "concepts" not in nested
    assert [output["model"]["id"] for output in nested["outputs"]] == [
        "face-detection",
        "face-recognition",
    ]
    region = nested["outputs"][1]["data"]["regions"][0]
    assert region["regionInfo"]["boundingBox"]["topRow"] == pytest.approx(0.07539025)
    assert region["data"]["concepts"][0]["name"] == "Test"
    assert region["data"]["concepts"][0]["value"] == pytest.approx(0.97)
    # The image is not echoed back into the event.
    assert set(nested["input"]) == {"id"}

    [event] = events
    assert event.data["result_format"] == "nested"
    assert event.data["outputs"] == nested["outputs"]


@pytest.mark.parametrize("workflow_id", WORKFLOWS)
async def test_flat_format_on_each_workflow(
    hass: HomeAssistant, emulator: ClarifaiEmulator, workflow_id: str
) -> None:
    """Every concept of the workflow's answer is in the flat concepts."""
    events = async_capture_events(hass, EVENT_PREDICTION)

    response = await predict(
        hass,
        app_id="home",
        workflow_id=workflow_id,
        result_format="flat",
        entity_id=GARDEN,
    )

    flat = response[GARDEN]
    assert set(flat["concepts"]) == concept_names(emulator, workflow_id)
    assert all(
        isinstance(value, float)
        for values in flat["concepts"].values()
        for value in values
    )
    [event] = events
    assert event.data["concepts"] == flat["concepts"]
    assert event.data["regions"] == flat["regions"]
    assert event.data["workflow_id"] == workflow_id
    [message] = sent_requests(emulator)
    assert message.inputs[0].data.image.base64 == demo_jpeg(1)


@pytest.mark.parametrize("workflow_id", WORKFLOWS)
async def test_nested_format_on_each_workflow(
    hass: HomeAssistant, emulator: ClarifaiEmulator, workflow_id: str
) -> None:
    """The nested answer holds each model's output as Clarifai sent it."""
    events = async_capture_events(hass, EVENT_PREDICTION)

    response = await predict(
        hass,
        app_id="home",
        workflow_id=workflow_id,
        result_format="nested",
        entity_id=GARDEN,
    )

    nested = response[GARDEN]
    outputs = emulator.workflow_outputs(workflow_id)
    assert len(nested["outputs"]) == len(outputs)
    for answered, expected in zip(nested["outputs"], outputs, strict=True):
        assert answered["model"]["id"] == expected.model.id
        assert answered["data"] == json_format.MessageToDict(expected.data)
    assert nested["status"]["code"] == "SUCCESS"
    [event] = events
    assert event.data["outputs"] == nested["outputs"]
    assert event.data["result_format"] == "nested"


@pytest.mark.parametrize("result_format", ["flat", "nested"])
async def test_failed_model_is_reported_with_the_rest(
    hass: HomeAssistant, result_format: str
) -> None:
    """A workflow where one model failed still answers, naming the failure."""
    response = await predict(
        hass,
        app_id="home",
        workflow_id="Partial",
        result_format=result_format,
        entity_id=FRONT_DOOR,
    )

    [failed] = response[FRONT_DOOR]["failed_outputs"]
    assert failed["model_id"] == "plate-reader"
    assert failed["description"] == "Model prediction failed"


async def test_several_cameras_are_each_predicted_and_answered(
    hass: HomeAssistant, emulator: ClarifaiEmulator
) -> None:
    """Each camera's own image is sent; each gets an event and a response."""
    events = async_capture_events(hass, EVENT_PREDICTION)

    response = await predict(
        hass,
        app_id="home",
        workflow_id="General",
        result_format="flat",
        entity_id=[FRONT_DOOR, GARDEN],
    )

    assert list(response) == [FRONT_DOOR, GARDEN]
    images = sorted(m.inputs[0].data.image.base64 for m in sent_requests(emulator))
    assert images == sorted([demo_jpeg(0), demo_jpeg(1)])
    assert sorted(event.data["entity_id"] for event in events) == [FRONT_DOOR, GARDEN]
    for event in events:
        assert event.data["concepts"] == response[event.data["entity_id"]]["concepts"]
        assert event.data["concepts"]["people"] == pytest.approx([0.9871423])


async def test_cameras_as_a_comma_separated_string(
    hass: HomeAssistant, emulator: ClarifaiEmulator
) -> None:
    """entity_id also takes a comma-separated list; a repeat is sent once."""
    response = await predict(
        hass,
        app_id="home",
        workflow_id="General",
        entity_id=f"{FRONT_DOOR}, {GARDEN}, {FRONT_DOOR}",
    )

    assert list(response) == [FRONT_DOOR, GARDEN]
    assert len(sent_requests(emulator)) == 2


async def test_public_workflow_of_another_user(
    hass: HomeAssistant, emulator: ClarifaiEmulator
) -> None:
    """user_id names the owner of the app, e.g. Clarifai's public models."""
    events = async_capture_events(hass, EVENT_PREDICTION)

    response = await predict(
        hass,
        user_id=PUBLIC_USER_ID,
        app_id=PUBLIC_APP_ID,
        workflow_id="General",
        result_format="flat",
        entity_id=FRONT_DOOR,
    )

    [message] = sent_requests(emulator)
    assert message.user_app_id.user_id == PUBLIC_USER_ID == "clarifai"
    assert message.user_app_id.app_id == PUBLIC_APP_ID == "main"
    assert "people" in response[FRONT_DOOR]["concepts"]
    assert events[0].data["user_id"] == "clarifai"
    assert events[0].data["app_id"] == "main"


async def test_config_entry_id_chooses_the_account(
    hass: HomeAssistant, emulator: ClarifaiEmulator, init_integration: MockConfigEntry
) -> None:
    """config_entry_id picks the account; an unknown one is refused."""
    response = await predict(
        hass,
        config_entry_id=init_integration.entry_id,
        app_id="home",
        workflow_id="Face",
        entity_id=FRONT_DOOR,
    )
    assert FRONT_DOOR in response

    with pytest.raises(ServiceValidationError):
        await predict(
            hass,
            config_entry_id="not-an-entry",
            app_id="home",
            workflow_id="Face",
            entity_id=FRONT_DOOR,
        )
    assert len(sent_requests(emulator)) == 1


async def test_config_entry_id_with_two_accounts(
    hass: HomeAssistant, emulator: ClarifaiEmulator, init_integration: MockConfigEntry
) -> None:
    """With two accounts, config_entry_id says whose token and apps are used."""
    other = ClarifaiEmulator(access_token=OTHER_TOKEN, user_id="other")
    await other.start(host="127.0.0.1", port=0)
    try:
        other_entry = MockConfigEntry(
            domain=DOMAIN,
            unique_id=other.user_id,
            data={"access_token": other.access_token, "endpoint": other.endpoint},
        )
        other_entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(other_entry.entry_id)

        response = await predict(
            hass,
            config_entry_id=other_entry.entry_id,
            app_id="home",
            workflow_id="General",
            result_format="flat",
            entity_id=FRONT_DOOR,
        )
        assert "people" in response[FRONT_DOOR]["concepts"]
        [request] = other.requests_for("PostWorkflowResults")
        assert request.token == OTHER_TOKEN
        message = cast(service_pb2.PostWorkflowResultsRequest, request.message)
        assert message.user_app_id.user_id == "other"
        assert sent_requests(emulator) == []

        # Without config_entry_id the account would be a guess.
        with pytest.raises(ServiceValidationError):
            await predict(
                hass, app_id="home", workflow_id="General", entity_id=FRONT_DOOR
            )
        assert len(other.requests_for("PostWorkflowResults")) == 1
        assert await hass.config_entries.async_unload(other_entry.entry_id)
    finally:
        await other.stop()


async def test_unknown_result_format_is_refused(
    hass: HomeAssistant, emulator: ClarifaiEmulator
) -> None:
    """Only flat and nested are accepted, and nothing is sent otherwise."""
    events = async_capture_events(hass, EVENT_PREDICTION)

    with pytest.raises(probatio.Invalid):
        await predict(
            hass,
            app_id="home",
            workflow_id="Face",
            result_format="tree",
            entity_id=FRONT_DOOR,
        )

    assert sent_requests(emulator) == []
    assert events == []


@pytest.mark.parametrize(
    "missing", ["app_id", "workflow_id", "entity_id"], ids=lambda key: f"no {key}"
)
async def test_required_fields(
    hass: HomeAssistant, emulator: ClarifaiEmulator, missing: str
) -> None:
    """app_id, workflow_id and entity_id are required."""
    data = {"app_id": "home", "workflow_id": "Face", "entity_id": FRONT_DOOR}
    del data[missing]

    with pytest.raises(probatio.Invalid):
        await predict(hass, **data)

    assert sent_requests(emulator) == []


async def test_an_empty_list_of_cameras_is_refused(
    hass: HomeAssistant, emulator: ClarifaiEmulator
) -> None:
    """entity_id must name at least one camera; an empty list is no answer."""
    events = async_capture_events(hass, EVENT_PREDICTION)

    with pytest.raises(probatio.Invalid):
        await predict(hass, app_id="home", workflow_id="Face", entity_id=[])

    assert sent_requests(emulator) == []
    assert events == []


@pytest.mark.parametrize("field", ["app_id", "workflow_id", "user_id"])
async def test_blank_ids_are_refused(
    hass: HomeAssistant, emulator: ClarifaiEmulator, field: str
) -> None:
    """An id left blank is a validation error, not a request for nothing."""
    data = {"app_id": "home", "workflow_id": "Face", "entity_id": FRONT_DOOR}

    with pytest.raises(probatio.Invalid):
        await predict(hass, **{**data, field: "  "})

    assert sent_requests(emulator) == []


async def test_ids_are_sent_without_surrounding_blanks(
    hass: HomeAssistant, emulator: ClarifaiEmulator
) -> None:
    """Ids pasted with spaces around them still name the workflow."""
    await predict(
        hass,
        app_id=" home ",
        workflow_id="Face ",
        result_format="FLAT",
        entity_id=FRONT_DOOR,
    )

    [message] = sent_requests(emulator)
    assert message.user_app_id.app_id == "home"
    assert message.workflow_id == "Face"


@pytest.mark.parametrize(
    ("entity_id", "message"),
    [
        ("light.kitchen", "light.kitchen is not a camera"),
        ("camera.attic", "There is no camera camera.attic"),
    ],
)
async def test_only_existing_cameras_are_accepted(
    hass: HomeAssistant, emulator: ClarifaiEmulator, entity_id: str, message: str
) -> None:
    """Anything but an existing camera is refused before Clarifai is asked."""
    with pytest.raises(ServiceValidationError, match=re.escape(message)):
        await predict(
            hass,
            app_id="home",
            workflow_id="Face",
            entity_id=[FRONT_DOOR, entity_id],
        )

    assert sent_requests(emulator) == []


async def test_camera_without_image_stops_the_call(
    hass: HomeAssistant,
    emulator: ClarifaiEmulator,
    cameras: dict[str, StillCamera],
) -> None:
    """A camera that is off fails the call, and no camera is sent."""
    events = async_capture_events(hass, EVENT_PREDICTION)
    await cameras[GARDEN].async_turn_off()

    with pytest.raises(HomeAssistantError, match=r"camera\.garden did not return"):
        await predict(
            hass, app_id="home", workflow_id="Face", entity_id=[FRONT_DOOR, GARDEN]
        )

    assert sent_requests(emulator) == []
    assert events == []


async def test_without_response_the_event_still_fires(
    hass: HomeAssistant, emulator: ClarifaiEmulator
) -> None:
    """An automation calling the action without a response gets the event."""
    events: list[Event] = async_capture_events(hass, EVENT_PREDICTION)

    response = await hass.services.async_call(
        DOMAIN,
        "predict",
        {"app_id": "home", "workflow_id": "Face", "entity_id": FRONT_DOOR},
        blocking=True,
    )

    assert response is None
    [event] = events
    assert event.data["entity_id"] == FRONT_DOOR
    assert emulator.access_token not in repr(event.data)


async def test_action_from_a_script(
    hass: HomeAssistant, emulator: ClarifaiEmulator
) -> None:
    """The documented snippet works as a script step, response included."""
    action = yaml.safe_load(DOCUMENTED_ACTION)
    action["response_variable"] = "prediction"
    assert await async_setup_component(
        hass,
        "script",
        {
            "script": {
                "check_door": {
                    "sequence": [
                        action,
                        {"stop": "done", "response_variable": "prediction"},
                    ]
                }
            }
        },
    )

    response = await hass.services.async_call(
        "script", "check_door", blocking=True, return_response=True
    )

    prediction = cast(dict[str, Any], response)[FRONT_DOOR]
    assert prediction["concepts"]["Test"] == pytest.approx([0.97, 0.41])
    assert len(sent_requests(emulator)) == 1


async def test_without_a_loaded_account(
    hass: HomeAssistant, emulator: ClarifaiEmulator, init_integration: MockConfigEntry
) -> None:
    """With the account unloaded the action explains itself and sends nothing."""
    assert await hass.config_entries.async_unload(init_integration.entry_id)

    with pytest.raises(ServiceValidationError):
        await predict(hass, app_id="home", workflow_id="Face", entity_id=FRONT_DOOR)

    assert sent_requests(emulator) == []


async def test_action_is_described_for_the_ui(hass: HomeAssistant) -> None:
    """services.yaml describes every documented field, with their defaults."""
    descriptions = await service.async_get_all_descriptions(hass)

    predict_action = descriptions[DOMAIN]["predict"]
    fields = predict_action["fields"]
    assert set(fields) == {
        "app_id",
        "workflow_id",
        "result_format",
        "entity_id",
        "user_id",
        "config_entry_id",
    }
    for required in ("app_id", "workflow_id", "entity_id"):
        assert fields[required]["required"] is True
    assert fields["result_format"]["default"] == "nested"
    assert fields["result_format"]["selector"]["select"]["options"] == [
        "nested",
        "flat",
    ]
    assert fields["entity_id"]["selector"]["entity"]["domain"] == ["camera"]
    assert predict_action["response"] == {"optional": True}


async def test_unknown_workflow_fires_no_event(
    hass: HomeAssistant, emulator: ClarifaiEmulator
) -> None:
    """A workflow Clarifai does not know is reported, and nothing is announced."""
    events = async_capture_events(hass, EVENT_PREDICTION)

    with pytest.raises(ServiceValidationError, match="no workflow Faces in app home"):
        await predict(hass, app_id="home", workflow_id="Faces", entity_id=FRONT_DOOR)

    assert len(sent_requests(emulator)) == 1
    assert events == []


async def test_large_picture_arrives_whole(
    hass: HomeAssistant,
    emulator: ClarifaiEmulator,
    cameras: dict[str, StillCamera],
) -> None:
    """A 4K-sized still is encoded off the event loop and sent byte for byte."""
    # Several megabytes, like a 4K camera's still: encoded in a worker thread.
    picture = demo_jpeg(0) * 60
    assert len(picture) > SERIALIZE_IN_THREAD_BYTES
    cameras[FRONT_DOOR].image = picture
    events = async_capture_events(hass, EVENT_PREDICTION)

    response = await predict_general(hass, result_format="flat")

    [message] = sent_requests(emulator)
    assert message.inputs[0].data.image.base64 == picture
    assert message.workflow_id == "General"
    assert response[FRONT_DOOR]["concepts"]["people"] == pytest.approx([0.9871423])
    assert len(events) == 1
