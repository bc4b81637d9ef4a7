"""Textual's cap on repaints a second is the console's own (issue 12): a key is not held for a frame slot.

At Textual's default of 60 a refresh asked for within 1/60 s of the last one waited for the next slot: up to
16.7 ms added to a key pressed just after the live log redrew. The cap must be in place before Textual is
imported, as `bai` starts (it imports the console package first); a TEXTUAL_FPS the user set wins.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What `bai` with no verb imports first (tui.cli.main), then what reads the cap (the screen's update timer).
PROBE = "import tui.console.launch, textual.screen; print(textual.constants.MAX_FPS)"


def max_fps(**env: str) -> int:
    environ = {key: value for key, value in os.environ.items() if key != "TEXTUAL_FPS"}
    environ.update(env, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=environ, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip())


def test_the_console_raises_textuals_frame_cap_unless_the_user_set_one() -> None:
    assert max_fps() > 60  # Textual's own default
    assert max_fps(TEXTUAL_FPS="30") == 30

    from tui.console import CONSOLE_FPS

    assert max_fps() == CONSOLE_FPS
