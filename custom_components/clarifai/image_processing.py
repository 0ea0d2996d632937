"""Scan cameras with a Clarifai workflow on an interval."""

from __future__ import annotations

from datetime import datetime
from typing import Any, override

from homeassistant.components.image_processing import (
    PLATFORM_SCHEMA as IMAGE_PROCESSING_PLATFORM_SCHEMA,
    ImageProcessingEntity,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_ENTITY_ID, CONF_NAME, CONF_SOURCE
from homeassistant.core import HomeAssistant, split_entity_id
from homeassistant.exceptions import HomeAssistantError, PlatformNotReady
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.helpers.typing import ConfigType, DiscoveryInfoType
from homeassistant.util import dt as dt_util

from .const import (
    CONF_APP_ID,
    CONF_RESULT_FORMAT,
    CONF_USER_ID,
    CONF_WORKFLOW_ID,
    DOMAIN,
    LOGGER,
    RESULT_FORMAT_FLAT,
    SCAN_INTERVAL as DEFAULT_SCAN_INTERVAL,
)
from .formatting import flatten_workflow_result
from .models import ClarifaiConfigEntry
from .prediction import (
    WorkflowTarget,
    async_fetch_camera_image,
    async_run_workflow,
    fire_prediction_event,
    held_back_error,
)
from .schema import WORKFLOW_FIELDS

PLATFORM_SCHEMA = IMAGE_PROCESSING_PLATFORM_SCHEMA.extend(WORKFLOW_FIELDS)

# Clarifai's free plan counts requests per month; a minute between scans is
# a safe default when the configuration names no scan_interval.
SCAN_INTERVAL = DEFAULT_SCAN_INTERVAL
# Each camera waits on the network, not on the CPU: scan them all at once.
PARALLEL_UPDATES = 0

ATTR_CONCEPTS = "concepts"
ATTR_REGIONS = "regions"
ATTR_REGION_COUNT = "region_count"
ATTR_LAST_PREDICTION = "last_prediction"
ATTR_FAILED_OUTPUTS = "failed_outputs"


async def async_setup_platform(
    hass: HomeAssistant,
    config: ConfigType,
    async_add_entities: AddEntitiesCallback,
    discovery_info: DiscoveryInfoType | None = None,
) -> None:
    """Create one entity per camera source, using the Clarifai account."""
    entry = await _async_get_loaded_entry(hass)
    target = WorkflowTarget(
        user_id=config.get(CONF_USER_ID) or entry.runtime_data.default_user_id,
        app_id=config[CONF_APP_ID],
        workflow_id=config[CONF_WORKFLOW_ID],
        result_format=config[CONF_RESULT_FORMAT],
    )
    async_add_entities(
        ClarifaiImageProcessingEntity(
            entry, target, source[CONF_ENTITY_ID], source.get(CONF_NAME)
        )
        for source in config.get(CONF_SOURCE, [])
    )


async def _async_get_loaded_entry(hass: HomeAssistant) -> ClarifaiConfigEntry:
    """Return the loaded Clarifai entry, waiting for one that is starting.

    A YAML platform cannot be tied to a config entry, so it borrows the
    account of the clarifai entry. At start-up that entry may still be
    loading; when there is none yet, Home Assistant retries the platform.
    """
    await hass.config_entries.flow.async_wait_import_flow_initialized(DOMAIN)
    for entry in hass.config_entries.async_entries(DOMAIN):
        await hass.config_entries.async_wait_component(entry)
    entries: list[ClarifaiConfigEntry] = hass.config_entries.async_loaded_entries(
        DOMAIN
    )
    if not entries:
        raise PlatformNotReady(
            translation_domain=DOMAIN, translation_key="no_loaded_entry"
        )
    return entries[0]


class ClarifaiImageProcessingEntity(ImageProcessingEntity):
    """A camera watched by a Clarifai workflow.

    The state is the most confident concept of the last answer; the
    attributes hold every concept and region, in the flat format.
    """

    # Concepts and regions change with every scan and can be large; the
    # recorder keeps the state and the count, not the full answer.
    _unrecorded_attributes = frozenset({ATTR_CONCEPTS, ATTR_REGIONS})

    def __init__(
        self,
        entry: ClarifaiConfigEntry,
        target: WorkflowTarget,
        camera_entity: str,
        name: str | None,
    ) -> None:
        """Watch one camera with one workflow."""
        self._entry = entry
        self._target = target
        self._camera = camera_entity
        self._attr_camera_entity = camera_entity
        self._attr_name = name or f"Clarifai {split_entity_id(camera_entity)[1]}"
        self._attr_unique_id = "-".join(
            (
                entry.unique_id or entry.entry_id,
                target.user_id,
                target.app_id,
                target.workflow_id,
                camera_entity,
            )
        )
        self._concepts: dict[str, list[float]] = {}
        self._regions: list[dict[str, Any]] = []
        self._failed_outputs: list[dict[str, Any]] = []
        self._last_prediction: datetime | None = None
        self._top_concept: str | None = None
        # Translation key of the failure the last scan ended with.
        self._scan_error: str | None = None

    @property
    @override
    def state(self) -> str | None:
        """Return the most confident concept of the last answer."""
        return self._top_concept

    @property
    @override
    def extra_state_attributes(self) -> dict[str, Any]:
        """Return the last answer in the flat format, and when it came."""
        attributes: dict[str, Any] = {
            CONF_APP_ID: self._target.app_id,
            CONF_WORKFLOW_ID: self._target.workflow_id,
            ATTR_CONCEPTS: self._concepts,
            ATTR_REGIONS: self._regions,
            ATTR_REGION_COUNT: len(self._regions),
            ATTR_LAST_PREDICTION: self._last_prediction,
        }
        if self._failed_outputs:
            attributes[ATTR_FAILED_OUTPUTS] = self._failed_outputs
        return attributes

    @property
    @override
    def available(self) -> bool:
        """Return False while the token is refused or Clarifai cannot be reached."""
        if self._entry.state is not ConfigEntryState.LOADED:
            return False
        return self._attr_available and not self._entry.runtime_data.auth_failed

    @override
    async def async_update(self) -> None:
        """Send the camera's image to the workflow and fire the event."""
        if self._entry.state is not ConfigEntryState.LOADED:
            return
        # Skipped scans cost nothing: the reauth flow or the repair issue
        # already tells the user why nothing is sent.
        if held_back_error(self._entry) is not None:
            return

        camera = self._camera
        try:
            image = await async_fetch_camera_image(self.hass, camera)
            result = await async_run_workflow(
                self.hass, self._entry, self._target, camera, image
            )
        except HomeAssistantError as err:
            self._async_scan_failed(
                err, connection_lost=self._entry.runtime_data.connection_lost
            )
            return

        if self._scan_error is not None:
            LOGGER.info("Scans of %s work again", camera)
            self._scan_error = None
        self._attr_available = True
        formatted = fire_prediction_event(self.hass, camera, self._target, result)
        if self._target.result_format == RESULT_FORMAT_FLAT:
            flat = formatted
        else:
            flat = flatten_workflow_result(result)

        self._concepts = flat["concepts"]
        self._regions = flat["regions"]
        self._failed_outputs = formatted.get(ATTR_FAILED_OUTPUTS, [])
        self._last_prediction = dt_util.utcnow()
        self._top_concept = max(
            self._concepts, key=lambda name: max(self._concepts[name]), default=None
        )

    def _async_scan_failed(
        self, err: HomeAssistantError, *, connection_lost: bool
    ) -> None:
        """Go unavailable without a connection; log each new reason once."""
        self._attr_available = not connection_lost
        # The lost connection is logged once for the whole account, and the
        # same failure every interval would only bury the first report.
        if connection_lost or err.translation_key == self._scan_error:
            LOGGER.debug("Scan of %s failed again: %s", self._camera, err)
            return
        LOGGER.warning("Scan of %s failed: %s", self._camera, err)
        self._scan_error = err.translation_key
