"""Clarifai's V2 gRPC service, answered from the emulator's world and fixtures."""

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol
import uuid

from clarifai_grpc.grpc.api import resources_pb2, service_pb2, service_pb2_grpc
from clarifai_grpc.grpc.api.status import status_code_pb2, status_pb2
from google.protobuf import message, timestamp_pb2
import grpc

from .world import MAX_IMAGE_BYTES, EmulatedApp, required_scopes

if TYPE_CHECKING:
    from .emulator import ClarifaiEmulator

type Context = grpc.aio.ServicerContext[Any, Any]
type Metadata = tuple[tuple[str, str | bytes], ...]

# The user id Clarifai reads as "the owner of the token".
ME = "me"

# Descriptions Clarifai sends with these codes (docs' status code table), so an
# injected failure reads like the real one.
DESCRIPTIONS: dict[int, str] = {
    status_code_pb2.SUCCESS: "Ok",
    status_code_pb2.MIXED_STATUS: "Mixed Success",
    status_code_pb2.FAILURE: "Failure",
    status_code_pb2.TRY_AGAIN: "Try the request again",
    status_code_pb2.CONN_ACCOUNT_ISSUES: "Account or plan issue",
    status_code_pb2.CONN_TOKEN_INVALID: "Invalid authentication token used",
    status_code_pb2.CONN_CREDENTIALS_INVALID: "Invalid authentication credentials",
    status_code_pb2.CONN_EXCEED_HOURLY_LIMIT: "Hourly request limit exceeded",
    status_code_pb2.CONN_EXCEED_MONTHLY_LIMIT: "Monthly request limit exceeded",
    status_code_pb2.CONN_THROTTLED: "Making too many requests",
    status_code_pb2.CONN_EXCEEDS_LIMITS: "Account limits exceeded",
    status_code_pb2.CONN_INSUFFICIENT_SCOPES: "API key has insufficient scopes",
    status_code_pb2.CONN_KEY_INVALID: (
        "Invalid API key or Invalid API key/application pair"
    ),
    status_code_pb2.CONN_KEY_NOT_FOUND: "API key not found",
    status_code_pb2.CONN_DOES_NOT_EXIST: "Resource does not exist",
    status_code_pb2.CONN_INVALID_REQUEST: "Invalid request",
    status_code_pb2.MODEL_PREDICTION_FAILED: "Model prediction failed",
    status_code_pb2.WORKFLOW_DOES_NOT_EXIST: "Workflow does not exist",
    status_code_pb2.INPUT_INVALID_ARGUMENT: "Input invalid argument",
    status_code_pb2.INPUT_OVER_LIMIT: "Input image is larger than the allowed limit",
    status_code_pb2.INTERNAL_SERVER_ISSUE: "Internal server issue",
}


def describe(code: int) -> str:
    """Return the description Clarifai gives for a status code."""
    if code in DESCRIPTIONS:
        return DESCRIPTIONS[code]
    name = status_code_pb2.StatusCode.Name(status_code_pb2.StatusCode.ValueType(code))
    return name.replace("_", " ").capitalize()


class ClarifaiStatusError(Exception):
    """A request answered with a non-success Clarifai status."""

    def __init__(
        self, code: int, description: str | None = None, details: str = ""
    ) -> None:
        """Build the status Clarifai would send."""
        super().__init__(description or describe(code))
        self.status = status_pb2.Status(
            code=status_code_pb2.StatusCode.ValueType(code),
            description=description or describe(code),
            details=details,
        )


class _StatusResponse(Protocol):
    @property
    def status(self) -> status_pb2.Status: ...


