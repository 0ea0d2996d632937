"""Run the Clarifai emulator until interrupted: `python -m clarifai_emulator`."""

import argparse
import asyncio
import signal
import sys

from .emulator import ClarifaiEmulator
from .world import DEFAULT_ACCESS_TOKEN, DEFAULT_USER_ID


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m clarifai_emulator",
        description="Serve a local Clarifai gRPC API answering from fixtures.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=50051, help="0 picks a free port")
    parser.add_argument(
        "--token", default=DEFAULT_ACCESS_TOKEN, help="Personal Access Token accepted"
    )
    parser.add_argument(
        "--user-id", default=DEFAULT_USER_ID, help="user id owning the token"
    )
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds added to every call"
    )
    return parser.parse_args(argv)


async def serve(arguments: argparse.Namespace) -> None:
    """Serve until SIGINT or SIGTERM, then stop cleanly."""
    emulator = ClarifaiEmulator(
        access_token=arguments.token,
        user_id=arguments.user_id,
        latency=arguments.latency,
    )
    await emulator.start(host=arguments.host, port=arguments.port)

    print(f"Clarifai emulator listening on {emulator.endpoint}")
    print(f"  access token: {emulator.access_token}")
    print(f"  user id:      {emulator.user_id}")
    for app in emulator.apps:
        print(f"  app {app.user_id}/{app.app_id}: {', '.join(app.workflow_ids)}")
    sys.stdout.flush()

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stopping.set)
    try:
        await stopping.wait()
    finally:
        await emulator.stop()
    print("Clarifai emulator stopped")


def main(argv: list[str] | None = None) -> int:
    """Run the emulator from the command line."""
    arguments = parse_arguments(argv)
    try:
        asyncio.run(serve(arguments))
    except OSError as err:
        print(f"Cannot start the Clarifai emulator: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
