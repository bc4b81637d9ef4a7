"""The key a user has to press for an action, as the widgets word their hints ("press 0 to scale to 0").

Hints name keys, and a user may remap any key by its binding id in console.json; a hint that kept the
default key ("press s" after submit moved to ctrl+s) would send them to the wrong key. Widgets ask the app
(`key_for`, which knows the keymap) and fall back to the default key where there is no such app (a widget
tested on its own).
"""

from __future__ import annotations

from typing import Any

KEY_LABELS = {"slash": "/", "question_mark": "?", "escape": "Esc", "enter": "Enter"}


def key_of(app: Any, binding_id: str, default: str) -> str:
    """The key bound to `binding_id` now, as typed (`/`, `ctrl+s`); `default` when the app cannot say."""
    key_for = getattr(app, "key_for", None)
    key = key_for(binding_id) if callable(key_for) else ""
    key = key or default
    return ",".join(KEY_LABELS.get(part, part) for part in key.split(","))
