"""Adding, importing, re-authenticating and reconfiguring a Clarifai account."""

from collections.abc import AsyncGenerator, Awaitable, Callable
import gc
from typing import Any

from clarifai_grpc.grpc.api import service_pb2
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from clarifai_emulator import ClarifaiEmulator, RecordedRequest
from custom_components.clarifai.const import CONF_ENDPOINT, CONF_USER_ID, DOMAIN
from homeassistant.config_entries import (
    SOURCE_IMPORT,
    SOURCE_REAUTH,
    SOURCE_USER,
    ConfigEntryState,
    ConfigFlowResult,
)
from homeassistant.const import CONF_ACCESS_TOKEN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, section
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.translation import async_get_translations
from homeassistant.setup import async_setup_component

from .conftest import entry_data
from .helpers import emulator_entry

ADVANCED = "advanced"
OTHER_USER_ID = "someone-else"
OTHER_TOKEN = "someone-else-pat-1111111111"  # noqa: S105
NEW_TOKEN = "emulator-pat-rotated-2222222"  # noqa: S105
BAD_TOKEN = "not-a-token"  # noqa: S105
IMPORT_ISSUE = "yaml_import_failed"

type EmulatorFactory = Callable[..., Awaitable[ClarifaiEmulator]]


@pytest.fixture
async def start_emulator() -> AsyncGenerator[EmulatorFactory]:
    """Start further emulators (other accounts, other ports); stop them after."""
    started: list[ClarifaiEmulator] = []

    async def start(*, port: int = 0, **world: Any) -> ClarifaiEmulator:
        clarifai = ClarifaiEmulator(**world)
        started.append(clarifai)
        await clarifai.start(host="127.0.0.1", port=port)
        return clarifai

    yield start
    for clarifai in started:
        await clarifai.stop()


@pytest.fixture
async def silent_endpoint(start_emulator: EmulatorFactory) -> str:
    """Return the URL of a loopback port nobody listens on (any longer)."""
    clarifai = await start_emulator()
    await clarifai.stop()
    return clarifai.endpoint


async def restart(clarifai: ClarifaiEmulator) -> None:
    """Bring a stopped emulator back on its port, as a rebooted server would."""
    # grpc keeps a failed connection, and its reconnect backoff, in a pool
    # shared by every channel to that address until the closed channel is
    # garbage collected; a client opened right after the restart would
    # inherit the backoff and fail. See the note on api.py in the report.
    gc.collect()
    await clarifai.start()


def get_user_calls(clarifai: ClarifaiEmulator) -> list[RecordedRequest]:
    """Return the token checks the emulator answered."""
    return clarifai.requests_for("GetUser")


async def submit_form(
    hass: HomeAssistant,
    flow_id: str,
    token: str,
    endpoint: str | None = None,
    user_id: str | None = None,
) -> ConfigFlowResult:
    """Fill in the user or reconfigure form, advanced section included, and submit."""
    advanced: dict[str, str] = {}
    if endpoint is not None:
        advanced[CONF_ENDPOINT] = endpoint
    if user_id is not None:
        advanced[CONF_USER_ID] = user_id
    return await hass.config_entries.flow.async_configure(
        flow_id, {CONF_ACCESS_TOKEN: token, ADVANCED: advanced}
    )


