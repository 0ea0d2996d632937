"""Turn a Clarifai workflow result into the documented result formats.

Pure functions over protobuf messages, with no Home Assistant imports, so
they can be tested and benchmarked on their own.
"""

from __future__ import annotations

from typing import Any

from clarifai_grpc.grpc.api import resources_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2
from google.protobuf import json_format

type FlatConcepts = dict[str, list[float]]


def format_workflow_result(
    result: resources_pb2.WorkflowResult, result_format: str
) -> dict[str, Any]:
    """Format a workflow result as "flat" or "nested"."""
    if result_format == "flat":
        formatted = flatten_workflow_result(result)
    elif result_format == "nested":
        formatted = nest_workflow_result(result)
    else:
        raise ValueError(result_format)

    if failed := failed_outputs(result):
        formatted["failed_outputs"] = failed
    return formatted


def nest_workflow_result(result: resources_pb2.WorkflowResult) -> dict[str, Any]:
    """Return the workflow result in the JSON form of the official client.

    The echoed input is reduced to its id: it would otherwise carry the
    camera image itself into every event.
    """
    nested = json_format.MessageToDict(result)
    if "input" in nested:
        nested["input"] = {"id": result.input.id}
    return nested


def flatten_workflow_result(result: resources_pb2.WorkflowResult) -> dict[str, Any]:
    """Gather every concept and every region box of a workflow result.

    Concepts map a name to all of its confidence values, from every output
    and every region at any depth, so that an automation can take the
    highest one. A workflow that detects and then recognises returns each
    region once per model; a region is listed once, the first time its id
    (or, without an id, its box) is met.
    """
    concepts: FlatConcepts = {}
    regions: list[dict[str, Any]] = []
    seen_regions: set[object] = set()

    for output in result.outputs:
        _gather(output.data, concepts, regions, seen_regions)
    return {"concepts": concepts, "regions": regions}


def _gather(
    data: resources_pb2.Data,
    concepts: FlatConcepts,
    regions: list[dict[str, Any]],
    seen_regions: set[object],
) -> None:
    for concept in data.concepts:
        name = concept.name or concept.id
        if (values := concepts.get(name)) is None:
            concepts[name] = [concept.value]
        else:
            values.append(concept.value)

    for region in data.regions:
        if region.region_info.HasField("bounding_box"):
            box = region.region_info.bounding_box
            key: object = region.id or (
                box.top_row,
                box.left_col,
                box.bottom_row,
                box.right_col,
            )
            if key not in seen_regions:
                seen_regions.add(key)
                regions.append(
                    {
                        "boundingBox": {
                            "topRow": _coordinate(box.top_row),
                            "leftCol": _coordinate(box.left_col),
                            "bottomRow": _coordinate(box.bottom_row),
                            "rightCol": _coordinate(box.right_col),
                        }
                    }
                )
        _gather(region.data, concepts, regions, seen_regions)


def _coordinate(value: float) -> float:
    # Boxes arrive as single-precision numbers (0.0753902494907 for
    # 0.07539025); seven significant digits give back what Clarifai meant,
    # as the official client's JSON form does. Confidence values are left
    # as they come: there are far more of them, and rounding every one
    # would cost more than the rest of the formatting together.
    return float(f"{value:.7g}")


def failed_outputs(result: resources_pb2.WorkflowResult) -> list[dict[str, Any]]:
    """List the outputs that failed, by model, with Clarifai's reason."""
    return [
        {
            "model_id": output.model.id,
            "code": output.status.code,
            "description": output.status.description,
        }
        for output in result.outputs
        if output.HasField("status")
        and output.status.code not in (status_code_pb2.SUCCESS, status_code_pb2.ZERO)
    ]
