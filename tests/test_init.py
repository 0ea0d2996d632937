"""Setting up and unloading the Clarifai config entry."""

from pytest_homeassistant_custom_component.common import MockConfigEntry

from clarifai_emulator import ClarifaiEmulator
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant


async def test_entry_loads_against_the_emulator(
    hass: HomeAssistant, emulator: ClarifaiEmulator, init_integration: MockConfigEntry
) -> None:
    """The entry asks Clarifai who the token belongs to and loads."""
    assert init_integration.state is ConfigEntryState.LOADED
    assert init_integration.runtime_data.account.user_id == emulator.user_id
    [request] = emulator.requests_for("GetUser")
    assert request.token == emulator.access_token

    assert await hass.config_entries.async_unload(init_integration.entry_id)
    assert init_integration.state is ConfigEntryState.NOT_LOADED
