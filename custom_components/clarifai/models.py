"""What a loaded Clarifai config entry keeps at hand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from homeassistant.config_entries import ConfigEntry

from .api import ClarifaiClient, ClarifaiUser


@dataclass(slots=True)
class ClarifaiRuntimeData:
    """The open client, the account it speaks for, and how the API is faring."""

    client: ClarifaiClient
    account: ClarifaiUser
    # Owner of the apps and workflows when an action or platform names none.
    default_user_id: str
    # Clarifai refused the token: nothing is sent until a new one is entered
    # (the reauth flow reloads the entry, which starts from a clean slate).
    auth_failed: bool = False
    # The account used up its allowance: nothing is sent before this moment,
    # so a camera scanning every few seconds does not hammer a closed door.
    paused_until: datetime | None = None
    # Set while "monthly_limit" or "hourly_limit" is paused on.
    pause_reason: str | None = None
    # The API stopped answering; the loss and the recovery are logged once.
    connection_lost: bool = False


type ClarifaiConfigEntry = ConfigEntry[ClarifaiRuntimeData]
