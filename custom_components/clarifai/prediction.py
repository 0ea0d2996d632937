"""Send one camera's image to a workflow and announce the answer.

Shared by the predict action and the image processing entities, so both
fetch images, translate Clarifai's failures and fire the event alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from clarifai_grpc.grpc.api import resources_pb2
from clarifai_grpc.grpc.api.status import status_code_pb2

from homeassistant.components.camera import async_get_image
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

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
    LOGGER,
)
from .formatting import format_workflow_result
from .models import ClarifaiConfigEntry, ClarifaiRuntimeData

# Translation keys of the limit errors and of their repair issues.
ISSUE_MONTHLY_LIMIT: Final = "monthly_limit"
ISSUE_HOURLY_LIMIT: Final = "hourly_limit"


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
    """Run the workflow on an image, translating Clarifai's failures.

    A refused token or a used-up allowance stops further requests here, so
    neither the action nor the scans keep asking a question Clarifai has
    already answered with no.
    """
    runtime = entry.runtime_data
    if (held_back := held_back_error(entry)) is not None:
        raise translate_error(hass, entry, held_back, target, camera_entity_id)

    try:
        result = await runtime.client.async_predict_workflow(
            user_id=target.user_id,
            app_id=target.app_id,
            workflow_id=target.workflow_id,
            image=image,
        )
    except ClarifaiError as err:
        _record_failure(hass, entry, err)
        raise translate_error(hass, entry, err, target, camera_entity_id) from err

    _record_success(hass, entry)
    return result


def held_back_error(entry: ClarifaiConfigEntry) -> ClarifaiError | None:
    """Return why requests are not sent now: a refused token or a limit pause."""
    if entry.runtime_data.auth_failed:
        return ClarifaiAuthenticationError("the access token was refused earlier")
    return _limit_pause_error(entry)


def _limit_pause_error(entry: ClarifaiConfigEntry) -> ClarifaiLimitError | None:
    """Return the limit error to answer with while requests are paused."""
    runtime = entry.runtime_data
    if runtime.paused_until is None or dt_util.utcnow() >= runtime.paused_until:
        return None
    code = (
        status_code_pb2.CONN_EXCEED_MONTHLY_LIMIT
        if runtime.pause_reason == ISSUE_MONTHLY_LIMIT
        else status_code_pb2.CONN_EXCEED_HOURLY_LIMIT
    )
    return ClarifaiLimitError("requests are paused until the limit resets", code)


def limit_resets_at(now: datetime, *, monthly: bool) -> datetime:
    """Return when an hourly or monthly allowance starts afresh (UTC)."""
    now = now.astimezone(UTC)
    if monthly:
        first_of_month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        return (first_of_month + timedelta(days=32)).replace(day=1)
    return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


@callback
def async_resume_requests(hass: HomeAssistant, entry: ClarifaiConfigEntry) -> None:
    """Lift a limit pause and withdraw its repair issue."""
    runtime = entry.runtime_data
    runtime.paused_until = None
    runtime.pause_reason = None
    ir.async_delete_issue(hass, DOMAIN, limit_issue_id(entry))


def limit_issue_id(entry: ClarifaiConfigEntry) -> str:
    """Return the id of the entry's limit repair issue."""
    return f"request_limit_{entry.entry_id}"


def _record_failure(
    hass: HomeAssistant, entry: ClarifaiConfigEntry, err: ClarifaiError
) -> None:
    """Remember what a failure says about the account and the connection."""
    runtime = entry.runtime_data
    if isinstance(err, ClarifaiConnectionError):
        if not runtime.connection_lost:
            runtime.connection_lost = True
            LOGGER.warning(
                "Clarifai at %s cannot be reached: %s",
                runtime.client.endpoint.target,
                err.description,
            )
        return
    if not isinstance(err, ImageTooLargeError):
        # Clarifai answered, even if with a failure: the API is back.
        _record_answer(runtime)

    match err:
        case ClarifaiAuthenticationError() if not runtime.auth_failed:
            runtime.auth_failed = True
            LOGGER.warning(
                "Clarifai refused the access token of %s; requests stop until "
                "a new token is entered",
                entry.title,
            )
            entry.async_start_reauth(hass)
        case ClarifaiLimitError():
            _pause_for_limit(hass, entry, err)


def _pause_for_limit(
    hass: HomeAssistant, entry: ClarifaiConfigEntry, err: ClarifaiLimitError
) -> None:
    """Stop sending until the allowance resets, and tell the user why."""
    runtime = entry.runtime_data
    reason = ISSUE_MONTHLY_LIMIT if err.monthly else ISSUE_HOURLY_LIMIT
    runtime.paused_until = limit_resets_at(dt_util.utcnow(), monthly=err.monthly)
    runtime.pause_reason = reason
    LOGGER.warning(
        "Clarifai account %s is over its %s limit; requests resume at %s",
        entry.title,
        "monthly" if err.monthly else "hourly",
        runtime.paused_until.isoformat(),
    )
    ir.async_create_issue(
        hass,
        DOMAIN,
        limit_issue_id(entry),
        is_fixable=True,
        is_persistent=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key=reason,
        translation_placeholders={
            "account": entry.title,
            "resume": _format_resume(runtime.paused_until),
        },
        data={"entry_id": entry.entry_id},
    )


def _record_success(hass: HomeAssistant, entry: ClarifaiConfigEntry) -> None:
    """Note that Clarifai answered; lift a limit pause that has run out."""
    runtime = entry.runtime_data
    _record_answer(runtime)
    if runtime.pause_reason is not None:
        LOGGER.info("Clarifai account %s accepts requests again", entry.title)
        async_resume_requests(hass, entry)


def _record_answer(runtime: ClarifaiRuntimeData) -> None:
    if runtime.connection_lost:
        runtime.connection_lost = False
        LOGGER.info("Clarifai at %s answers again", runtime.client.endpoint.target)


def _format_resume(moment: datetime) -> str:
    return dt_util.as_local(moment).strftime("%Y-%m-%d %H:%M")


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
        "account": entry.title,
        "error": err.description,
    }
    error_class: type[HomeAssistantError] = HomeAssistantError
    match err:
        case ClarifaiAuthenticationError():
            key = "invalid_auth"
        case ClarifaiScopeError():
            key = "insufficient_scopes"
            placeholders["scope"] = err.missing_scopes
        case ClarifaiNotFoundError():
            error_class = ServiceValidationError
            key = (
                "workflow_not_found"
                if err.status_code == status_code_pb2.WORKFLOW_DOES_NOT_EXIST
                else "app_not_found"
            )
        case ClarifaiLimitError():
            key = ISSUE_MONTHLY_LIMIT if err.monthly else ISSUE_HOURLY_LIMIT
            resume = entry.runtime_data.paused_until
            placeholders["resume"] = _format_resume(resume) if resume else "?"
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
