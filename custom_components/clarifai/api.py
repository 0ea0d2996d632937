"""Talk to Clarifai's API with the official gRPC client.

This module knows nothing about Home Assistant: it opens the channel, sends
requests with a deadline, turns Clarifai's status codes into exceptions and
hands back protobuf messages. It raises; it never logs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol
from urllib.parse import urlsplit

from clarifai_grpc.channel import clarifai_channel
from clarifai_grpc.grpc.api import resources_pb2, service_pb2, service_pb2_grpc
from clarifai_grpc.grpc.api.status import status_code_pb2
import grpc

DEFAULT_TIMEOUT: Final = 30.0

# Clarifai refuses images of 20 MB and more; checking here saves sending them.
MAX_IMAGE_BYTES: Final = 20 * 1000 * 1000

# From this size on, a request is encoded in a worker thread: below it,
# the hop to the thread costs more than the encoding it moves.
SERIALIZE_IN_THREAD_BYTES: Final = 256 * 1024

# Throttling is Clarifai asking for a short pause, so it is worth a few
# retries with growing pauses; every other failure is reported at once.
THROTTLE_RETRIES: Final = 3
THROTTLE_BACKOFF: float = 1.0

_AUTHENTICATION_CODES: Final = frozenset(
    {
        status_code_pb2.CONN_ACCOUNT_ISSUES,
        status_code_pb2.CONN_TOKEN_INVALID,
        status_code_pb2.CONN_CREDENTIALS_INVALID,
        status_code_pb2.CONN_KEY_INVALID,
        status_code_pb2.CONN_KEY_NOT_FOUND,
        status_code_pb2.CONN_AUTH_METHOD_DISABLED,
    }
)
_NOT_FOUND_CODES: Final = frozenset(
    {
        status_code_pb2.CONN_DOES_NOT_EXIST,
        status_code_pb2.WORKFLOW_DOES_NOT_EXIST,
        status_code_pb2.MODEL_DOES_NOT_EXIST,
    }
)
_LIMIT_CODES: Final = frozenset(
    {
        status_code_pb2.CONN_EXCEED_HOURLY_LIMIT,
        status_code_pb2.CONN_EXCEED_MONTHLY_LIMIT,
        status_code_pb2.CONN_EXCEEDS_LIMITS,
    }
)
_INPUT_CODES: Final = frozenset(
    {
        status_code_pb2.INPUT_DOWNLOAD_FAILED,
        status_code_pb2.CONN_BAD_REQUEST_FORMAT,
        status_code_pb2.CONN_INVALID_REQUEST,
    }
)
_UNREACHABLE_RPC_CODES: Final = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.CANCELLED,
    }
)


class ClarifaiError(Exception):
    """Clarifai answered with a failure, or could not be asked."""

    def __init__(self, description: str, status_code: int | None = None) -> None:
        """Keep Clarifai's status code beside its description."""
        super().__init__(description)
        self.description = description
        self.status_code = status_code


class ClarifaiConnectionError(ClarifaiError):
    """The API could not be reached, or did not answer before the deadline."""


class ClarifaiAuthenticationError(ClarifaiError):
    """The access token is invalid, revoked or unknown."""


class ClarifaiScopeError(ClarifaiError):
    """The access token lacks a scope the request needs."""

    def __init__(
        self, description: str, status_code: int | None, missing_scopes: str
    ) -> None:
        """Keep the scopes Clarifai names as missing."""
        super().__init__(description, status_code)
        self.missing_scopes = missing_scopes


class ClarifaiNotFoundError(ClarifaiError):
    """The user, app or workflow named in the request does not exist."""


class ClarifaiLimitError(ClarifaiError):
    """The account used up its hourly or monthly allowance."""

    @property
    def monthly(self) -> bool:
        """Return True when the monthly allowance is used up."""
        return self.status_code == status_code_pb2.CONN_EXCEED_MONTHLY_LIMIT


class ClarifaiThrottledError(ClarifaiError):
    """Clarifai asked for fewer requests per second, and kept asking."""


class ClarifaiInputError(ClarifaiError):
    """Clarifai could not use the image it was sent."""


class ImageTooLargeError(ClarifaiInputError):
    """The image is larger than Clarifai accepts; it was not sent."""


