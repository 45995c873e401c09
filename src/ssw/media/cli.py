"""`ssw media-server`: run the media server process (see docs/MEDIA.md)."""

from __future__ import annotations

import argparse
from typing import Any

from ssw.media.server import add_arguments, run

__all__ = ["register"]


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``media-server`` subcommand; it sets ``func(args) -> int``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "media-server", help="run the media server (RTP relay, announcements, recording, "
                             "conferences)",
        description="Run the media server in its own process, controlled over a local socket "
                    "(JSON lines, docs/MEDIA.md).")
    add_arguments(parser)
    parser.set_defaults(func=run)
    return parser