class EmulatedV2Servicer(service_pb2_grpc.V2Servicer):
    """Answer the V2 RPCs the integration uses the way Clarifai does."""

    def __init__(self, emulator: ClarifaiEmulator) -> None:
        """Serve from the emulator's world, fixtures and fault settings."""
        self._emulator = emulator

    async def GetUser(  # noqa: N802
        self, request: service_pb2.GetUserRequest, context: Context
    ) -> service_pb2.SingleUserResponse:
        """Return the token owner's user (`me` or the owner's id)."""
        return await self._serve(
            "GetUser", request, context, service_pb2.SingleUserResponse, self._get_user
        )

    async def ListApps(  # noqa: N802
        self, request: service_pb2.ListAppsRequest, context: Context
    ) -> service_pb2.MultiAppResponse:
        """List the apps of a user (the owner when none or `me` is named)."""
        return await self._serve(
            "ListApps", request, context, service_pb2.MultiAppResponse, self._list_apps
        )

    async def ListWorkflows(  # noqa: N802
        self, request: service_pb2.ListWorkflowsRequest, context: Context
    ) -> service_pb2.MultiWorkflowResponse:
        """List the workflows of one app."""
        return await self._serve(
            "ListWorkflows",
            request,
            context,
            service_pb2.MultiWorkflowResponse,
            self._list_workflows,
        )

    async def GetWorkflow(  # noqa: N802
        self, request: service_pb2.GetWorkflowRequest, context: Context
    ) -> service_pb2.SingleWorkflowResponse:
        """Return one workflow of an app."""
        return await self._serve(
            "GetWorkflow",
            request,
            context,
            service_pb2.SingleWorkflowResponse,
            self._get_workflow,
        )

    async def PostWorkflowResults(  # noqa: N802
        self, request: service_pb2.PostWorkflowResultsRequest, context: Context
    ) -> service_pb2.PostWorkflowResultsResponse:
        """Run a workflow on each input image and answer from its fixture."""
        return await self._serve(
            "PostWorkflowResults",
            request,
            context,
            service_pb2.PostWorkflowResultsResponse,
            self._post_workflow_results,
        )

    async def MyScopes(  # noqa: N802
        self, request: service_pb2.MyScopesRequest, context: Context
    ) -> service_pb2.MultiScopeResponse:
        """Return the scopes of the token."""
        return await self._serve(
            "MyScopes",
            request,
            context,
            service_pb2.MultiScopeResponse,
            self._my_scopes,
        )

    async def _serve[Request: message.Message, Response: _StatusResponse](
        self,
        rpc: str,
        request: Request,
        context: Context,
        response_type: type[Response],
        handler: Callable[[Request], Response],
    ) -> Response:
        """Record, delay, authenticate and answer one call."""
        metadata: Metadata = tuple(context.invocation_metadata() or ())
        self._emulator.record(rpc, request, metadata)

        if self._emulator.latency > 0:
            await asyncio.sleep(self._emulator.latency)

        try:
            if (injected := self._emulator.take_injected_failure(rpc)) is not None:
                raise injected
            self._authenticate(rpc, metadata)
            response = handler(request)
        except ClarifaiStatusError as err:
            response = response_type()
            response.status.CopyFrom(err.status)

        response.status.req_id = uuid.uuid4().hex
        return response

    def _authenticate(self, rpc: str, metadata: Metadata) -> None:
        """Check the Personal Access Token and its scopes against the RPC."""
        headers = [value for key, value in metadata if key == "authorization"]
        header = headers[0] if len(headers) == 1 else None
        if (
            not isinstance(header, str)
            or not header.startswith("Key ")
            or not header.removeprefix("Key ").strip()
        ):
            raise ClarifaiStatusError(
                status_code_pb2.CONN_INVALID_REQUEST,
                details=(
                    "Empty or malformed authorization header. "
                    "Please provide an API key or session token."
                ),
            )

        if header.removeprefix("Key ").strip() != self._emulator.access_token:
            raise ClarifaiStatusError(
                status_code_pb2.CONN_KEY_NOT_FOUND, details="invalid key"
            )

        granted = set(self._emulator.scopes)
        if "All" in granted:
            return
        missing = [scope for scope in required_scopes(rpc) if scope not in granted]
        if missing:
            raise ClarifaiStatusError(
                status_code_pb2.CONN_INSUFFICIENT_SCOPES,
                f"API key has insufficient scopes: missing {', '.join(missing)}",
                f"{rpc} needs the scopes {', '.join(required_scopes(rpc))}",
            )

    def _owner_user_id(self, user_id: str) -> str:
        """Resolve `me` and an empty id to the token's owner."""
        return self._emulator.user_id if user_id in ("", ME) else user_id

    def _find_app(self, user_app_id: resources_pb2.UserAppIDSet) -> EmulatedApp:
        """Return the app a request names, as Clarifai checks it for a PAT."""
        if user_app_id.user_id in ("", ME) or not user_app_id.app_id:
            # A PAT is not tied to an app, so Clarifai cannot guess the owner.
            raise ClarifaiStatusError(
                status_code_pb2.CONN_INVALID_REQUEST,
                details=(
                    "A Personal Access Token needs user_app_id to name the owner's "
                    "user_id and the app_id."
                ),
            )

        for app in self._emulator.apps:
            if (app.user_id, app.app_id) == (user_app_id.user_id, user_app_id.app_id):
                return app
        raise ClarifaiStatusError(
            status_code_pb2.CONN_DOES_NOT_EXIST,
            details=(
                f"App '{user_app_id.app_id}' of user '{user_app_id.user_id}' "
                "does not exist."
            ),
        )

    def _find_workflow(
        self, user_app_id: resources_pb2.UserAppIDSet, workflow_id: str
    ) -> resources_pb2.Workflow:
        """Return a workflow of the named app."""
        app = self._find_app(user_app_id)
        if workflow_id not in app.workflow_ids:
            raise ClarifaiStatusError(
                status_code_pb2.WORKFLOW_DOES_NOT_EXIST,
                details=(
                    f"Workflow '{workflow_id}' does not exist in app "
                    f"'{app.app_id}' of user '{app.user_id}'."
                ),
            )
        return self._workflow_message(app, workflow_id)

    def _workflow_message(
        self, app: EmulatedApp, workflow_id: str
    ) -> resources_pb2.Workflow:
        """Describe a workflow, with one node per model of its fixture."""
        public = app.user_id != self._emulator.user_id
        workflow = resources_pb2.Workflow(
            id=workflow_id,
            app_id=app.app_id,
            user_id=app.user_id,
            visibility=resources_pb2.Visibility(
                gettable=(
                    resources_pb2.Visibility.PUBLIC
                    if public
                    else resources_pb2.Visibility.PRIVATE
                )
            ),
        )
        for output in self._emulator.workflow_outputs(workflow_id):
            workflow.nodes.add(id=output.model.id, model=output.model)
        return workflow

    def _app_message(self, app: EmulatedApp) -> resources_pb2.App:
        """Describe an app."""
        return resources_pb2.App(
            id=app.app_id,
            name=app.name or app.app_id,
            user_id=app.user_id,
            default_workflow_id=app.workflow_ids[0] if app.workflow_ids else "",
        )

    def _get_user(
        self, request: service_pb2.GetUserRequest
    ) -> service_pb2.SingleUserResponse:
        user_id = request.user_app_id.user_id
        if not user_id:
            raise ClarifaiStatusError(
                status_code_pb2.CONN_INVALID_REQUEST,
                details="user_app_id.user_id is required; use 'me' for the owner.",
            )
        if self._owner_user_id(user_id) != self._emulator.user_id:
            # A PAT only reads its own owner's account.
            raise ClarifaiStatusError(
                status_code_pb2.CONN_DOES_NOT_EXIST,
                details=f"User '{user_id}' does not exist.",
            )

        return service_pb2.SingleUserResponse(
            status=_success(), user=self._emulator.user_message()
        )

    def _list_apps(
        self, request: service_pb2.ListAppsRequest
    ) -> service_pb2.MultiAppResponse:
        user_id = self._owner_user_id(request.user_app_id.user_id)
        apps = [app for app in self._emulator.apps if app.user_id == user_id]
        if not apps and user_id != self._emulator.user_id:
            raise ClarifaiStatusError(
                status_code_pb2.CONN_DOES_NOT_EXIST,
                details=f"User '{user_id}' does not exist.",
            )

        page = _page(apps, request.page, request.per_page)
        return service_pb2.MultiAppResponse(
            status=_success(), apps=[self._app_message(app) for app in page]
        )

    def _list_workflows(
        self, request: service_pb2.ListWorkflowsRequest
    ) -> service_pb2.MultiWorkflowResponse:
        app = self._find_app(request.user_app_id)

        page = _page(list(app.workflow_ids), request.page, request.per_page)
        return service_pb2.MultiWorkflowResponse(
            status=_success(),
            workflows=[self._workflow_message(app, wid) for wid in page],
        )

    def _get_workflow(
        self, request: service_pb2.GetWorkflowRequest
    ) -> service_pb2.SingleWorkflowResponse:
        workflow = self._find_workflow(request.user_app_id, request.workflow_id)
        return service_pb2.SingleWorkflowResponse(status=_success(), workflow=workflow)

    def _my_scopes(
        self, request: service_pb2.MyScopesRequest
    ) -> service_pb2.MultiScopeResponse:
        response = service_pb2.MultiScopeResponse(
            status=_success(), scopes=self._emulator.scopes
        )
        if request.user_app_id.user_id or request.user_app_id.app_id:
            response.app.CopyFrom(
                self._app_message(self._find_app(request.user_app_id))
            )
        return response

    def _post_workflow_results(
        self, request: service_pb2.PostWorkflowResultsRequest
    ) -> service_pb2.PostWorkflowResultsResponse:
        workflow = self._find_workflow(request.user_app_id, request.workflow_id)
        if not request.inputs:
            raise ClarifaiStatusError(
                status_code_pb2.CONN_INVALID_REQUEST,
                details="The request carries no inputs.",
            )

        outputs = self._emulator.workflow_outputs(request.workflow_id)
        results = [_workflow_result(image, outputs) for image in request.inputs]

        return service_pb2.PostWorkflowResultsResponse(
            status=_overall_status(results), workflow=workflow, results=results
        )