@dataclass(frozen=True, slots=True)
class ClarifaiEndpoint:
    """Where the API lives: Clarifai's cloud over TLS, or a plaintext server."""

    host: str
    port: int
    secure: bool

    @classmethod
    def from_url(cls, url: str) -> ClarifaiEndpoint:
        """Parse an https:// or http:// URL; raise ValueError for anything else."""
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(url)
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(url)
        secure = parts.scheme == "https"
        port = parts.port or (443 if secure else 80)
        return cls(host=parts.hostname, port=port, secure=secure)

    @property
    def target(self) -> str:
        """Return the host:port gRPC dials."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class ClarifaiUser:
    """The account an access token belongs to."""

    user_id: str
    full_name: str
    email: str


class _StatusResponse(Protocol):
    status: Any


@dataclass(frozen=True, slots=True)
class _Rpcs:
    """The calls one channel offers."""

    stub: service_pb2_grpc.V2Stub
    # PostWorkflowResults taking a request already encoded to bytes.
    post_serialized_workflow_results: grpc.aio.UnaryUnaryMultiCallable[
        bytes, service_pb2.PostWorkflowResultsResponse
    ]


class ClarifaiClient:
    """Run Clarifai requests over one gRPC channel.

    The channel is opened on the first request, inside the running event
    loop as grpc.aio wants, and kept until close().
    """

    def __init__(
        self,
        access_token: str,
        endpoint: ClarifaiEndpoint,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        """Store what every request needs; nothing is sent yet."""
        self.endpoint = endpoint
        self.timeout = timeout
        self._metadata = (("authorization", f"Key {access_token}"),)
        # gRPC cannot put a blank token, or one with line breaks or other
        # non-printable characters, in a header: it would fail with an
        # internal error instead of Clarifai's answer.
        self._token_sendable = (
            bool(access_token.strip())
            and access_token.isascii()
            and access_token.isprintable()
        )
        self._channel: grpc.aio.Channel | None = None
        self._rpcs: _Rpcs | None = None

    def _get_rpcs(self) -> _Rpcs:
        if self._rpcs is None:
            self._channel = channel = _open_channel(self.endpoint)
            self._rpcs = _Rpcs(
                stub=service_pb2_grpc.V2Stub(channel),  # type: ignore[no-untyped-call]
                post_serialized_workflow_results=channel.unary_unary(
                    "/clarifai.api.V2/PostWorkflowResults",
                    response_deserializer=(
                        service_pb2.PostWorkflowResultsResponse.FromString
                    ),
                ),
            )
        return self._rpcs

    async def close(self) -> None:
        """Close the channel; a later request opens a new one."""
        channel, self._channel, self._rpcs = self._channel, None, None
        if channel is not None:
            await channel.close()

    async def async_get_user(self, user_id: str = "me") -> ClarifaiUser:
        """Fetch a user; "me" is the owner of the access token."""
        request = service_pb2.GetUserRequest(
            user_app_id=resources_pb2.UserAppIDSet(user_id=user_id)
        )
        response = await self._call(lambda rpcs: rpcs.stub.GetUser, request)
        user = response.user
        full_name = " ".join(part for part in (user.first_name, user.last_name) if part)
        return ClarifaiUser(
            user_id=user.id,
            full_name=full_name,
            email=user.primary_email or user.user_detail.primary_email,
        )

    async def async_predict_workflow(
        self, *, user_id: str, app_id: str, workflow_id: str, image: bytes
    ) -> resources_pb2.WorkflowResult:
        """Run a workflow on one image and return its result.

        A result whose status is MIXED_STATUS is returned like a success:
        the outputs that failed carry their own status, and the caller
        decides what to make of them.
        """
        if len(image) >= MAX_IMAGE_BYTES:
            raise ImageTooLargeError(
                f"image of {len(image)} bytes; Clarifai accepts less than "
                f"{MAX_IMAGE_BYTES} bytes"
            )

        request = service_pb2.PostWorkflowResultsRequest(
            user_app_id=resources_pb2.UserAppIDSet(user_id=user_id, app_id=app_id),
            workflow_id=workflow_id,
        )
        # Set in place: nesting Image(...) in Data(...) in Input(...) copies
        # the image at each level, which stalls the event loop for 10 ms and
        # more on a 2 MB picture (see bench/results.md).
        request.inputs.add().data.image.base64 = image
        if len(image) < SERIALIZE_IN_THREAD_BYTES:
            response = await self._call(
                lambda rpcs: rpcs.stub.PostWorkflowResults, request
            )
        else:
            # Copying megabytes takes milliseconds; encoding the request in a
            # worker thread spares the event loop one of the copies gRPC
            # would otherwise make in it (see bench/results.md).
            payload = await asyncio.get_running_loop().run_in_executor(
                None, request.SerializeToString
            )
            response = await self._call(
                lambda rpcs: rpcs.post_serialized_workflow_results, payload
            )

        if not response.results:
            raise ClarifaiError("the workflow returned no result", response.status.code)
        result: resources_pb2.WorkflowResult = response.results[0]
        return result

    async def _call[ResponseT: _StatusResponse](
        self,
        method: Callable[[_Rpcs], Callable[..., Awaitable[ResponseT]]],
        request: Any,
    ) -> ResponseT:
        """Send one request, retrying only while Clarifai throttles."""
        if not self._token_sendable:
            raise ClarifaiAuthenticationError(
                "the access token contains characters that cannot be sent"
            )
        for attempt in range(THROTTLE_RETRIES + 1):
            rpc = method(self._get_rpcs())
            try:
                # The gRPC deadline covers the call on the wire; the outer
                # timeout also covers connecting, which gRPC may retry.
                async with asyncio.timeout(self.timeout + 1):
                    response = await rpc(
                        request, metadata=self._metadata, timeout=self.timeout
                    )
            except TimeoutError as err:
                raise ClarifaiConnectionError(
                    f"no answer within {self.timeout:g} seconds"
                ) from err
            except grpc.aio.AioRpcError as err:
                raise _rpc_error(err) from err

            code = response.status.code
            if code == status_code_pb2.CONN_THROTTLED and attempt < THROTTLE_RETRIES:
                await asyncio.sleep(THROTTLE_BACKOFF * 2**attempt)
                continue
            if code in (status_code_pb2.SUCCESS, status_code_pb2.MIXED_STATUS):
                return response
            raise status_error(response.status)
        raise AssertionError("unreachable")  # pragma: no cover


def _open_channel(endpoint: ClarifaiEndpoint) -> grpc.aio.Channel:
    """Open a channel with the settings of clarifai-grpc's own channels.

    ClarifaiChannel's helpers take no extra options, so its service config
    (the retry policy for UNAVAILABLE) and message limits are reused here
    with one addition: a subchannel pool of the channel's own. With the
    process-wide pool, a channel closed during an outage leaves its
    reconnect backoff behind, and the next client (a retried setup, a
    reloaded entry) fails at once even though the API is back.
    """
    options = [
        ("grpc.service_config", clarifai_channel.grpc_json_config),
        ("grpc.max_receive_message_length", clarifai_channel.MAX_MESSAGE_LENGTH),
        ("grpc.max_send_message_length", clarifai_channel.MAX_MESSAGE_LENGTH),
        ("grpc.use_local_subchannel_pool", 1),
    ]
    # V2Stub decodes answers with a function clarifai-grpc keeps in a module
    # global, which its channel helpers set; set it the same way here.
    clarifai_channel.wrap_response_deserializer = _decode_with  # type: ignore[assignment]
    if endpoint.secure:
        return grpc.aio.secure_channel(
            endpoint.target, grpc.ssl_channel_credentials(), options=options
        )
    return grpc.aio.insecure_channel(endpoint.target, options=options)


def _decode_with(message_class: Any) -> Callable[[bytes], Any]:
    """Return the protobuf decoder V2Stub uses for an answer's type."""
    decode: Callable[[bytes], Any] = message_class.FromString
    return decode


