"""The Textual console.

Textual repaints the screen at most `TEXTUAL_FPS` times a second (60 unless set): a refresh asked for within
1/60 s of the last one waits for the next slot, up to 16.7 ms added to a key press whenever the live log had
just redrawn (issue 12: key p99 31-34 -> 23-27 ms wall at 240, for the same CPU). The console asks for
repaints on its own events only (keys, the live log's ten redraws a second, polls; animations are off), so
a higher cap takes the wait away without adding frames. It is set here, before Textual is first imported
(`bai` imports this package before Textual); a TEXTUAL_FPS in the environment wins.
"""

import os

CONSOLE_FPS = 240

os.environ.setdefault("TEXTUAL_FPS", str(CONSOLE_FPS))
