"""Set up a Clarifai account from the UI or from configuration.yaml."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, override

import probatio

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_ACCESS_TOKEN
from homeassistant.data_entry_flow import section
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.selector import (
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from .api import (
    ClarifaiAuthenticationError,
    ClarifaiClient,
    ClarifaiEndpoint,
    ClarifaiError,
    ClarifaiUser,
)
from .const import CONF_ENDPOINT, CONF_USER_ID, DEFAULT_ENDPOINT, DOMAIN, LOGGER

SECTION_ADVANCED = "advanced"
PAT_URL = "https://clarifai.com/settings/security"

_TOKEN_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))
_URL_SELECTOR = TextSelector(TextSelectorConfig(type=TextSelectorType.URL))


class _InvalidEndpointError(Exception):
    """The endpoint is not an http:// or https:// URL."""


async def _async_identify(data: Mapping[str, Any]) -> ClarifaiUser:
    """Ask Clarifai whose token this is; the channel is closed afterwards."""
    try:
        endpoint = ClarifaiEndpoint.from_url(data.get(CONF_ENDPOINT, DEFAULT_ENDPOINT))
    except ValueError as err:
        raise _InvalidEndpointError from err
    client = ClarifaiClient(data[CONF_ACCESS_TOKEN], endpoint, timeout=15)
    try:
        return await client.async_get_user()
    finally:
        await client.close()


def _entry_data(user_input: Mapping[str, Any]) -> dict[str, Any]:
    """Flatten the form (token plus the advanced section) into entry data."""
    data: dict[str, Any] = {
        CONF_ACCESS_TOKEN: user_input[CONF_ACCESS_TOKEN].strip(),
        CONF_ENDPOINT: DEFAULT_ENDPOINT,
    }
    advanced = {**user_input, **user_input.get(SECTION_ADVANCED, {})}
    if endpoint := (advanced.get(CONF_ENDPOINT) or "").strip():
        data[CONF_ENDPOINT] = endpoint.rstrip("/")
    if user_id := (advanced.get(CONF_USER_ID) or "").strip():
        data[CONF_USER_ID] = user_id
    return data


def _entry_title(account: ClarifaiUser) -> str:
    return account.full_name or account.user_id


class ClarifaiConfigFlow(ConfigFlow, domain=DOMAIN):
    """Ask for a Personal Access Token and check it with Clarifai."""

    VERSION = 1

    async def _async_validate(
        self, data: Mapping[str, Any], errors: dict[str, str]
    ) -> ClarifaiUser | None:
        """Return the token's account, or fill in why it could not be had."""
        try:
            return await _async_identify(data)
        except _InvalidEndpointError:
            errors["base"] = "invalid_endpoint"
        except ClarifaiAuthenticationError:
            errors["base"] = "invalid_auth"
        except ClarifaiError as err:
            LOGGER.debug("Clarifai did not answer the token check: %s", err)
            errors["base"] = "cannot_connect"
        return None

    @override
    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the token, and optionally the endpoint and owner."""
        errors: dict[str, str] = {}
        if user_input is not None:
            data = _entry_data(user_input)
            if account := await self._async_validate(data, errors):
                await self.async_set_unique_id(account.user_id)
                self._abort_if_unique_id_configured()
                return self.async_create_entry(title=_entry_title(account), data=data)

        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                _form_schema(), user_input or {}
            ),
            errors=errors,
            description_placeholders={"pat_url": PAT_URL},
        )

    async def async_step_import(self, import_data: dict[str, Any]) -> ConfigFlowResult:
        """Turn the documented clarifai: YAML into a config entry."""
        data = _entry_data(import_data)
        errors: dict[str, str] = {}
        account = await self._async_validate(data, errors)
        if account is None:
            reason = errors.get("base", "invalid_endpoint")
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                "yaml_import_failed",
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key=f"yaml_import_{reason}",
            )
            return self.async_abort(reason=reason)

        ir.async_delete_issue(self.hass, DOMAIN, "yaml_import_failed")
        if entry := await self.async_set_unique_id(account.user_id):
            # The YAML stays the source of truth for an imported account: what
            # is written there replaces the stored data, so an owner deleted
            # from it is forgotten rather than merged back in.
            return self.async_update_reload_and_abort(
                entry,
                data=data,
                reason="already_configured",
                reload_even_if_entry_is_unchanged=False,
            )
        return self.async_create_entry(title=_entry_title(account), data=data)

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Start asking for a new token after Clarifai refused the old one."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for a new token for the same account."""
        errors: dict[str, str] = {}
        entry = self._get_reauth_entry()
        if user_input is not None:
            token = user_input[CONF_ACCESS_TOKEN].strip()
            data = {**entry.data, CONF_ACCESS_TOKEN: token}
            if account := await self._async_validate(data, errors):
                await self.async_set_unique_id(account.user_id)
                self._abort_if_unique_id_mismatch(reason="wrong_account")
                return self.async_update_reload_and_abort(entry, data=data)

        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=probatio.Schema(
                {probatio.Required(CONF_ACCESS_TOKEN): _TOKEN_SELECTOR}
            ),
            errors=errors,
            description_placeholders={"account": entry.title, "pat_url": PAT_URL},
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the token, the endpoint or the default owner."""
        errors: dict[str, str] = {}
        entry = self._get_reconfigure_entry()
        if user_input is not None:
            data = _entry_data(user_input)
            if account := await self._async_validate(data, errors):
                await self.async_set_unique_id(account.user_id)
                self._abort_if_unique_id_mismatch(reason="wrong_account")
                return self.async_update_reload_and_abort(entry, data=data)

        suggested = user_input or {
            CONF_ACCESS_TOKEN: entry.data[CONF_ACCESS_TOKEN],
            SECTION_ADVANCED: {
                CONF_ENDPOINT: entry.data.get(CONF_ENDPOINT, DEFAULT_ENDPOINT),
                CONF_USER_ID: entry.data.get(CONF_USER_ID, ""),
            },
        }
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(_form_schema(), suggested),
            errors=errors,
            description_placeholders={"account": entry.title},
        )


def _form_schema() -> probatio.Schema:
    """Return the token field and the collapsed advanced settings."""
    return probatio.Schema(
        {
            probatio.Required(CONF_ACCESS_TOKEN): _TOKEN_SELECTOR,
            probatio.Required(SECTION_ADVANCED): section(
                probatio.Schema(
                    {
                        probatio.Optional(CONF_ENDPOINT): _URL_SELECTOR,
                        probatio.Optional(CONF_USER_ID): TextSelector(),
                    }
                ),
                {"collapsed": True},
            ),
        }
    )
