"""Let the user lift a limit pause, for instance after upgrading the plan."""

from __future__ import annotations

from typing import Any, override

from homeassistant.components.repairs import ConfirmRepairFlow, RepairsFlow
from homeassistant.components.repairs.models import RepairsFlowResult
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant

from .const import DOMAIN
from .models import ClarifaiConfigEntry
from .prediction import async_resume_requests


class ResumeRequestsFlow(ConfirmRepairFlow):
    """Resume sending requests before the allowance resets."""

    def __init__(self, entry_id: str) -> None:
        """Remember whose requests to resume."""
        self._entry_id = entry_id

    @override
    async def async_step_confirm(
        self, user_input: dict[str, str] | None = None
    ) -> RepairsFlowResult:
        """Lift the pause once the user confirms."""
        if user_input is not None:
            entry: ClarifaiConfigEntry | None = (
                self.hass.config_entries.async_get_entry(self._entry_id)
            )
            if (
                entry is not None
                and entry.domain == DOMAIN
                and entry.state is ConfigEntryState.LOADED
            ):
                async_resume_requests(self.hass, entry)
        return await super().async_step_confirm(user_input)


async def async_create_fix_flow(
    hass: HomeAssistant, issue_id: str, data: dict[str, Any] | None
) -> RepairsFlow:
    """Return the flow that fixes a Clarifai repair issue."""
    return ResumeRequestsFlow(str((data or {}).get("entry_id", "")))
