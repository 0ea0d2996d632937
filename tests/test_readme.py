"""The README's examples work when pasted into Home Assistant."""

from pathlib import Path
import re
from typing import Any

from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_mock_service,
)
import yaml

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

README = Path(__file__).parent.parent / "README.md"


def readme_yaml_block(starting_with: str) -> dict[str, Any]:
    """Return the README's YAML code block whose first line is given."""
    for block in re.findall(r"```yaml\n(.*?)```", README.read_text(), re.DOTALL):
        if block.startswith(starting_with):
            parsed: dict[str, Any] = yaml.safe_load(block)
            return parsed
    raise AssertionError(f"README has no YAML block starting with {starting_with}")


async def test_script_with_response_variable(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The script example lists the concepts seen with more than 80% confidence."""
    notify = async_mock_service(hass, "notify", "notify")
    assert await async_setup_component(hass, "script", readme_yaml_block("script:"))

    await hass.services.async_call("script", "who_is_at_the_door", blocking=True)

    [call] = notify
    message = " ".join(call.data["message"].split())
    # The emulator's Face workflow: a face detector, then Test 0.97, Carol
    # 0.93 and Bob 0.88 among the recognised names; Alice stays below 0.8.
    assert message == "Seen at the door: face, Test, Bob, Carol"
