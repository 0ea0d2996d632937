"""Tests of the local Clarifai emulator, spoken to with the real clarifai-grpc client."""

import asyncio
from collections.abc import AsyncGenerator, Iterator
from pathlib import Path
import re
import signal
import sys

from clarifai_grpc.channel.clarifai_channel import ClarifaiChannel
from clarifai_grpc.grpc.api import resources_pb2, service_pb2, service_pb2_grpc
from clarifai_grpc.grpc.api.status import status_code_pb2
from google.protobuf import json_format
import grpc
import pytest

from clarifai_emulator import (
    DEFAULT_ACCESS_TOKEN,
    MAX_IMAGE_BYTES,
    ClarifaiEmulator,
    EmulatedApp,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
IMAGE = b"\xff\xd8\xff\xe0 a small jpeg"
TIMEOUT = 5


@pytest.fixture
async def stub(emulator: ClarifaiEmulator) -> AsyncGenerator[service_pb2_grpc.V2Stub]:
    """Connect the official client to the emulator."""
    channel = ClarifaiChannel.get_aio_insecure_grpc_channel(
        emulator.host, emulator.port
    )
    yield service_pb2_grpc.V2Stub(channel)
    await channel.close()


def auth(token: str = DEFAULT_ACCESS_TOKEN) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Key {token}"),)


def ids(
    user_id: str = "emulator-user", app_id: str = "home"
) -> resources_pb2.UserAppIDSet:
    return resources_pb2.UserAppIDSet(user_id=user_id, app_id=app_id)


def image_input(image: bytes = IMAGE, input_id: str = "") -> resources_pb2.Input:
    return resources_pb2.Input(
        id=input_id, data=resources_pb2.Data(image=resources_pb2.Image(base64=image))
    )


async def predict(
    stub: service_pb2_grpc.V2Stub,
    workflow_id: str,
    *inputs: resources_pb2.Input,
    user_app_id: resources_pb2.UserAppIDSet | None = None,
    token: str = DEFAULT_ACCESS_TOKEN,
) -> service_pb2.PostWorkflowResultsResponse:
    request = service_pb2.PostWorkflowResultsRequest(
        user_app_id=user_app_id or ids(),
        workflow_id=workflow_id,
        inputs=inputs or [image_input()],
    )
    return await stub.PostWorkflowResults(
        request, metadata=auth(token), timeout=TIMEOUT
    )


async def get_me(
    stub: service_pb2_grpc.V2Stub, **call: object
) -> service_pb2.SingleUserResponse:
    request = service_pb2.GetUserRequest(user_app_id=ids("me", ""))
    call.setdefault("metadata", auth())
    call.setdefault("timeout", TIMEOUT)
    return await stub.GetUser(request, **call)


def walk_regions(
    regions: Iterator[resources_pb2.Region],
) -> Iterator[resources_pb2.Region]:
    for region in regions:
        yield region
        yield from walk_regions(iter(region.data.regions))


def concept_values(output: resources_pb2.Output, name: str) -> list[float]:
    return [
        concept.value
        for region in walk_regions(iter(output.data.regions))
        for concept in region.data.concepts
        if concept.name == name
    ]


# --- Authentication and users ------------------------------------------------


async def test_get_user_me_returns_token_owner(
    stub: service_pb2_grpc.V2Stub,
) -> None:
    response = await get_me(stub)

    assert response.status.code == status_code_pb2.SUCCESS
    assert response.user.id == "emulator-user"
    assert response.user.first_name
    assert response.user.primary_email == "emulator-user@example.invalid"
    assert [address.email for address in response.user.email_addresses] == [
        response.user.primary_email
    ]


async def test_get_user_by_owner_id(stub: service_pb2_grpc.V2Stub) -> None:
    request = service_pb2.GetUserRequest(user_app_id=ids("emulator-user", ""))

    response = await stub.GetUser(request, metadata=auth(), timeout=TIMEOUT)

    assert response.status.code == status_code_pb2.SUCCESS
    assert response.user.id == "emulator-user"


async def test_get_other_user_does_not_exist(stub: service_pb2_grpc.V2Stub) -> None:
    request = service_pb2.GetUserRequest(user_app_id=ids("someone-else", ""))

    response = await stub.GetUser(request, metadata=auth(), timeout=TIMEOUT)

    assert response.status.code == status_code_pb2.CONN_DOES_NOT_EXIST
    assert not response.HasField("user")


async def test_unknown_token_is_not_found(stub: service_pb2_grpc.V2Stub) -> None:
    response = await get_me(stub, metadata=auth("not-the-token"))

    assert response.status.code == status_code_pb2.CONN_KEY_NOT_FOUND
    assert response.status.description == "API key not found"
    assert "not-the-token" not in str(response)
    assert not response.HasField("user")


@pytest.mark.parametrize(
    "metadata",
    [(), (("authorization", "Key "),), (("authorization", "Bearer abc"),)],
    ids=["missing", "empty", "wrong-scheme"],
)
async def test_missing_or_malformed_token_is_invalid_request(
    stub: service_pb2_grpc.V2Stub, metadata: tuple[tuple[str, str], ...]
) -> None:
    response = await get_me(stub, metadata=metadata)

    assert response.status.code == status_code_pb2.CONN_INVALID_REQUEST
    assert "authorization header" in response.status.details
    assert not response.HasField("user")


async def test_token_without_predict_scope_cannot_run_workflows() -> None:
    scopes = ["Apps:Get", "Models:Get", "Concepts:Get", "Workflows:Get"]
    async with ClarifaiEmulator(scopes=scopes) as emulator:
        channel = ClarifaiChannel.get_aio_insecure_grpc_channel(
            emulator.host, emulator.port
        )
        stub = service_pb2_grpc.V2Stub(channel)

        predicted = await predict(stub, "Face")
        fetched = await stub.GetWorkflow(
            service_pb2.GetWorkflowRequest(user_app_id=ids(), workflow_id="Face"),
            metadata=auth(),
            timeout=TIMEOUT,
        )
        await channel.close()

    assert predicted.status.code == status_code_pb2.CONN_INSUFFICIENT_SCOPES
    assert "Predict" in predicted.status.description
    assert not predicted.results
    assert fetched.status.code == status_code_pb2.SUCCESS


async def test_my_scopes_lists_the_token_scopes(
    emulator: ClarifaiEmulator, stub: service_pb2_grpc.V2Stub
) -> None:
    response = await stub.MyScopes(
        service_pb2.MyScopesRequest(), metadata=auth(), timeout=TIMEOUT
    )

    assert response.status.code == status_code_pb2.SUCCESS
    assert {"Predict", "Workflows:Get", "Apps:Get"} <= set(response.scopes)
    assert list(response.scopes) == emulator.scopes


async def test_unimplemented_rpc_answers_like_the_base_servicer(
    stub: service_pb2_grpc.V2Stub,
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.PostModelOutputs(
            service_pb2.PostModelOutputsRequest(), metadata=auth(), timeout=TIMEOUT
        )

    assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED


# --- Apps and workflows ------------------------------------------------------


@pytest.mark.parametrize(
    ("user_id", "expected_apps"),
    [
        ("me", ["home"]),
        ("", ["home"]),
        ("emulator-user", ["home"]),
        ("clarifai", ["main"]),
    ],
)
async def test_list_apps(
    stub: service_pb2_grpc.V2Stub, user_id: str, expected_apps: list[str]
) -> None:
    request = service_pb2.ListAppsRequest(user_app_id=ids(user_id, ""))

    response = await stub.ListApps(request, metadata=auth(), timeout=TIMEOUT)

    assert response.status.code == status_code_pb2.SUCCESS
    assert [app.id for app in response.apps] == expected_apps


async def test_list_apps_of_unknown_user(stub: service_pb2_grpc.V2Stub) -> None:
    request = service_pb2.ListAppsRequest(user_app_id=ids("nobody", ""))

    response = await stub.ListApps(request, metadata=auth(), timeout=TIMEOUT)

    assert response.status.code == status_code_pb2.CONN_DOES_NOT_EXIST
    assert not response.apps


@pytest.mark.parametrize(
    ("user_id", "app_id", "expected_workflows"),
    [
        ("emulator-user", "home", ["Face", "General", "Partial"]),
        ("clarifai", "main", ["General"]),
    ],
)
async def test_list_workflows(
    stub: service_pb2_grpc.V2Stub,
    user_id: str,
    app_id: str,
    expected_workflows: list[str],
) -> None:
    request = service_pb2.ListWorkflowsRequest(user_app_id=ids(user_id, app_id))

    response = await stub.ListWorkflows(request, metadata=auth(), timeout=TIMEOUT)

    assert response.status.code == status_code_pb2.SUCCESS
    assert [workflow.id for workflow in response.workflows] == expected_workflows
    assert {workflow.user_id for workflow in response.workflows} == {user_id}


async def test_get_workflow_lists_its_model_nodes(
    stub: service_pb2_grpc.V2Stub,
) -> None:
    request = service_pb2.GetWorkflowRequest(user_app_id=ids(), workflow_id="Face")

    response = await stub.GetWorkflow(request, metadata=auth(), timeout=TIMEOUT)

    assert response.status.code == status_code_pb2.SUCCESS
    assert response.workflow.id == "Face"
    assert [node.model.id for node in response.workflow.nodes] == [
        "face-detection",
        "face-recognition",
    ]


@pytest.mark.parametrize("rpc", ["GetWorkflow", "PostWorkflowResults"])
@pytest.mark.parametrize(
    ("owner", "workflow_id", "expected_code"),
    [
        (("nobody", "home"), "Face", status_code_pb2.CONN_DOES_NOT_EXIST),
        (("emulator-user", "garage"), "Face", status_code_pb2.CONN_DOES_NOT_EXIST),
        (("emulator-user", "home"), "Cats", status_code_pb2.WORKFLOW_DOES_NOT_EXIST),
        (("clarifai", "main"), "Face", status_code_pb2.WORKFLOW_DOES_NOT_EXIST),
        (("me", "home"), "Face", status_code_pb2.CONN_INVALID_REQUEST),
        (("", ""), "Face", status_code_pb2.CONN_INVALID_REQUEST),
    ],
    ids=[
        "unknown-user",
        "unknown-app",
        "unknown-workflow",
        "private-workflow-in-public-app",
        "me-with-pat",
        "no-owner",
    ],
)
async def test_ids_are_checked(
    stub: service_pb2_grpc.V2Stub,
    rpc: str,
    owner: tuple[str, str],
    workflow_id: str,
    expected_code: int,
) -> None:
    if rpc == "GetWorkflow":
        response: service_pb2.SingleWorkflowResponse | (
            service_pb2.PostWorkflowResultsResponse
        ) = await stub.GetWorkflow(
            service_pb2.GetWorkflowRequest(
                user_app_id=ids(*owner), workflow_id=workflow_id
            ),
            metadata=auth(),
            timeout=TIMEOUT,
        )
    else:
        response = await predict(stub, workflow_id, user_app_id=ids(*owner))

    assert response.status.code == expected_code
    assert response.status.details
    assert not response.HasField("workflow")


async def test_public_workflow_runs_with_the_owners_token(
    stub: service_pb2_grpc.V2Stub,
) -> None:
    response = await predict(stub, "General", user_app_id=ids("clarifai", "main"))

    assert response.status.code == status_code_pb2.SUCCESS
    assert response.workflow.user_id == "clarifai"
    assert response.results[0].outputs[0].data.concepts


# --- Workflow fixtures -------------------------------------------------------


async def test_face_workflow_detects_and_recognises_faces(
    stub: service_pb2_grpc.V2Stub,
) -> None:
    response = await predict(stub, "Face")

    assert response.status.code == status_code_pb2.SUCCESS
    detection, recognition = response.results[0].outputs
    assert detection.model.id == "face-detection"
    assert len(detection.data.regions) == 3
    assert {
        concept.name
        for region in detection.data.regions
        for concept in region.data.concepts
    } == {"face"}
    for region in walk_regions(iter(recognition.data.regions)):
        box = region.region_info.bounding_box
        assert 0 <= box.top_row < box.bottom_row <= 1
        assert 0 <= box.left_col < box.right_col <= 1
    assert sorted(concept_values(recognition, "Test")) == pytest.approx([0.41, 0.97])
    assert concept_values(recognition, "3D-P27") == [0, 0]
    assert concept_values(recognition, "3D-P30") == [0, 0]
    nested = recognition.data.regions[2].data.regions[0]
    assert {concept.name for concept in nested.data.concepts} == {"3D-P30", "Carol"}


async def test_general_workflow_has_image_level_concepts_only(
    stub: service_pb2_grpc.V2Stub,
) -> None:
    response = await predict(stub, "General")

    assert response.status.code == status_code_pb2.SUCCESS
    (output,) = response.results[0].outputs
    names = [concept.name for concept in output.data.concepts]
    assert 10 <= len(names) <= 20
    assert {"people", "car", "dog"} <= set(names)
    assert "Test" not in names
    assert not output.data.regions
    assert all(0 < concept.value <= 1 for concept in output.data.concepts)


async def test_partial_workflow_is_mixed_status(stub: service_pb2_grpc.V2Stub) -> None:
    response = await predict(stub, "Partial")

    assert response.status.code == status_code_pb2.MIXED_STATUS
    succeeded, failed = response.results[0].outputs
    assert succeeded.status.code == status_code_pb2.SUCCESS
    assert succeeded.data.concepts
    assert failed.status.code == status_code_pb2.MODEL_PREDICTION_FAILED
    assert failed.status.description
    assert not failed.data.concepts


async def test_workflow_result_can_be_tailored(
    emulator: ClarifaiEmulator, stub: service_pb2_grpc.V2Stub
) -> None:
    emulator.set_workflow_result(
        "Face",
        {
            "outputs": [
                {
                    "model": {"id": "face-recognition"},
                    "data": {
                        "concepts": [{"id": "test", "name": "Test", "value": 0.5}]
                    },
                }
            ]
        },
    )

    response = await predict(stub, "Face")

    assert response.status.code == status_code_pb2.SUCCESS
    (output,) = response.results[0].outputs
    assert output.status.code == status_code_pb2.SUCCESS
    assert json_format.MessageToDict(output.data)["concepts"] == [
        {"id": "test", "name": "Test", "value": 0.5}
    ]


async def test_workflow_result_accepts_messages(
    emulator: ClarifaiEmulator, stub: service_pb2_grpc.V2Stub
) -> None:
    output = resources_pb2.Output(
        data=resources_pb2.Data(concepts=[resources_pb2.Concept(name="cat", value=0.7)])
    )
    emulator.set_workflow_result("General", [output])

    response = await predict(stub, "General")

    assert [c.name for c in response.results[0].outputs[0].data.concepts] == ["cat"]


def test_workflow_without_fixture_needs_outputs() -> None:
    app = EmulatedApp(user_id="u", app_id="a", workflow_ids=("Doorbell",))

    with pytest.raises(ValueError, match="Doorbell"):
        ClarifaiEmulator(user_id="u", apps=[app])

    emulator = ClarifaiEmulator(
        user_id="u", apps=[app], workflow_results={"Doorbell": {"outputs": []}}
    )
    assert emulator.workflow_outputs("Doorbell") == []


# --- Inputs ------------------------------------------------------------------


async def test_one_result_per_input_echoed_without_bytes(
    stub: service_pb2_grpc.V2Stub,
) -> None:
    response = await predict(
        stub, "General", image_input(input_id="front-door"), image_input()
    )

    assert response.status.code == status_code_pb2.SUCCESS
    assert len(response.results) == 2
    first, second = response.results
    assert first.input.id == "front-door"
    assert second.input.id
    assert second.input.id != first.input.id
    for result in response.results:
        assert result.status.code == status_code_pb2.SUCCESS
        assert result.input.data.image.base64 == b""


async def test_input_without_image_bytes_fails(stub: service_pb2_grpc.V2Stub) -> None:
    response = await predict(stub, "Face", image_input(b""))

    assert response.status.code == status_code_pb2.FAILURE
    (result,) = response.results
    assert result.status.code == status_code_pb2.INPUT_INVALID_ARGUMENT
    assert "no image bytes" in result.status.description
    assert not result.outputs


async def test_oversized_image_fails_alone(stub: service_pb2_grpc.V2Stub) -> None:
    # "Under 20 MB": an image of exactly the limit is refused too.
    oversized = image_input(b"\0" * MAX_IMAGE_BYTES)

    response = await predict(stub, "General", oversized, image_input())

    assert response.status.code == status_code_pb2.MIXED_STATUS
    too_big, fine = response.results
    assert too_big.status.code == status_code_pb2.INPUT_OVER_LIMIT
    assert "20 MB" in too_big.status.description
    assert str(MAX_IMAGE_BYTES) in too_big.status.details
    assert not too_big.outputs
    assert fine.status.code == status_code_pb2.SUCCESS
    assert fine.outputs


async def test_requests_are_recorded(
    emulator: ClarifaiEmulator, stub: service_pb2_grpc.V2Stub
) -> None:
    await get_me(stub)
    await predict(stub, "Face", image_input(input_id="porch"))

    assert [request.rpc for request in emulator.requests] == [
        "GetUser",
        "PostWorkflowResults",
    ]
    (recorded,) = emulator.requests_for("PostWorkflowResults")
    assert recorded.token == DEFAULT_ACCESS_TOKEN
    assert isinstance(recorded.message, service_pb2.PostWorkflowResultsRequest)
    assert recorded.message.workflow_id == "Face"
    assert recorded.message.user_app_id == ids()
    assert recorded.message.inputs[0].id == "porch"
    assert recorded.message.inputs[0].data.image.base64 == IMAGE
    assert recorded.received_at >= emulator.requests[0].received_at


# --- Fault injection ---------------------------------------------------------


@pytest.mark.parametrize(
    "status_code",
    [
        status_code_pb2.CONN_TOKEN_INVALID,
        status_code_pb2.CONN_EXCEED_HOURLY_LIMIT,
        status_code_pb2.CONN_EXCEED_MONTHLY_LIMIT,
        status_code_pb2.CONN_THROTTLED,
        status_code_pb2.CONN_INSUFFICIENT_SCOPES,
        status_code_pb2.CONN_KEY_INVALID,
        status_code_pb2.CONN_KEY_NOT_FOUND,
        status_code_pb2.CONN_DOES_NOT_EXIST,
        status_code_pb2.WORKFLOW_DOES_NOT_EXIST,
        status_code_pb2.MODEL_PREDICTION_FAILED,
        status_code_pb2.INTERNAL_SERVER_ISSUE,
    ],
)
async def test_failure_is_injectable(
    emulator: ClarifaiEmulator, stub: service_pb2_grpc.V2Stub, status_code: int
) -> None:
    emulator.fail_next(status_code)

    failed = await predict(stub, "Face")
    recovered = await predict(stub, "Face")

    assert failed.status.code == status_code
    assert failed.status.description
    assert not failed.results
    assert recovered.status.code == status_code_pb2.SUCCESS


async def test_injected_failures_run_out(
    emulator: ClarifaiEmulator, stub: service_pb2_grpc.V2Stub
) -> None:
    emulator.fail_next(status_code_pb2.CONN_THROTTLED, count=2, description="Slow down")

    codes = [(await predict(stub, "General")).status for _ in range(3)]

    assert [status.code for status in codes] == [
        status_code_pb2.CONN_THROTTLED,
        status_code_pb2.CONN_THROTTLED,
        status_code_pb2.SUCCESS,
    ]
    assert codes[0].description == "Slow down"


async def test_injected_failure_waits_for_its_rpc(
    emulator: ClarifaiEmulator, stub: service_pb2_grpc.V2Stub
) -> None:
    emulator.fail_next(status_code_pb2.INTERNAL_SERVER_ISSUE, rpc="PostWorkflowResults")

    user = await get_me(stub)
    predicted = await predict(stub, "Face")

    assert user.status.code == status_code_pb2.SUCCESS
    assert predicted.status.code == status_code_pb2.INTERNAL_SERVER_ISSUE


def test_fail_next_rejects_unknown_codes() -> None:
    emulator = ClarifaiEmulator()

    with pytest.raises(ValueError, match="12345"):
        emulator.fail_next(12345)
    with pytest.raises(ValueError, match="count"):
        emulator.fail_next(status_code_pb2.CONN_THROTTLED, count=0)


async def test_latency_delays_every_call(
    emulator: ClarifaiEmulator, stub: service_pb2_grpc.V2Stub
) -> None:
    emulator.latency = 0.5

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await get_me(stub, timeout=0.1)
    answered = await get_me(stub, timeout=TIMEOUT)

    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert answered.status.code == status_code_pb2.SUCCESS


async def test_dropped_connection_recovers_on_the_same_port(
    emulator: ClarifaiEmulator, stub: service_pb2_grpc.V2Stub
) -> None:
    port = emulator.port
    assert (await get_me(stub)).status.code == status_code_pb2.SUCCESS

    await emulator.stop()
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await get_me(stub)
    await emulator.start()
    # The channel reconnects after its backoff; wait for it instead of polling.
    recovered = await get_me(stub, wait_for_ready=True)

    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    assert emulator.port == port
    assert emulator.endpoint == f"http://127.0.0.1:{port}"
    assert recovered.status.code == status_code_pb2.SUCCESS


# --- Command line ------------------------------------------------------------


async def test_command_line_serves_until_terminated() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "clarifai_emulator",
        "--port",
        "0",
        "--token",
        "cli-token",
        "--user-id",
        "cli-user",
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        async with asyncio.timeout(10):
            banner = (await process.stdout.readline()).decode()
            details = [(await process.stdout.readline()).decode() for _ in range(4)]
        match = re.search(r"http://127\.0\.0\.1:(\d+)", banner)
        assert match is not None, banner

        channel = ClarifaiChannel.get_aio_insecure_grpc_channel(
            "127.0.0.1", int(match.group(1))
        )
        response = await get_me(
            service_pb2_grpc.V2Stub(channel), metadata=auth("cli-token")
        )
        await channel.close()
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(10):
            remaining = (await process.stdout.read()).decode()
            await process.wait()

    assert response.status.code == status_code_pb2.SUCCESS
    assert response.user.id == "cli-user"
    assert "cli-token" in details[0]
    assert "cli-user" in details[1]
    assert any("home: Face, General, Partial" in line for line in details)
    assert "stopped" in remaining
    assert process.returncode == 0