def status_error(status: Any) -> ClarifaiError:
    """Return the exception that matches a Clarifai status."""
    code: int = status.code
    description = _describe(status)
    if code in _AUTHENTICATION_CODES:
        return ClarifaiAuthenticationError(description, code)
    if code == status_code_pb2.CONN_INSUFFICIENT_SCOPES:
        # Clarifai words it "API key has insufficient scopes: missing
        # Workflows:Get, Models:Get"; a wording without the list is shown
        # whole rather than guessed at.
        _, found, missing = status.description.partition("missing ")
        return ClarifaiScopeError(
            description, code, missing.strip() if found else description
        )
    if code in _NOT_FOUND_CODES:
        return ClarifaiNotFoundError(description, code)
    if code in _LIMIT_CODES:
        return ClarifaiLimitError(description, code)
    if code == status_code_pb2.CONN_THROTTLED:
        return ClarifaiThrottledError(description, code)
    if code in _INPUT_CODES or 30000 <= code < 40000:
        return ClarifaiInputError(description, code)
    return ClarifaiError(description, code)


def _describe(status: Any) -> str:
    parts = [status.description, status.details]
    return ": ".join(part for part in parts if part) or f"status {status.code}"


def _rpc_error(err: grpc.aio.AioRpcError) -> ClarifaiError:
    """Describe a transport failure without echoing request metadata."""
    code = err.code()
    if code in _UNREACHABLE_RPC_CODES:
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            return ClarifaiConnectionError("the API did not answer in time")
        return ClarifaiConnectionError(f"the API is unreachable ({code.name})")
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return ClarifaiAuthenticationError(err.details() or code.name)
    return ClarifaiError(f"{code.name}: {err.details() or 'no details'}")
