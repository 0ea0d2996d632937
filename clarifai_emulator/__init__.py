"""A local stand-in for Clarifai's gRPC API, for tests and the development instance."""

from .emulator import (
    MAX_RECEIVE_MESSAGE_LENGTH,
    ClarifaiEmulator,
    InjectedFailure,
    RecordedRequest,
)
from .servicer import ClarifaiStatusError
from .world import (
    DEFAULT_ACCESS_TOKEN,
    DEFAULT_APP_ID,
    DEFAULT_USER_ID,
    MAX_IMAGE_BYTES,
    PUBLIC_APP_ID,
    PUBLIC_USER_ID,
    EmulatedApp,
    default_apps,
)

__all__ = [
    "DEFAULT_ACCESS_TOKEN",
    "DEFAULT_APP_ID",
    "DEFAULT_USER_ID",
    "MAX_IMAGE_BYTES",
    "MAX_RECEIVE_MESSAGE_LENGTH",
    "PUBLIC_APP_ID",
    "PUBLIC_USER_ID",
    "ClarifaiEmulator",
    "ClarifaiStatusError",
    "EmulatedApp",
    "InjectedFailure",
    "RecordedRequest",
    "default_apps",
]
