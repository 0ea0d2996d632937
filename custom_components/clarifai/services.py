"""The clarifai.predict action."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import probatio

from homeassistant.components.camera.const import DOMAIN as CAMERA_DOMAIN
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, service

from .const import (
    ATTR_CONFIG_ENTRY_ID,
    CONF_APP_ID,
    CONF_RESULT_FORMAT,
    CONF_USER_ID,
    CONF_WORKFLOW_ID,
    DOMAIN,
    SERVICE_PREDICT,
)
from .models import ClarifaiConfigEntry
from .prediction import (
    WorkflowTarget,
    async_fetch_camera_image,
    async_run_workflow,
    fire_prediction_event,
)
from .schema import WORKFLOW_FIELDS

PREDICT_SCHEMA = probatio.Schema(
    {
        **WORKFLOW_FIELDS,
        # cv.entity_ids lets an empty list through, which would answer {}
        # without predicting anything.
        probatio.Required(ATTR_ENTITY_ID): probatio.All(
            cv.entity_ids, probatio.Length(min=1)
        ),
        probatio.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
    }
)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the predict action."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_PREDICT,
        _async_predict,
        schema=PREDICT_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )


async def _async_predict(call: ServiceCall) -> ServiceResponse:
    """Run a workflow on each camera; fire one event per camera."""
    hass = call.hass
    entry: ClarifaiConfigEntry = service.async_get_config_entry(
        hass, DOMAIN, call.data.get(ATTR_CONFIG_ENTRY_ID)
    )
    cameras = _resolve_cameras(hass, call.data[ATTR_ENTITY_ID])
    target = WorkflowTarget(
        user_id=call.data.get(CONF_USER_ID) or entry.runtime_data.default_user_id,
        app_id=call.data[CONF_APP_ID],
        workflow_id=call.data[CONF_WORKFLOW_ID],
        result_format=call.data[CONF_RESULT_FORMAT],
    )

    # Every image is fetched before anything is sent, so a camera without a
    # picture stops the whole call before Clarifai is asked (and billed).
    images = await _all_at_once(
        [async_fetch_camera_image(hass, camera) for camera in cameras]
    )
    results = await _all_at_once(
        [
            async_run_workflow(hass, entry, target, camera, image)
            for camera, image in zip(cameras, images, strict=True)
        ]
    )

    response: dict[str, Any] = {}
    for camera, result in zip(cameras, results, strict=True):
        response[camera] = fire_prediction_event(hass, camera, target, result)
    return response if call.return_response else None


async def _all_at_once[T](awaitables: list[Coroutine[Any, Any, T]]) -> list[T]:
    """Await several coroutines together, in order.

    The common call names one camera; awaiting it directly spares the task
    gather would wrap it in, and that task's trips through the event loop.
    """
    if len(awaitables) == 1:
        return [await awaitables[0]]
    return list(await asyncio.gather(*awaitables))


def _resolve_cameras(hass: HomeAssistant, entity_ids: list[str]) -> list[str]:
    """Check that every entity is an existing camera; keep the given order."""
    cameras: list[str] = []
    for entity_id in entity_ids:
        if entity_id.partition(".")[0] != CAMERA_DOMAIN:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="not_a_camera",
                translation_placeholders={"entity_id": entity_id},
            )
        if hass.states.get(entity_id) is None:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="camera_not_found",
                translation_placeholders={"entity_id": entity_id},
            )
        if entity_id not in cameras:
            cameras.append(entity_id)
    return cameras
