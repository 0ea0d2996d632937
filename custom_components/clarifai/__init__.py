"""Run camera images through Clarifai workflows."""

from __future__ import annotations

from homeassistant.config_entries import SOURCE_IMPORT
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers.typing import ConfigType

from .api import (
    ClarifaiAuthenticationError,
    ClarifaiClient,
    ClarifaiEndpoint,
    ClarifaiError,
)
from .const import CONF_ENDPOINT, CONF_USER_ID, DEFAULT_ENDPOINT, DOMAIN
from .models import ClarifaiConfigEntry, ClarifaiRuntimeData
from .schema import CONFIG_SCHEMA
from .services import async_setup_services

__all__ = ["CONFIG_SCHEMA"]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the predict action and import the documented YAML."""
    async_setup_services(hass)

    if DOMAIN in config:
        hass.async_create_task(
            hass.config_entries.flow.async_init(
                DOMAIN, context={"source": SOURCE_IMPORT}, data=dict(config[DOMAIN])
            )
        )
    return True


async def async_setup_entry(hass: HomeAssistant, entry: ClarifaiConfigEntry) -> bool:
    """Open the channel to Clarifai and check the token still works."""
    endpoint = ClarifaiEndpoint.from_url(
        entry.data.get(CONF_ENDPOINT, DEFAULT_ENDPOINT)
    )
    client = ClarifaiClient(entry.data["access_token"], endpoint)

    try:
        account = await client.async_get_user()
    except ClarifaiAuthenticationError as err:
        await client.close()
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="invalid_auth"
        ) from err
    except ClarifaiError as err:
        await client.close()
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="cannot_connect",
            translation_placeholders={"error": err.description},
        ) from err

    entry.runtime_data = ClarifaiRuntimeData(
        client=client,
        account=account,
        default_user_id=entry.data.get(CONF_USER_ID) or account.user_id,
    )
    entry.async_on_unload(client.close)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: ClarifaiConfigEntry) -> bool:
    """Close the channel; the on-unload callback does the work."""
    return True