async def start_user_flow(hass: HomeAssistant) -> str:
    """Open the add-integration dialog and return the flow id."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    return result["flow_id"]


async def setup_yaml(hass: HomeAssistant, config: dict[str, Any]) -> bool:
    """Start Home Assistant with a clarifai: block in configuration.yaml."""
    result = await async_setup_component(hass, DOMAIN, {DOMAIN: config})
    await hass.async_block_till_done()
    return result


async def issue_translation(hass: HomeAssistant, translation_key: str) -> str:
    """Return the English title of a repair issue of this integration."""
    translations = await async_get_translations(hass, "en", "issues", [DOMAIN])
    return translations[f"component.{DOMAIN}.issues.{translation_key}.title"]


def suggested_values(schema: Any) -> dict[str, Any]:
    """Return what a form shows pre-filled, section by section."""
    shown: dict[str, Any] = {}
    for key, value in schema.schema.items():
        if isinstance(value, section):
            shown[str(key)] = suggested_values(value.schema)
        elif key.description and "suggested_value" in key.description:
            shown[str(key)] = key.description["suggested_value"]
    return shown


def reauth_flows(hass: HomeAssistant, entry: MockConfigEntry) -> list[Any]:
    """Return the reauthentication flows open for an entry."""
    return list(entry.async_get_active_flows(hass, {SOURCE_REAUTH}))


# --- Adding an account from the UI ------------------------------------------


async def test_user_step_creates_the_account(
    hass: HomeAssistant, emulator: ClarifaiEmulator
) -> None:
    """A working token becomes an entry named after its account, and loads."""
    flow_id = await start_user_flow(hass)

    result = await submit_form(
        hass, flow_id, emulator.access_token, endpoint=emulator.endpoint
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Emulator User"
    assert result["data"] == entry_data(emulator)
    entry = result["result"]
    assert entry.unique_id == emulator.user_id
    assert entry.state is ConfigEntryState.LOADED
    # The flow asked who owns the token, with the token, before saving it.
    check = get_user_calls(emulator)[0]
    assert isinstance(check.message, service_pb2.GetUserRequest)
    assert check.message.user_app_id.user_id == "me"
    assert check.token == emulator.access_token


async def test_user_step_advanced_section(
    hass: HomeAssistant, start_emulator: EmulatorFactory
) -> None:
    """Endpoint and owner are tidied; a nameless account is titled by its id."""
    clarifai = await start_emulator(user_first_name="", user_last_name="")
    flow_id = await start_user_flow(hass)

    result = await submit_form(
        hass,
        flow_id,
        f"  {clarifai.access_token}\n",
        endpoint=f" {clarifai.endpoint}/ ",
        user_id=" clarifai ",
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == clarifai.user_id
    assert result["data"] == {
        CONF_ACCESS_TOKEN: clarifai.access_token,
        CONF_ENDPOINT: clarifai.endpoint,
        CONF_USER_ID: "clarifai",
    }
    assert result["result"].runtime_data.default_user_id == "clarifai"


async def test_user_step_invalid_token_then_recovers(
    hass: HomeAssistant, emulator: ClarifaiEmulator
) -> None:
    """A refused token shows invalid_auth; the same dialog then takes a good one."""
    flow_id = await start_user_flow(hass)

    result = await submit_form(hass, flow_id, BAD_TOKEN, endpoint=emulator.endpoint)

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}
    assert get_user_calls(emulator)[-1].token == BAD_TOKEN
    assert hass.config_entries.async_entries(DOMAIN) == []

    result = await submit_form(
        hass, flow_id, emulator.access_token, endpoint=emulator.endpoint
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_ACCESS_TOKEN] == emulator.access_token


async def test_user_step_emulator_stopped(
    hass: HomeAssistant, emulator: ClarifaiEmulator
) -> None:
    """An endpoint that does not answer shows cannot_connect and saves nothing."""
    await emulator.stop()
    flow_id = await start_user_flow(hass)

    result = await submit_form(
        hass, flow_id, emulator.access_token, endpoint=emulator.endpoint
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}
    assert hass.config_entries.async_entries(DOMAIN) == []

    await restart(emulator)
    result = await submit_form(
        hass, flow_id, emulator.access_token, endpoint=emulator.endpoint
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize("token", ["", "   ", "tökén", "two\nlines", "tab\there"])
async def test_user_step_unusable_token(
    hass: HomeAssistant, emulator: ClarifaiEmulator, token: str
) -> None:
    """A blank token or one no header can carry is refused, not sent."""
    flow_id = await start_user_flow(hass)

    result = await submit_form(hass, flow_id, token, endpoint=emulator.endpoint)

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}
    assert emulator.requests == []


async def test_user_step_blank_token_with_default_endpoint(
    hass: HomeAssistant,
) -> None:
    """A blank token is refused before Clarifai's cloud would be asked."""
    flow_id = await start_user_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_ACCESS_TOKEN: " ", ADVANCED: {}}
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}


async def test_user_step_nobody_listening(
    hass: HomeAssistant, silent_endpoint: str
) -> None:
    """A port without a server shows cannot_connect."""
    flow_id = await start_user_flow(hass)

    result = await submit_form(hass, flow_id, "any-token", endpoint=silent_endpoint)

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}


async def test_user_step_api_failure_is_cannot_connect(
    hass: HomeAssistant, emulator: ClarifaiEmulator
) -> None:
    """A Clarifai failure that is not about the token shows cannot_connect."""
    emulator.fail_next(98004, rpc="GetUser")  # Internal server issue
    flow_id = await start_user_flow(hass)

    result = await submit_form(
        hass, flow_id, emulator.access_token, endpoint=emulator.endpoint
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}


