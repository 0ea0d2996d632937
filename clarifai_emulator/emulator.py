"""A local Clarifai API: a real gRPC server with fixtures and fault injection."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from clarifai_grpc.grpc.api import resources_pb2, service_pb2_grpc
from clarifai_grpc.grpc.api.status import status_code_pb2
from google.protobuf import message
import grpc

from .servicer import ClarifaiStatusError, EmulatedV2Servicer, Metadata
from .world import (
    DEFAULT_ACCESS_TOKEN,
    DEFAULT_USER_ID,
    EmulatedApp,
    WorkflowOutputs,
    default_apps,
    exposed_scopes,
    load_workflow_fixture,
    parse_workflow_outputs,
    workflow_ids,
)

# Large enough that an image over Clarifai's 20 MB limit reaches the size check
# instead of being cut off by gRPC's 4 MiB default.
MAX_RECEIVE_MESSAGE_LENGTH = 64 * 1024 * 1024


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordedRequest:
    """One call the emulator received, as the client sent it."""

    rpc: str
    message: message.Message
    metadata: Metadata
    received_at: datetime

    @property
    def token(self) -> str | None:
        """Return the Personal Access Token of the `authorization` header."""
        for key, value in self.metadata:
            if key == "authorization" and isinstance(value, str):
                return value.removeprefix("Key ")
        return None


@dataclass(kw_only=True, slots=True)
class InjectedFailure:
    """A status the next `remaining` matching calls answer with."""

    status_code: int
    remaining: int
    description: str | None = None
    rpc: str | None = None


class ClarifaiEmulator:
    """Serve Clarifai's V2 API on a local port, in the current asyncio loop."""

    def __init__(
        self,
        *,
        access_token: str = DEFAULT_ACCESS_TOKEN,
        user_id: str = DEFAULT_USER_ID,
        scopes: Iterable[str] | None = None,
        apps: Iterable[EmulatedApp] | None = None,
        workflow_results: dict[str, WorkflowOutputs] | None = None,
        user_first_name: str = "Emulator",
        user_last_name: str = "User",
        user_email: str | None = None,
        latency: float = 0.0,
    ) -> None:
        """Build the world: the token's owner, their scopes, apps and workflows."""
        self.access_token = access_token
        self.user_id = user_id
        self.scopes: list[str] = list(exposed_scopes() if scopes is None else scopes)
        self.apps: tuple[EmulatedApp, ...] = tuple(
            default_apps(user_id) if apps is None else apps
        )
        self.user_first_name = user_first_name
        self.user_last_name = user_last_name
        self.user_email = user_email or f"{user_id}@example.invalid"
        self.latency = latency
        self.requests: list[RecordedRequest] = []

        self._failures: list[InjectedFailure] = []
        self._server: grpc.aio.Server | None = None
        self._host = "127.0.0.1"
        self._port = 0

        self._workflow_outputs: dict[str, list[resources_pb2.Output]] = {}
        for workflow_id, outputs in (workflow_results or {}).items():
            self.set_workflow_result(workflow_id, outputs)
        for workflow_id in sorted(
            workflow_ids(self.apps) - set(self._workflow_outputs)
        ):
            fixture = load_workflow_fixture(workflow_id)
            if fixture is None:
                raise ValueError(
                    f"No fixture for workflow '{workflow_id}'; "
                    "pass its outputs in workflow_results"
                )
            self._workflow_outputs[workflow_id] = fixture

    @property
    def port(self) -> int:
        """Return the port the server listens on (0 before the first start)."""
        return self._port

    @property
    def host(self) -> str:
        """Return the address the server listens on."""
        return self._host

    @property
    def endpoint(self) -> str:
        """Return the base URL a client is configured with."""
        return f"http://{self._host}:{self._port}"

    @property
    def running(self) -> bool:
        """Return whether the server is accepting calls."""
        return self._server is not None

    async def start(self, host: str | None = None, port: int | None = None) -> int:
        """Start serving and return the port; a restart reuses the last port."""
        if self._server is not None:
            raise RuntimeError("The Clarifai emulator is already running")
        if host is not None:
            self._host = host
        if port is not None:
            self._port = port

        server = grpc.aio.server(
            options=[("grpc.max_receive_message_length", MAX_RECEIVE_MESSAGE_LENGTH)]
        )
        # The generated registration helper carries no annotations.
        service_pb2_grpc.add_V2Servicer_to_server(  # type: ignore[no-untyped-call]
            EmulatedV2Servicer(self), server
        )
        bound_port = server.add_insecure_port(f"{self._host}:{self._port}")
        if bound_port == 0:
            raise OSError(f"Cannot listen on {self._host}:{self._port}")
        await server.start()

        self._server = server
        self._port = bound_port
        return bound_port

    async def stop(self) -> None:
        """Stop serving at once; calls in flight and new calls fail UNAVAILABLE."""
        if self._server is None:
            return
        server, self._server = self._server, None
        await server.stop(None)

    async def __aenter__(self) -> ClarifaiEmulator:
        """Start on the configured host and port."""
        await self.start()
        return self

    async def __aexit__(self, *_exc_info: object) -> None:
        """Stop serving."""
        await self.stop()

    def fail_next(
        self,
        status_code: int,
        count: int = 1,
        description: str | None = None,
        rpc: str | None = None,
    ) -> None:
        """Answer the next `count` calls (of `rpc`, or of any RPC) with a status."""
        if status_code not in status_code_pb2.StatusCode.values():
            raise ValueError(f"{status_code} is not a Clarifai status code")
        if count < 1:
            raise ValueError("count must be at least 1")
        self._failures.append(
            InjectedFailure(
                status_code=status_code,
                remaining=count,
                description=description,
                rpc=rpc,
            )
        )

    def clear_failures(self) -> None:
        """Forget every injected failure not yet answered."""
        self._failures.clear()

    def set_workflow_result(self, workflow_id: str, outputs: WorkflowOutputs) -> None:
        """Answer a workflow with these outputs (MessageToDict shape or messages)."""
        self._workflow_outputs[workflow_id] = parse_workflow_outputs(outputs)

    def workflow_outputs(self, workflow_id: str) -> list[resources_pb2.Output]:
        """Return the outputs a workflow answers with."""
        return self._workflow_outputs.get(workflow_id, [])

    def requests_for(self, rpc: str) -> list[RecordedRequest]:
        """Return the recorded calls of one RPC, oldest first."""
        return [request for request in self.requests if request.rpc == rpc]

    def user_message(self) -> resources_pb2.User:
        """Describe the token's owner."""
        return resources_pb2.User(
            id=self.user_id,
            first_name=self.user_first_name,
            last_name=self.user_last_name,
            primary_email=self.user_email,
            email_addresses=[
                resources_pb2.EmailAddress(
                    email=self.user_email, primary=True, verified=True
                )
            ],
        )

    def record(self, rpc: str, request: message.Message, metadata: Metadata) -> None:
        """Keep a copy of a received call for tests to inspect."""
        copied = type(request)()
        copied.CopyFrom(request)
        self.requests.append(
            RecordedRequest(
                rpc=rpc,
                message=copied,
                metadata=metadata,
                received_at=datetime.now(UTC),
            )
        )

    def take_injected_failure(self, rpc: str) -> ClarifaiStatusError | None:
        """Use up one injected failure matching this RPC, if any is queued."""
        for failure in self._failures:
            if failure.rpc is None or failure.rpc == rpc:
                failure.remaining -= 1
                if failure.remaining == 0:
                    self._failures.remove(failure)
                return ClarifaiStatusError(
                    failure.status_code,
                    failure.description,
                    "Injected by the Clarifai emulator.",
                )
        return None
