"""The README's console claims, tried in a real terminal (tmux) at 80x24 as a user would (issue 11).

`?` lists the console's own keys with their ids (a remapped key shows as remapped) and closes on Esc; the
footer follows the focused pane; reopening `bai` comes back to the resource and tab the user left.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests import test_tmux as base
from tests.test_tmux import Terminal

pytestmark = base.pytestmark
home = base.home  # a BAI_HOME with the tutorial's group, workspace, experiment and cluster


def test_keys_list_remapping_footer_and_reopening_in_a_real_terminal(home: Path) -> None:
    (home / "console.json").write_text(json.dumps({"keymap": {"bai.submit": "ctrl+s"}}))
    terminal = Terminal(home, 80, 24)
    try:
        terminal.wait_for(lambda s: "rg batchai.horovod" in s, "the first screen")
        terminal.keys("?")
        terminal.wait_for(lambda s: "bai keys" in s and "bai.new_group" in s, "the key list")
        screen = terminal.screen()
        for _ in range(10):  # page down to the submit key
            if "bai.submit" in screen:
                break
            terminal.keys("PageDown")
            screen = terminal.screen()
        line = next(text for text in screen.splitlines() if "bai.submit" in text)
        assert "ctrl+s" in line, line
        terminal.keys("Escape")
        terminal.wait_for(lambda s: "bai keys" not in s, "the key list to close")
        footer = terminal.wait_for(lambda s: "Submit" in s.splitlines()[-1], "the tree's footer")
        assert "^s" in footer.splitlines()[-1] or "ctrl+s" in footer.splitlines()[-1]
        terminal.keys("Right")
        terminal.wait_for(lambda s: "ws batchaidev" in s, "the group opened")
        terminal.keys("Down", "Right")
        terminal.wait_for(lambda s: "cluster nc6cluster" in s, "the workspace opened")
        terminal.keys("Down", "Down", "2")
        terminal.wait_for(lambda s: "Node count" in s, "the job form")
        terminal.keys("q")
        terminal.wait_gone()
    finally:
        terminal.close()
    again = Terminal(home, 80, 24)
    try:
        # back on the cluster (its table under tab 1) and on the Job tab, without a key pressed
        again.wait_for(lambda s: "cluster nc6cluster" in s and "Node count" in s, "the place restored")
        again.keys("1")
        again.wait_for(lambda s: "Clusters of batchaidev" in s and "Standard_NC6" in s, "the cluster's table")
        again.keys("q")
        again.wait_gone()
    finally:
        again.close()
