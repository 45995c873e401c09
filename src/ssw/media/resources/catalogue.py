"""The system prompts: their names, texts, where they live, when they are played.

No numpy here: the call core imports it to choose an announcement.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["PROMPT_TEXTS", "prompt_for_status", "prompts_dir"]

# name -> (language, text); names are what the core asks to play ("prompt:<name>")
PROMPT_TEXTS: dict[str, dict[str, str]] = {
    "number_does_not_exist": {
        "en": "The number you have dialled does not exist. Please check the number and "
              "dial again.",
        "ru": "Неправильно набран номер. Проверьте номер и наберите его снова.",
    },
    "subscriber_busy": {
        "en": "The subscriber is busy. Please call later.",
        "ru": "Абонент занят. Пожалуйста, перезвоните позже.",
    },
    "subscriber_unavailable": {
        "en": "The subscriber is not available. Please call later.",
        "ru": "Абонент недоступен. Пожалуйста, перезвоните позже.",
    },
}


# The announcement a caller hears before the switch fails the call with a final status.
_PROMPT_FOR_STATUS: dict[int, str] = {
    404: "number_does_not_exist", 484: "number_does_not_exist", 604: "number_does_not_exist",
    486: "subscriber_busy", 600: "subscriber_busy",
    480: "subscriber_unavailable", 408: "subscriber_unavailable",
}


def prompt_for_status(status: int) -> str | None:
    """`prompt:<name>` to play before failing a call with `status`; None: no announcement."""
    name = _PROMPT_FOR_STATUS.get(status)
    return f"prompt:{name}" if name else None


def prompts_dir(data_dir: Path) -> Path:
    return data_dir / "media" / "prompts"
