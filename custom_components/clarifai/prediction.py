"""Send one camera's image to a workflow and announce the answer.

Shared by the predict action and the image processing entities, so both
fetch images, translate Clarifai's failures and fire the event alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clarifai_grpc.grpc.api import resources_pb2

from homeassistant.components.camera import async_get_image
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .api import (
    ClarifaiAuthenticationError,
    ClarifaiConnectionError,
    ClarifaiError,
    ClarifaiInputError,
    ClarifaiLimitError,
    ClarifaiNotFoundError,
    ClarifaiScopeError,
    ClarifaiThrottledError,
    ImageTooLargeError,
)
from .const import (
    CAMERA_TIMEOUT,
    CONF_APP_ID,
    CONF_RESULT_FORMAT,
    CONF_USER_ID,
    CONF_WORKFLOW_ID,
    DOMAIN,
    EVENT_PREDICTION,
)
from .formatting import format_workflow_result
from .models import ClarifaiConfigEntry


@dataclass(frozen=True, slots=True)
class WorkflowTarget:
    """Which workflow to run, whose it is, and how to format its answer."""

    user_id: str
    app_id: str
    workflow_id: str
    result_format: str

    @property
    def placeholders(self) -> dict[str, str]:
        """Return the ids for translated messages."""
        return {
            "user_id": self.user_id,
            "app_id": self.app_id,
            "workflow_id": self.workflow_id,
        }


async def async_fetch_camera_image(hass: HomeAssistant, camera_entity_id: str) -> bytes:
    """Return the camera's current image, or raise a translated error."""
    try:
        image = await async_get_image(hass, camera_entity_id, timeout=CAMERA_TIMEOUT)
    except HomeAssistantError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="camera_image_unavailable",
            translation_placeholders={"entity_id": camera_entity_id},
        ) from err
    if not image.content:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="camera_image_unavailable",
            translation_placeholders={"entity_id": camera_entity_id},
        )
    return image.content


async def async_run_workflow(
    hass: HomeAssistant,
    entry: ClarifaiConfigEntry,
    target: WorkflowTarget,
    camera_entity_id: str,
    image: bytes,
) -> resources_pb2.WorkflowResult:
    """Run the workflow on an image, translating Clarifai's failures."""
    try:
        return await entry.runtime_data.client.async_predict_workflow(
            user_id=target.user_id,
            app_id=target.app_id,
            workflow_id=target.workflow_id,
            image=image,
        )
    except ClarifaiError as err:
        raise translate_error(hass, entry, err, target, camera_entity_id) from err


def translate_error(
    hass: HomeAssistant,
    entry: ClarifaiConfigEntry,
    err: ClarifaiError,
    target: WorkflowTarget,
    camera_entity_id: str,
) -> HomeAssistantError:
    """Return the translated error a user sees for a Clarifai failure."""
    placeholders = {
        **target.placeholders,
        "entity_id": camera_entity_id,
        "error": err.description,
    }
    error_class: type[HomeAssistantError] = HomeAssistantError
    match err:
        case ClarifaiAuthenticationError():
            # The token stopped working: ask the user for a new one.
            entry.async_start_reauth(hass)
            key = "invalid_auth"
        case ClarifaiScopeError():
            key = "insufficient_scopes"
        case ClarifaiNotFoundError():
            error_class = ServiceValidationError
            key = "not_found"
        case ClarifaiLimitError() if err.monthly:
            key = "monthly_limit"
        case ClarifaiLimitError():
            key = "hourly_limit"
        case ClarifaiThrottledError():
            key = "throttled"
        case ImageTooLargeError():
            error_class = ServiceValidationError
            key = "image_too_large"
        case ClarifaiInputError():
            key = "bad_image"
        case ClarifaiConnectionError():
            key = "cannot_connect"
        case _:
            key = "api_error"
    return error_class(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
    )


def prediction_event_data(
    camera_entity_id: str, target: WorkflowTarget, formatted: dict[str, Any]
) -> dict[str, Any]:
    """Return the event data: the formatted result plus where it came from."""
    return {
        **formatted,
        ATTR_ENTITY_ID: camera_entity_id,
        CONF_USER_ID: target.user_id,
        CONF_APP_ID: target.app_id,
        CONF_WORKFLOW_ID: target.workflow_id,
        CONF_RESULT_FORMAT: target.result_format,
    }


def fire_prediction_event(
    hass: HomeAssistant,
    camera_entity_id: str,
    target: WorkflowTarget,
    result: resources_pb2.WorkflowResult,
) -> dict[str, Any]:
    """Format a result, announce it on the event bus and return it."""
    formatted = format_workflow_result(result, target.result_format)
    hass.bus.async_fire(
        EVENT_PREDICTION, prediction_event_data(camera_entity_id, target, formatted)
    )
    return formatted