@pytest.mark.parametrize(
    "endpoint",
    ["ftp://x", "http://host/path", "https://", "api.clarifai.com", "http://h:1?q=1"],
)
async def test_user_step_malformed_endpoint(
    hass: HomeAssistant, emulator: ClarifaiEmulator, endpoint: str
) -> None:
    """An endpoint that is not a bare http(s) URL is refused before any call."""
    flow_id = await start_user_flow(hass)

    result = await submit_form(hass, flow_id, emulator.access_token, endpoint=endpoint)

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_endpoint"}
    assert emulator.requests == []


async def test_user_step_same_account_twice(
    hass: HomeAssistant, emulator: ClarifaiEmulator, init_integration: MockConfigEntry
) -> None:
    """Adding an account that is already set up aborts and changes nothing."""
    flow_id = await start_user_flow(hass)

    result = await submit_form(
        hass, flow_id, emulator.access_token, endpoint=emulator.endpoint
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert hass.config_entries.async_entries(DOMAIN) == [init_integration]


async def test_user_step_second_account(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    start_emulator: EmulatorFactory,
) -> None:
    """A token of another account adds a second entry beside the first."""
    other = await start_emulator(
        user_id=OTHER_USER_ID, access_token=OTHER_TOKEN, user_first_name="Other"
    )
    flow_id = await start_user_flow(hass)

    result = await submit_form(hass, flow_id, OTHER_TOKEN, endpoint=other.endpoint)
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Other User"
    assert result["result"].unique_id == OTHER_USER_ID
    assert len(hass.config_entries.async_entries(DOMAIN)) == 2


# --- Importing configuration.yaml -------------------------------------------


async def test_import_creates_the_account(
    hass: HomeAssistant, emulator: ClarifaiEmulator
) -> None:
    """The documented clarifai: block becomes a loaded entry."""
    assert await setup_yaml(hass, entry_data(emulator))

    [entry] = hass.config_entries.async_entries(DOMAIN)
    assert entry.source == SOURCE_IMPORT
    assert entry.title == "Emulator User"
    assert entry.unique_id == emulator.user_id
    assert entry.data == entry_data(emulator)
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.default_user_id == emulator.user_id


async def test_import_with_owner(
    hass: HomeAssistant, emulator: ClarifaiEmulator
) -> None:
    """The optional user_id and endpoint are kept, tidied as the UI does."""
    assert await setup_yaml(
        hass,
        {
            CONF_ACCESS_TOKEN: f" {emulator.access_token} ",
            CONF_ENDPOINT: f"{emulator.endpoint}/",
            CONF_USER_ID: "clarifai",
        },
    )

    [entry] = hass.config_entries.async_entries(DOMAIN)
    assert entry.data == {**entry_data(emulator), CONF_USER_ID: "clarifai"}
    assert entry.runtime_data.default_user_id == "clarifai"


async def test_import_new_token_updates_the_entry(
    hass: HomeAssistant, emulator: ClarifaiEmulator
) -> None:
    """A token changed in YAML replaces the stored one, and the entry reloads."""
    stored = emulator_entry(emulator, source=SOURCE_IMPORT)
    stored.add_to_hass(hass)
    # The user rotated the token in Clarifai, then in configuration.yaml.
    emulator.access_token = NEW_TOKEN

    assert await setup_yaml(
        hass, {CONF_ACCESS_TOKEN: NEW_TOKEN, CONF_ENDPOINT: emulator.endpoint}
    )

    assert hass.config_entries.async_entries(DOMAIN) == [stored]
    assert stored.data[CONF_ACCESS_TOKEN] == NEW_TOKEN
    # Checked once by the import, then set up once, both with the new token.
    assert [call.token for call in get_user_calls(emulator)] == [NEW_TOKEN] * 2
    assert stored.state is ConfigEntryState.LOADED
    assert reauth_flows(hass, stored) == []


async def test_import_removed_owner_is_forgotten(
    hass: HomeAssistant, emulator: ClarifaiEmulator
) -> None:
    """A user_id deleted from YAML no longer applies after the next start."""
    stored = emulator_entry(emulator, source=SOURCE_IMPORT, user_id="clarifai")
    stored.add_to_hass(hass)

    assert await setup_yaml(hass, entry_data(emulator))

    assert stored.data == entry_data(emulator)
    assert stored.state is ConfigEntryState.LOADED
    assert stored.runtime_data.default_user_id == emulator.user_id


@pytest.mark.parametrize(
    ("token", "stop", "reason"),
    [
        (BAD_TOKEN, False, "invalid_auth"),
        (None, True, "cannot_connect"),
    ],
)
async def test_import_failure_raises_a_repair_issue(
    hass: HomeAssistant,
    emulator: ClarifaiEmulator,
    issue_registry: ir.IssueRegistry,
    *,
    token: str | None,
    stop: bool,
    reason: str,
) -> None:
    """A YAML token that cannot be checked leaves a translated repair issue."""
    if stop:
        await emulator.stop()
    config = {**entry_data(emulator), CONF_ACCESS_TOKEN: token or emulator.access_token}

    assert await setup_yaml(hass, config)

    assert hass.config_entries.async_entries(DOMAIN) == []
    issue = issue_registry.async_get_issue(DOMAIN, IMPORT_ISSUE)
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR
    assert issue.translation_key == f"yaml_import_{reason}"
    assert await issue_translation(hass, issue.translation_key)

    # The next start, with the problem fixed, imports and clears the issue.
    if stop:
        await restart(emulator)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_IMPORT}, data=entry_data(emulator)
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert issue_registry.async_get_issue(DOMAIN, IMPORT_ISSUE) is None


