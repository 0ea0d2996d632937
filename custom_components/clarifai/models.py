"""What a loaded Clarifai config entry keeps at hand."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntry

from .api import ClarifaiClient, ClarifaiUser


@dataclass(slots=True)
class ClarifaiRuntimeData:
    """The open client and the account it speaks for."""

    client: ClarifaiClient
    account: ClarifaiUser
    # Owner of the apps and workflows when an action or platform names none.
    default_user_id: str


type ClarifaiConfigEntry = ConfigEntry[ClarifaiRuntimeData]
