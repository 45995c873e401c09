"""The media server (SPEC §8): RTP relay, announcements and tones, recording, conferences.

Wire formats are pure modules (`rtp`, `rtcp`, `g711`, `dtmf`, `jitter`, `wavfile`,
`tones`, `mixer`); the server runs as its own process (`python -m ssw.media.server`,
`ssw media-server`) and is driven over JSON lines (docs/MEDIA.md) through `MediaClient`,
or `ssw.media.call_media.RelaySession` from the sans-I/O call logic. Importing this package
loads only the control client: no numpy for the SIP process, no SIP for the media server.
"""

from ssw.media.client import LegAddress, MediaClient, MediaError, RelayAllocation

__all__ = ["LegAddress", "MediaClient", "MediaError", "RelayAllocation"]