async def test_import_invalid_endpoint_raises_a_repair_issue(
    hass: HomeAssistant, emulator: ClarifaiEmulator, issue_registry: ir.IssueRegistry
) -> None:
    """An import whose endpoint is not a URL aborts with its own issue."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_IMPORT},
        data={CONF_ACCESS_TOKEN: emulator.access_token, CONF_ENDPOINT: "ftp://x"},
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "invalid_endpoint"
    issue = issue_registry.async_get_issue(DOMAIN, IMPORT_ISSUE)
    assert issue is not None
    assert issue.translation_key == "yaml_import_invalid_endpoint"
    assert await issue_translation(hass, issue.translation_key)
    assert emulator.requests == []


@pytest.mark.parametrize(
    "config",
    [
        {CONF_ACCESS_TOKEN: ""},
        {CONF_ACCESS_TOKEN: "   "},
        {},
        {CONF_ACCESS_TOKEN: "token", CONF_ENDPOINT: "http://host/path"},
        {CONF_ACCESS_TOKEN: "token", CONF_USER_ID: ""},
    ],
)
async def test_import_schema_errors_fail_setup(
    hass: HomeAssistant, emulator: ClarifaiEmulator, config: dict[str, Any]
) -> None:
    """A clarifai: block that breaks the schema sets nothing up and asks nobody."""
    if CONF_ENDPOINT not in config:
        config = {**config, CONF_ENDPOINT: emulator.endpoint}

    assert not await setup_yaml(hass, config)

    assert hass.config_entries.async_entries(DOMAIN) == []
    assert emulator.requests == []


# --- Re-authentication ------------------------------------------------------


async def test_reauth_with_new_token(
    hass: HomeAssistant, emulator: ClarifaiEmulator, init_integration: MockConfigEntry
) -> None:
    """A new token for the same account is stored and the entry reloads."""
    emulator.access_token = NEW_TOKEN
    result = await init_integration.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"]["account"] == "Emulator User"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ACCESS_TOKEN: f"{NEW_TOKEN}\n"}
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert init_integration.data == {
        CONF_ACCESS_TOKEN: NEW_TOKEN,
        CONF_ENDPOINT: emulator.endpoint,
    }
    assert init_integration.state is ConfigEntryState.LOADED
    assert get_user_calls(emulator)[-1].token == NEW_TOKEN


async def test_reauth_after_clarifai_refused_the_token(
    hass: HomeAssistant, emulator: ClarifaiEmulator, config_entry: MockConfigEntry
) -> None:
    """A token refused at start opens a reauth flow that brings the entry back."""
    emulator.fail_next(11008)  # CONN_KEY_INVALID
    config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    [flow] = reauth_flows(hass, config_entry)

    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_ACCESS_TOKEN: "still-wrong"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}

    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_ACCESS_TOKEN: emulator.access_token}
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert config_entry.state is ConfigEntryState.LOADED


async def test_reauth_endpoint_down(
    hass: HomeAssistant, emulator: ClarifaiEmulator, init_integration: MockConfigEntry
) -> None:
    """A reauth that cannot reach Clarifai says so and keeps the old token."""
    result = await init_integration.start_reauth_flow(hass)
    await emulator.stop()

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ACCESS_TOKEN: NEW_TOKEN}
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}
    assert init_integration.data == entry_data(emulator)


async def test_reauth_token_of_another_account(
    hass: HomeAssistant,
    emulator: ClarifaiEmulator,
    init_integration: MockConfigEntry,
    start_emulator: EmulatorFactory,
) -> None:
    """A token of a different account is refused and nothing changes."""
    result = await init_integration.start_reauth_flow(hass)
    # The same endpoint now answers for another account.
    await emulator.stop()
    other = await start_emulator(
        port=emulator.port, user_id=OTHER_USER_ID, access_token=OTHER_TOKEN
    )

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_ACCESS_TOKEN: OTHER_TOKEN}
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert init_integration.data == entry_data(emulator)
    assert get_user_calls(other)[0].token == OTHER_TOKEN


# --- Reconfiguring ----------------------------------------------------------


async def test_reconfigure_form_shows_current_settings(
    hass: HomeAssistant, emulator: ClarifaiEmulator, init_integration: MockConfigEntry
) -> None:
    """The dialog opens with the stored endpoint and owner filled in."""
    result = await init_integration.start_reconfigure_flow(hass)

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["description_placeholders"] == {"account": "Emulator User"}
    assert suggested_values(result["data_schema"]) == {
        CONF_ACCESS_TOKEN: emulator.access_token,
        ADVANCED: {CONF_ENDPOINT: emulator.endpoint, CONF_USER_ID: ""},
    }


async def test_reconfigure_changes_endpoint_and_owner(
    hass: HomeAssistant,
    emulator: ClarifaiEmulator,
    init_integration: MockConfigEntry,
    start_emulator: EmulatorFactory,
) -> None:
    """A new endpoint, token and owner of the same account are stored and used."""
    moved = await start_emulator(access_token=NEW_TOKEN)
    result = await init_integration.start_reconfigure_flow(hass)

    result = await submit_form(
        hass, result["flow_id"], NEW_TOKEN, endpoint=moved.endpoint, user_id="clarifai"
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert init_integration.data == {
        CONF_ACCESS_TOKEN: NEW_TOKEN,
        CONF_ENDPOINT: moved.endpoint,
        CONF_USER_ID: "clarifai",
    }
    # Reloaded against the new endpoint: one check by the flow, one at setup.
    assert init_integration.state is ConfigEntryState.LOADED
    assert [call.token for call in get_user_calls(moved)] == [NEW_TOKEN, NEW_TOKEN]
    assert init_integration.runtime_data.default_user_id == "clarifai"


async def test_reconfigure_clears_the_owner(
    hass: HomeAssistant, emulator: ClarifaiEmulator
) -> None:
    """Emptying the default owner falls back to the token's account."""
    entry = emulator_entry(emulator, user_id="clarifai")
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    result = await entry.start_reconfigure_flow(hass)

    result = await submit_form(
        hass,
        result["flow_id"],
        emulator.access_token,
        endpoint=emulator.endpoint,
        user_id="",
    )
    await hass.async_block_till_done()

    assert result["reason"] == "reconfigure_successful"
    assert entry.data == entry_data(emulator)
    assert entry.runtime_data.default_user_id == emulator.user_id


