"""Diagnostics for a Clarifai account and its image processing entities."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.components.image_processing.const import DOMAIN as IMAGE_PROCESSING
from homeassistant.const import CONF_ACCESS_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from .const import DOMAIN
from .models import ClarifaiConfigEntry

# The title is the account holder's name, like full_name.
TO_REDACT = {CONF_ACCESS_TOKEN, "email", "full_name", "title"}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: ClarifaiConfigEntry
) -> dict[str, Any]:
    """Return the entry, the account and the state of every Clarifai scan."""
    runtime = entry.runtime_data
    registry = er.async_get(hass)
    entities = [
        {
            "entity_id": state.entity_id,
            "state": state.state,
            "attributes": dict(state.attributes),
        }
        for state in hass.states.async_all(IMAGE_PROCESSING)
        if (registered := registry.async_get(state.entity_id))
        and registered.platform == DOMAIN
    ]
    return async_redact_data(
        {
            "entry": {
                "title": entry.title,
                "data": dict(entry.data),
                "options": dict(entry.options),
            },
            "account": {
                "user_id": runtime.account.user_id,
                "full_name": runtime.account.full_name,
                "email": runtime.account.email,
            },
            "default_user_id": runtime.default_user_id,
            "requests": {
                "auth_failed": runtime.auth_failed,
                "connection_lost": runtime.connection_lost,
                "paused_until": (
                    runtime.paused_until.isoformat() if runtime.paused_until else None
                ),
                "pause_reason": runtime.pause_reason,
                "timeout": runtime.client.timeout,
            },
            "endpoint": {
                "host": runtime.client.endpoint.host,
                "port": runtime.client.endpoint.port,
                "secure": runtime.client.endpoint.secure,
            },
            "image_processing": entities,
        },
        TO_REDACT,
    )
