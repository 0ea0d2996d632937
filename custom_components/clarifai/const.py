"""Constants for the Clarifai integration."""

from datetime import timedelta
import logging
from typing import Final

DOMAIN: Final = "clarifai"
LOGGER = logging.getLogger(__package__)

DEFAULT_ENDPOINT: Final = "https://api.clarifai.com"

CONF_APP_ID: Final = "app_id"
CONF_ENDPOINT: Final = "endpoint"
CONF_RESULT_FORMAT: Final = "result_format"
CONF_USER_ID: Final = "user_id"
CONF_WORKFLOW_ID: Final = "workflow_id"

ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"

RESULT_FORMAT_FLAT: Final = "flat"
RESULT_FORMAT_NESTED: Final = "nested"
RESULT_FORMATS: Final = (RESULT_FORMAT_FLAT, RESULT_FORMAT_NESTED)
DEFAULT_RESULT_FORMAT: Final = RESULT_FORMAT_NESTED

EVENT_PREDICTION: Final = "clarifai.prediction"
SERVICE_PREDICT: Final = "predict"

# How long to wait for a camera to hand over its picture.
CAMERA_TIMEOUT: Final = 10

SCAN_INTERVAL: Final = timedelta(seconds=60)
