"""Turn a Clarifai workflow result into the documented result formats.

Pure functions over protobuf messages, with no Home Assistant imports, so
they can be tested and benchmarked on their own.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from functools import cache
import math
import struct
from typing import Any

from clarifai_grpc.grpc.api import resources_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2
from google.protobuf import descriptor, json_format
from google.protobuf.message import Message

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
    nested: dict[str, Any] = _message_to_json(result, _workflow_result_plan())
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
        region_info = region.region_info
        if region_info.HasField("bounding_box"):
            box = region_info.bounding_box
            corners = (box.top_row, box.left_col, box.bottom_row, box.right_col)
            key: object = region.id or corners
            if key not in seen_regions:
                seen_regions.add(key)
                top, left, bottom, right = map(_coordinate, corners)
                regions.append(
                    {
                        "boundingBox": {
                            "topRow": top,
                            "leftCol": left,
                            "bottomRow": bottom,
                            "rightCol": right,
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


# --- The nested format ------------------------------------------------------
#
# json_format.MessageToDict is generic: for every field of every message it
# checks again for maps, extensions and the field's type, and it finds each
# float's shortest form through a slow helper. On a face workflow's answer
# that took 0.3 ms per camera, most of what a scan costs. The functions below
# give the same dict, deciding once per field how its values are written;
# whatever is unusual (maps, extensions, enums with JSON options, Google's
# well-known types) is still written by json_format itself.

type _Converter = Callable[[Any], Any]
# How to write one field: its JSON name, its converter (None when the value
# is written as it is), and whether it is repeated.
type _FieldPlan = tuple[str, _Converter | None, bool]
type _MessagePlan = dict[descriptor.FieldDescriptor, _FieldPlan]

_Field = descriptor.FieldDescriptor
_FLOAT32 = struct.Struct("<f")
_NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}


def _message_to_json(message: Message, plan: _MessagePlan | None = None) -> Any:
    """Return a message as json_format.MessageToDict would."""
    if plan is None and (plan := _message_plan(message.DESCRIPTOR)) is None:
        return json_format.MessageToDict(message)
    js: dict[str, Any] = {}
    for field, value in message.ListFields():
        if (field_plan := plan.get(field)) is None:  # an extension
            return json_format.MessageToDict(message)
        name, convert, repeated = field_plan
        if convert is None:
            js[name] = list(value) if repeated else value
        elif repeated:
            js[name] = [convert(item) for item in value]
        else:
            js[name] = convert(value)
    return js


@cache
def _workflow_result_plan() -> _MessagePlan:
    plan = _message_plan(resources_pb2.WorkflowResult.DESCRIPTOR)
    if plan is None:  # pragma: no cover -- WorkflowResult has no map field
        raise TypeError("WorkflowResult needs json_format")
    input_field = resources_pb2.WorkflowResult.DESCRIPTOR.fields_by_name["input"]
    return {**plan, input_field: (input_field.json_name, _input_id, False)}


def _input_id(echoed: resources_pb2.Input) -> dict[str, str]:
    return {"id": echoed.id}


@cache
def _message_plan(message_type: descriptor.Descriptor) -> _MessagePlan | None:
    """Return how to write each field of a type, or None to leave it to json_format."""
    if message_type.file.package == "google.protobuf":
        return None
    plan: _MessagePlan = {}
    for field in message_type.fields:
        convert: _Converter | None
        if (submessage_type := field.message_type) is not None:
            if submessage_type.GetOptions().map_entry:
                return None
            convert = _message_to_json
        elif (enum_type := field.enum_type) is not None:
            if (convert := _enum_converter(enum_type)) is None:
                return None
        elif field.type == _Field.TYPE_BYTES:
            convert = _bytes_to_json
        elif field.cpp_type in (_Field.CPPTYPE_INT64, _Field.CPPTYPE_UINT64):
            convert = str
        elif field.cpp_type == _Field.CPPTYPE_FLOAT:
            convert = _float_to_json
        elif field.cpp_type == _Field.CPPTYPE_DOUBLE:
            convert = _double_to_json
        else:  # strings, booleans and 32-bit integers are written as they are
            convert = None
        plan[field] = (field.json_name, convert, field.is_repeated)
    return plan


def _enum_converter(enum_type: descriptor.EnumDescriptor) -> _Converter | None:
    # Closed enums, and JSON names given in an option (an extension, unlike
    # `deprecated` that Clarifai's status codes carry), are json_format's.
    if enum_type.is_closed or any(
        option.is_extension
        for value in enum_type.values
        for option, _ in value.GetOptions().ListFields()
    ):
        return None
    # Where names share a number (aliases), json_format writes the name that
    # values_by_number[number] gives; iterating that mapping gives another.
    by_number = enum_type.values_by_number
    names = {value.number: by_number[value.number].name for value in enum_type.values}
    # An open enum writes a number it does not know as the number.
    return lambda number: names.get(number, number)


def _bytes_to_json(value: bytes) -> str:
    return base64.b64encode(value).decode("utf-8")


def _double_to_json(value: float) -> float | str:
    if math.isfinite(value):
        return value
    return _NON_FINITE.get(value, "NaN")


def _float_to_json(value: float) -> float | str:
    """Return the shortest decimal that is the same single-precision float."""
    if not math.isfinite(value):
        return _NON_FINITE.get(value, "NaN")
    # As protobuf's ToShortestFloat: 6 significant digits, then more until
    # the number packs to the same 4 bytes (9 always do).
    pack, unpack = _FLOAT32.pack, _FLOAT32.unpack
    precision = 6
    rounded = float(f"{value:.6g}")
    while unpack(pack(rounded))[0] != value:
        precision += 1
        rounded = float(f"{value:.{precision}g}")
    return rounded
