"""The users, apps, workflows and token scopes the emulator pretends to host."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
import json
from pathlib import Path
from typing import Any

from clarifai_grpc.grpc.api import resources_pb2, service_pb2
from clarifai_grpc.grpc.auth.scope import scope_pb2
from clarifai_grpc.grpc.auth.util import extension_pb2
from google.protobuf import json_format

# Obviously fake, so nobody mistakes it for a real Personal Access Token.
DEFAULT_ACCESS_TOKEN = "emulator-pat-0000000000"  # noqa: S105
DEFAULT_USER_ID = "emulator-user"
DEFAULT_APP_ID = "home"
PUBLIC_USER_ID = "clarifai"
PUBLIC_APP_ID = "main"

# Clarifai's documented upload limit: "images must be under 20 MB". Read as
# decimal megabytes, the stricter reading, and the one the integration uses.
MAX_IMAGE_BYTES = 20 * 1000 * 1000

FIXTURES_DIR = Path(__file__).parent / "fixtures" / "workflows"

type WorkflowOutputs = (
    Mapping[str, Any]
    | Sequence[Mapping[str, Any]]
    | resources_pb2.WorkflowResult
    | Sequence[resources_pb2.Output]
)


@dataclass(frozen=True, kw_only=True, slots=True)
class EmulatedApp:
    """An application of one user, holding workflows by id."""

    user_id: str
    app_id: str
    workflow_ids: tuple[str, ...]
    name: str = ""


def default_apps(user_id: str = DEFAULT_USER_ID) -> tuple[EmulatedApp, ...]:
    """Return the default world: the owner's `home` app and the public `main` app."""
    return (
        EmulatedApp(
            user_id=user_id,
            app_id=DEFAULT_APP_ID,
            workflow_ids=("Face", "General", "Partial"),
            name="Home cameras",
        ),
        EmulatedApp(
            user_id=PUBLIC_USER_ID,
            app_id=PUBLIC_APP_ID,
            workflow_ids=("General",),
            name="Clarifai public models",
        ),
    )


def scope_name(scope: scope_pb2.S.ValueType) -> str:
    """Return the text form Clarifai uses for a scope, e.g. `Workflows:Get`."""
    return scope_pb2.S.Name(scope).replace("_", ":")


def exposed_scopes() -> tuple[str, ...]:
    """Return every scope a Personal Access Token can be granted."""
    return tuple(
        scope_name(scope_pb2.S.Value(value.name))
        for value in scope_pb2.S.DESCRIPTOR.values
        if value.GetOptions().Extensions[scope_pb2.clarfai_exposed]
    )


def required_scopes(rpc: str) -> tuple[str, ...]:
    """Return the scopes an RPC depends on, as declared in Clarifai's own proto."""
    method = service_pb2.DESCRIPTOR.services_by_name["V2"].methods_by_name[rpc]
    scopes = method.GetOptions().Extensions[extension_pb2.cl_depending_scopes]
    return tuple(scope_name(scope) for scope in scopes)


def parse_workflow_outputs(outputs: WorkflowOutputs) -> list[resources_pb2.Output]:
    """Turn a fixture (dict, list of dicts or messages) into Output messages."""
    if isinstance(outputs, resources_pb2.WorkflowResult):
        return list(outputs.outputs)
    if isinstance(outputs, Mapping):
        result = json_format.ParseDict(dict(outputs), resources_pb2.WorkflowResult())
        return list(result.outputs)

    parsed: list[resources_pb2.Output] = []
    for output in outputs:
        if isinstance(output, resources_pb2.Output):
            parsed.append(output)
        else:
            parsed.append(json_format.ParseDict(dict(output), resources_pb2.Output()))
    return parsed


def load_workflow_fixture(workflow_id: str) -> list[resources_pb2.Output] | None:
    """Read the shipped fixture of a workflow, or None when there is none."""
    path = FIXTURES_DIR / f"{workflow_id}.json"
    if not path.is_file():
        return None
    return parse_workflow_outputs(json.loads(path.read_text(encoding="utf-8")))


def workflow_ids(apps: Iterable[EmulatedApp]) -> set[str]:
    """Return the ids of all workflows held by the given apps."""
    return {workflow_id for app in apps for workflow_id in app.workflow_ids}