def _success() -> status_pb2.Status:
    return status_pb2.Status(code=status_code_pb2.SUCCESS, description="Ok")


def _now() -> timestamp_pb2.Timestamp:
    timestamp = timestamp_pb2.Timestamp()
    timestamp.GetCurrentTime()
    return timestamp


def _page[Item](items: list[Item], page: int, per_page: int) -> list[Item]:
    """Slice a listing the way Clarifai pages it (page 1, 128 per page)."""
    page = max(page, 1)
    per_page = per_page if per_page > 0 else 128
    return items[(page - 1) * per_page : page * per_page]


def _input_failure(image_input: resources_pb2.Input) -> ClarifaiStatusError | None:
    """Return why Clarifai would refuse an input image, or None."""
    size = len(image_input.data.image.base64)
    if size == 0:
        return ClarifaiStatusError(
            status_code_pb2.INPUT_INVALID_ARGUMENT,
            "Input has no image bytes",
            "Send the image itself in data.image.base64.",
        )
    if size >= MAX_IMAGE_BYTES:
        return ClarifaiStatusError(
            status_code_pb2.INPUT_OVER_LIMIT,
            "Image is not under the 20 MB limit",
            f"The image has {size} bytes; it must have fewer than {MAX_IMAGE_BYTES}.",
        )
    return None


