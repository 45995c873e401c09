"""What a media server is built with (no numpy here: the SIP process imports it too)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["EngineConfig"]


@dataclass(slots=True)
class EngineConfig:
    """What the media server is built with; see `ssw media-server --help`."""

    data_dir: Path = Path("./data")
    address: str = "127.0.0.1"
    advertise: str | None = None  # address written in SDP (default: `address`)
    port_min: int = 20000
    port_max: int = 29999
    rtp_timeout: float = 30.0  # seconds without RTP from a peer expected to send
    recordings_dir: Path | None = None  # default <data-dir>/restfs/recordings
    node: str = "msr1"

    @property
    def recordings(self) -> Path:
        return self.recordings_dir or self.data_dir / "restfs" / "recordings"