async def test_reconfigure_another_account(
    hass: HomeAssistant,
    emulator: ClarifaiEmulator,
    init_integration: MockConfigEntry,
    start_emulator: EmulatorFactory,
) -> None:
    """Pointing the entry at another account is refused and changes nothing."""
    other = await start_emulator(user_id=OTHER_USER_ID, access_token=OTHER_TOKEN)
    result = await init_integration.start_reconfigure_flow(hass)

    result = await submit_form(
        hass, result["flow_id"], OTHER_TOKEN, endpoint=other.endpoint
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert init_integration.data == entry_data(emulator)


@pytest.mark.parametrize(
    ("token", "endpoint", "error"),
    [
        (BAD_TOKEN, None, "invalid_auth"),
        (None, "ftp://x", "invalid_endpoint"),
        (None, "silent", "cannot_connect"),
    ],
)
async def test_reconfigure_errors_then_recovers(
    hass: HomeAssistant,
    emulator: ClarifaiEmulator,
    init_integration: MockConfigEntry,
    silent_endpoint: str,
    *,
    token: str | None,
    endpoint: str | None,
    error: str,
) -> None:
    """A bad change shows an error, keeps the entry, and can be corrected."""
    result = await init_integration.start_reconfigure_flow(hass)
    flow_id = result["flow_id"]

    result = await submit_form(
        hass,
        flow_id,
        token or emulator.access_token,
        endpoint=(
            silent_endpoint if endpoint == "silent" else endpoint or emulator.endpoint
        ),
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    assert init_integration.data == entry_data(emulator)
    assert init_integration.state is ConfigEntryState.LOADED

    result = await submit_form(
        hass, flow_id, emulator.access_token, endpoint=emulator.endpoint
    )
    await hass.async_block_till_done()

    assert result["reason"] == "reconfigure_successful"
