"""ecss-media-resources: the system prompts and tones the media server plays.

Prompts are generated from text with espeak-ng into `<data-dir>/media/prompts` at install
or first run (`python -m ssw.media.resources --data-dir DIR`, or the media server at start);
nothing large is shipped. Tones and music on hold are synthesised (`ssw.media.tones`).
The generator lives in `ssw.media.resources.prompts`; this package exports only the
catalogue, which needs no numpy.
"""

from ssw.media.resources.catalogue import PROMPT_TEXTS, prompt_for_status, prompts_dir

__all__ = ["PROMPT_TEXTS", "prompt_for_status", "prompts_dir"]