def _workflow_result(
    image_input: resources_pb2.Input, outputs: Sequence[resources_pb2.Output]
) -> resources_pb2.WorkflowResult:
    """Answer one input: echo it without its bytes, then the workflow's outputs."""
    echoed = resources_pb2.Input()
    echoed.CopyFrom(image_input)
    echoed.id = image_input.id or uuid.uuid4().hex
    echoed.data.image.ClearField("base64")
    result = resources_pb2.WorkflowResult(
        id=uuid.uuid4().hex, created_at=_now(), input=echoed
    )

    if (failure := _input_failure(image_input)) is not None:
        result.status.CopyFrom(failure.status)
        return result

    result.status.CopyFrom(_success())
    for output in outputs:
        answered = result.outputs.add()
        answered.CopyFrom(output)
        answered.created_at.CopyFrom(result.created_at)
        if answered.status.code == status_code_pb2.ZERO:
            answered.status.CopyFrom(_success())
    return result


def _overall_status(
    results: Sequence[resources_pb2.WorkflowResult],
) -> status_pb2.Status:
    """Sum up per-input and per-output statuses as one response status."""
    failed_inputs = [r for r in results if r.status.code != status_code_pb2.SUCCESS]
    if len(failed_inputs) == len(results):
        return status_pb2.Status(
            code=status_code_pb2.FAILURE,
            description=describe(status_code_pb2.FAILURE),
            details="No input could be processed; see each result's status.",
        )

    failed_outputs = any(
        output.status.code != status_code_pb2.SUCCESS
        for result in results
        for output in result.outputs
    )
    if failed_inputs or failed_outputs:
        return status_pb2.Status(
            code=status_code_pb2.MIXED_STATUS,
            description=describe(status_code_pb2.MIXED_STATUS),
        )
    return _success()
