"""Setting up and unloading the Clarifai config entry."""

from datetime import timedelta
import gc

from clarifai_grpc.grpc.api import service_pb2
import grpc
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from clarifai_emulator import (
    PUBLIC_APP_ID,
    PUBLIC_USER_ID,
    ClarifaiEmulator,
    RecordedRequest,
)
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util

from .conftest import StillCamera
from .helpers import emulator_entry, predict_general


async def set_up(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add an entry and let Home Assistant try to set it up."""
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


def owner_and_app(request: RecordedRequest) -> tuple[str, str]:
    """Return the user and app a recorded request named."""
    message = request.message
    assert isinstance(
        message, service_pb2.GetUserRequest | service_pb2.PostWorkflowResultsRequest
    )
    return message.user_app_id.user_id, message.user_app_id.app_id


async def test_entry_loads_against_the_emulator(
    hass: HomeAssistant, emulator: ClarifaiEmulator, init_integration: MockConfigEntry
) -> None:
    """The entry asks Clarifai who the token belongs to and loads."""
    assert init_integration.state is ConfigEntryState.LOADED
    assert init_integration.runtime_data.account.user_id == emulator.user_id
    assert init_integration.runtime_data.default_user_id == emulator.user_id
    [request] = emulator.requests_for("GetUser")
    assert request.token == emulator.access_token
    assert owner_and_app(request) == ("me", "")

    assert await hass.config_entries.async_unload(init_integration.entry_id)
    assert init_integration.state is ConfigEntryState.NOT_LOADED


async def test_emulator_down_at_start_then_back(
    hass: HomeAssistant, emulator: ClarifaiEmulator, config_entry: MockConfigEntry
) -> None:
    """An unreachable API means retry later, and the retry loads the entry."""
    await emulator.stop()

    await set_up(hass, config_entry)

    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    assert config_entry.reason is not None
    assert "unreachable" in config_entry.reason
    assert emulator.access_token not in config_entry.reason
    assert not list(config_entry.async_get_active_flows(hass, {SOURCE_REAUTH}))

    # grpc keeps the failed connection, and its reconnect backoff, in a pool
    # shared by every channel to the address until the closed channel is
    # garbage collected; without this the retry could inherit that backoff.
    gc.collect()
    await emulator.start()
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=5))
    await hass.async_block_till_done(wait_background_tasks=True)

    assert config_entry.state is ConfigEntryState.LOADED
    assert config_entry.runtime_data.account.user_id == emulator.user_id


async def test_api_failure_at_start_is_retried(
    hass: HomeAssistant, emulator: ClarifaiEmulator, config_entry: MockConfigEntry
) -> None:
    """A Clarifai failure unrelated to the token is retried, not a reauth."""
    emulator.fail_next(98004, rpc="GetUser")  # Internal server issue

    await set_up(hass, config_entry)

    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    assert config_entry.reason is not None
    assert "Internal server issue" in config_entry.reason

    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=5))
    await hass.async_block_till_done(wait_background_tasks=True)

    assert config_entry.state is ConfigEntryState.LOADED


@pytest.mark.parametrize("status_code", [11008, 11009])
async def test_token_refused_at_start_asks_for_a_new_one(
    hass: HomeAssistant,
    emulator: ClarifaiEmulator,
    config_entry: MockConfigEntry,
    status_code: int,
) -> None:
    """A refused token stops the entry and opens a reauth flow for it."""
    emulator.fail_next(status_code)  # CONN_KEY_INVALID, CONN_KEY_NOT_FOUND

    await set_up(hass, config_entry)

    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    assert config_entry.reason is not None
    assert "Devices & services" in config_entry.reason
    [flow] = config_entry.async_get_active_flows(hass, {SOURCE_REAUTH})
    assert flow["step_id"] == "reauth_confirm"


async def test_unload_closes_the_channel(
    hass: HomeAssistant,
    emulator: ClarifaiEmulator,
    # Cameras first: set up after the integration, which depends on the camera
    # component, their platform would not be loaded.
    cameras: dict[str, StillCamera],
    init_integration: MockConfigEntry,
) -> None:
    """After unloading, the channel is shut and the action refuses to run."""
    await predict_general(hass, user_id=PUBLIC_USER_ID, app_id=PUBLIC_APP_ID)
    channel = init_integration.runtime_data.client._channel
    assert channel is not None
    assert channel.get_state() is grpc.ChannelConnectivity.READY

    assert await hass.config_entries.async_unload(init_integration.entry_id)

    assert init_integration.state is ConfigEntryState.NOT_LOADED
    assert channel.get_state() is grpc.ChannelConnectivity.SHUTDOWN
    calls = len(emulator.requests)
    with pytest.raises(ServiceValidationError):
        await predict_general(hass, user_id=PUBLIC_USER_ID, app_id=PUBLIC_APP_ID)
    assert len(emulator.requests) == calls


async def test_user_id_is_the_default_owner(
    hass: HomeAssistant, emulator: ClarifaiEmulator, cameras: dict[str, StillCamera]
) -> None:
    """The entry's user_id owns the workflows an action names without one."""
    entry = emulator_entry(emulator, user_id=PUBLIC_USER_ID)
    await set_up(hass, entry)

    assert entry.runtime_data.default_user_id == PUBLIC_USER_ID
    await predict_general(hass, app_id=PUBLIC_APP_ID)

    [run] = emulator.requests_for("PostWorkflowResults")
    assert owner_and_app(run) == (PUBLIC_USER_ID, PUBLIC_APP_ID)


async def test_token_owner_is_the_default_owner(
    hass: HomeAssistant,
    emulator: ClarifaiEmulator,
    cameras: dict[str, StillCamera],
    init_integration: MockConfigEntry,
) -> None:
    """Without a user_id, the token's own account owns the workflows."""
    await predict_general(hass, app_id="home")

    [run] = emulator.requests_for("PostWorkflowResults")
    assert owner_and_app(run) == (emulator.user_id, "home")
