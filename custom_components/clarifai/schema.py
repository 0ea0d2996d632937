"""Schemas shared by the YAML configuration, the action and the platform."""

from __future__ import annotations

from typing import Any

import probatio

from homeassistant.const import CONF_ACCESS_TOKEN
from homeassistant.helpers import config_validation as cv

from .api import ClarifaiEndpoint
from .const import (
    CONF_APP_ID,
    CONF_ENDPOINT,
    CONF_RESULT_FORMAT,
    CONF_USER_ID,
    CONF_WORKFLOW_ID,
    DEFAULT_RESULT_FORMAT,
    DOMAIN,
    RESULT_FORMATS,
)


def endpoint_url(value: Any) -> str:
    """Accept an http:// or https:// URL naming only a host and a port."""
    url = cv.string(value).strip()
    try:
        ClarifaiEndpoint.from_url(url)
    except ValueError as err:
        raise probatio.Invalid(
            "expected a URL such as https://api.clarifai.com or http://host:port"
        ) from err
    return url.rstrip("/")


def clarifai_id(value: Any) -> str:
    """Accept a non-empty Clarifai id (user, app or workflow)."""
    text = cv.string(value).strip()
    if not text:
        raise probatio.Invalid("must not be empty")
    return text


RESULT_FORMAT_SCHEMA = probatio.All(
    cv.string, probatio.Lower, probatio.In(RESULT_FORMATS)
)

CONFIG_SCHEMA = probatio.Schema(
    {
        DOMAIN: probatio.Schema(
            {
                probatio.Required(CONF_ACCESS_TOKEN): probatio.All(
                    cv.string, probatio.Strip, probatio.Length(min=1)
                ),
                probatio.Optional(CONF_USER_ID): clarifai_id,
                probatio.Optional(CONF_ENDPOINT): endpoint_url,
            }
        )
    },
    extra=probatio.ALLOW_EXTRA,
)

# Keys the action and the image processing platform have in common.
WORKFLOW_FIELDS: dict[Any, Any] = {
    probatio.Required(CONF_APP_ID): clarifai_id,
    probatio.Required(CONF_WORKFLOW_ID): clarifai_id,
    probatio.Optional(
        CONF_RESULT_FORMAT, default=DEFAULT_RESULT_FORMAT
    ): RESULT_FORMAT_SCHEMA,
    probatio.Optional(CONF_USER_ID): clarifai_id,
}
