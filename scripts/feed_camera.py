"""Post Home Assistant's demo photos to a push camera's webhook, one every few seconds.

scripts/develop runs this so that the development instance's camera always
has a real JPEG for Clarifai to look at. The photos are the ones Home Assistant
ships with its demo integration, read from the installed package.
"""

import argparse
from collections.abc import Iterator
from importlib.util import find_spec
from itertools import cycle
from pathlib import Path
import signal
import sys
import threading
import urllib.request
import uuid

BOUNDARY = f"clarifai-dev-{uuid.uuid4().hex}"


def demo_photos() -> list[Path]:
    """Find the JPEGs shipped in Home Assistant's demo integration."""
    spec = find_spec("homeassistant")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("feed_camera: homeassistant is not installed in this Python")
    demo = Path(next(iter(spec.submodule_search_locations)), "components", "demo")
    photos = sorted(demo.glob("demo_*.jpg"))
    if not photos:
        sys.exit(f"feed_camera: no demo_*.jpg in {demo}")
    return photos


def multipart_body(field: str, photo: Path) -> bytes:
    """Encode one file as the multipart/form-data body the push camera reads."""
    head = (
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="{field}"; filename="{photo.name}"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    return head + photo.read_bytes() + f"\r\n--{BOUNDARY}--\r\n".encode()


def post_photo(url: str, field: str, photo: Path) -> None:
    """Send one photo; a Home Assistant that is still starting is not an error."""
    request = urllib.request.Request(  # noqa: S310 - the URL is built from --url
        url,
        data=multipart_body(field, photo),
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10):  # noqa: S310
            pass
    except OSError:  # also covers HTTPError and URLError
        return


def feed(url: str, field: str, interval: float, photos: Iterator[Path]) -> None:
    """Post photos in turn until SIGINT or SIGTERM."""
    stopping = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: stopping.set())

    while not stopping.is_set():
        post_photo(url, field, next(photos))
        stopping.wait(interval)


def main() -> None:
    """Read the command line and feed the camera."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True, help="the push camera's webhook URL")
    parser.add_argument("--field", default="image", help="multipart field name")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds")
    arguments = parser.parse_args()

    photos = demo_photos()
    print(f"feeding {arguments.url} with {', '.join(photo.name for photo in photos)}")
    sys.stdout.flush()
    feed(arguments.url, arguments.field, arguments.interval, cycle(photos))


if __name__ == "__main__":
    main()
