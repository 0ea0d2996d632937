"""The flat and nested result formats, on realistic workflow results."""

import json
from pathlib import Path
from typing import Any

from clarifai_grpc.grpc.api import resources_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2
from google.protobuf import json_format
import pytest

from custom_components.clarifai.formatting import (
    failed_outputs,
    flatten_workflow_result,
    format_workflow_result,
    nest_workflow_result,
)

FIXTURES = Path(__file__).parent / "fixtures"


def load_json(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def workflow_result(name: str) -> resources_pb2.WorkflowResult:
    """Parse a fixture the way the client receives it: as a protobuf message."""
    return json_format.ParseDict(load_json(name), resources_pb2.WorkflowResult())


def significant(value: Any) -> Any:
    """Round every float to 7 significant digits, as single precision carries."""
    if isinstance(value, float):
        return float(f"{value:.7g}")
    if isinstance(value, dict):
        return {key: significant(item) for key, item in value.items()}
    if isinstance(value, list):
        return [significant(item) for item in value]
    return value


def test_flat_gathers_concepts_and_regions_at_every_depth() -> None:
    """Every confidence value is kept, from every model and nested region."""
    flat = flatten_workflow_result(workflow_result("detect_and_recognise.json"))

    assert significant(flat) == load_json("detect_and_recognise_flat.json")
    # Concepts keep the order in which Clarifai reported them.
    assert list(flat["concepts"]) == list(
        load_json("detect_and_recognise_flat.json")["concepts"]
    )


def test_flat_values_are_single_precision_numbers() -> None:
    """Confidences arrive as float32; they are numbers close to what was sent."""
    flat = flatten_workflow_result(workflow_result("detect_and_recognise.json"))

    assert flat["concepts"]["Test"] == pytest.approx([0.97, 0.41, 0.125])
    assert max(flat["concepts"]["Test"]) > 0.9
    assert all(isinstance(v, float) for v in flat["concepts"]["3D-P27"])
    # Boxes are rounded back to what Clarifai meant.
    assert flat["regions"][0]["boundingBox"]["topRow"] == 0.07539025


def test_flat_names_fall_back_to_the_concept_id() -> None:
    """A concept Clarifai reports without a name is listed under its id."""
    flat = flatten_workflow_result(workflow_result("detect_and_recognise.json"))

    assert flat["concepts"]["unnamed-person"] == [0.0]
    assert "" not in flat["concepts"]


def test_flat_lists_a_region_seen_by_two_models_once() -> None:
    """The detector's faces come back in the recogniser's output: one box each."""
    result = workflow_result("detect_and_recognise.json")

    flat = flatten_workflow_result(result)

    boxes = [region["boundingBox"] for region in flat["regions"]]
    assert len(boxes) == 4
    assert len({tuple(box.values()) for box in boxes}) == 4
    assert all(list(region) == ["boundingBox"] for region in flat["regions"])


def test_flat_keeps_distinct_regions_without_ids() -> None:
    """Regions without an id are told apart by their boxes."""
    result = resources_pb2.WorkflowResult()
    output = result.outputs.add()
    for top in (0.1, 0.2, 0.1):
        region = output.data.regions.add()
        region.region_info.bounding_box.top_row = top
        region.region_info.bounding_box.bottom_row = 0.5

    flat = flatten_workflow_result(result)

    assert [r["boundingBox"]["topRow"] for r in flat["regions"]] == [0.1, 0.2]
    assert flat["regions"][0]["boundingBox"] == {
        "topRow": 0.1,
        "leftCol": 0.0,
        "bottomRow": 0.5,
        "rightCol": 0.0,
    }


@pytest.mark.parametrize(
    "fixture",
    ["Face.json", "General.json", "Partial.json"],
)
def test_flat_on_the_emulator_workflows(fixture: str) -> None:
    """Each concept of the shipped workflows appears with all of its values."""
    path = Path(__file__).parents[1] / "clarifai_emulator/fixtures/workflows" / fixture
    data = json.loads(path.read_text(encoding="utf-8"))
    expected: dict[str, list[float]] = {}

    def walk(node: dict[str, Any]) -> None:
        for concept in node.get("concepts", []):
            name = concept.get("name") or concept["id"]
            expected.setdefault(name, []).append(concept.get("value", 0.0))
        for region in node.get("regions", []):
            walk(region.get("data", {}))

    for output in data["outputs"]:
        walk(output.get("data", {}))

    flat = flatten_workflow_result(
        json_format.ParseDict(data, resources_pb2.WorkflowResult())
    )

    assert significant(flat["concepts"]) == expected


def test_flat_on_an_empty_result() -> None:
    """A workflow that finds nothing gives empty concepts and regions."""
    assert flatten_workflow_result(resources_pb2.WorkflowResult()) == {
        "concepts": {},
        "regions": [],
    }
    empty_output = resources_pb2.WorkflowResult(outputs=[resources_pb2.Output()])
    assert format_workflow_result(empty_output, "flat") == {
        "concepts": {},
        "regions": [],
    }


def test_nested_is_the_official_json_form() -> None:
    """The nested format keeps Clarifai's structure with camelCase keys."""
    nested = nest_workflow_result(workflow_result("detect_and_recognise.json"))

    assert nested["id"] == "5d0c3b1a9e8f4a7b6c2d1e0f9a8b7c6d"
    assert nested["status"] == {"code": "SUCCESS", "description": "Ok"}
    assert [output["model"]["id"] for output in nested["outputs"]] == [
        "face-detection",
        "face-recognition",
        "general-image-recognition",
    ]
    recognised = nested["outputs"][1]["data"]["regions"][1]
    assert recognised["id"] == "region-2"
    assert significant(recognised["regionInfo"]["boundingBox"]) == {
        "topRow": 0.1211834,
        "leftCol": 0.7522101,
        "bottomRow": 0.4087952,
        "rightCol": 0.9410375,
    }
    mouth = recognised["data"]["regions"][0]
    smile = mouth["data"]["regions"][0]["data"]["concepts"][0]
    assert smile["name"] == "smile"
    assert smile["value"] == pytest.approx(0.75)
    assert recognised["data"]["concepts"][0]["value"] == pytest.approx(0.41)
    json.dumps(nested)


@pytest.mark.parametrize("name", ["detect_and_recognise.json", "failed_output.json"])
def test_nested_matches_the_official_client_exactly(name: str) -> None:
    """Every key and value is what the official client's JSON form holds."""
    result = workflow_result(name)
    # Values the JSON form writes specially: names shared by two status codes
    # (INPUT_FAILED is also INPUT_DOWNLOAD_FAILED), a code newer than the
    # client, 64-bit integers as text, bytes, times, metadata, non-finite
    # and single-precision numbers.
    output = result.outputs.add()
    output.status.code = status_code_pb2.INPUT_DOWNLOAD_FAILED
    output.model.model_version.status.code = 987654
    output.data.int_value = 2**40
    output.model.metadata.update({"camera": "porch", "scores": [0.5, None]})
    output.created_at.FromSeconds(1_700_000_000)
    output.data.embeddings.add(vector=[0.1, float("nan"), float("-inf"), 3e38])
    output.data.text.raw = "é☃"
    output.data.concepts.add(name="rounded", value=0.3)
    output.data.image.base64 = b"\x00\xff"
    result.input.id = "echoed"

    expected = json_format.MessageToDict(result)
    expected["input"] = {"id": "echoed"}
    assert json.dumps(nest_workflow_result(result)) == json.dumps(expected)


def test_nested_reduces_the_echoed_input_to_its_id() -> None:
    """The input is not repeated in every event; its id is enough."""
    result = workflow_result("detect_and_recognise.json")
    result.input.data.image.base64 = b"\xff\xd8\xff\xe0 a camera picture"

    nested = nest_workflow_result(result)

    assert nested["input"] == {"id": "3e7b1c9d5a2f4e6b8c0d2a4f6e8b0c2d"}


def test_nested_on_an_empty_result() -> None:
    """An empty result is an empty mapping, not an error."""
    assert format_workflow_result(resources_pb2.WorkflowResult(), "nested") == {}


@pytest.mark.parametrize("result_format", ["flat", "nested"])
def test_failed_outputs_are_listed_in_both_formats(result_format: str) -> None:
    """A model that failed is named with Clarifai's reason; the rest is kept."""
    formatted = format_workflow_result(
        workflow_result("failed_output.json"), result_format
    )

    assert formatted["failed_outputs"] == [
        {
            "model_id": "plate-reader",
            "code": status_code_pb2.MODEL_PREDICTION_FAILED,
            "description": "Model prediction failed",
        }
    ]
    if result_format == "flat":
        assert significant(formatted["concepts"]) == {
            "car": [0.8839204],
            "street": [0.9105733],
        }
    else:
        assert len(formatted["outputs"]) == 2


def test_successful_results_have_no_failed_outputs() -> None:
    """Outputs with SUCCESS, or without a status, are not failures."""
    result = workflow_result("detect_and_recognise.json")
    result.outputs.add().data.concepts.add(name="late", value=0.5)

    assert failed_outputs(result) == []
    assert "failed_outputs" not in format_workflow_result(result, "flat")
    assert "failed_outputs" not in format_workflow_result(result, "nested")


def test_unknown_result_format_is_refused() -> None:
    """Only flat and nested exist."""
    with pytest.raises(ValueError, match="tree"):
        format_workflow_result(resources_pb2.WorkflowResult(), "tree")
