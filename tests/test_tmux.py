"""`bai` in a real terminal (tmux): it starts, draws, answers keys, quits, and dies with its terminal.

Each test has its own tmux server (`-L <unique socket>`), so tests run in parallel without meeting.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tui.backends import open_backend
from tui.core.model import ClusterRef, ExperimentRef

BAI = Path(sys.executable).parent / "bai"
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None or not BAI.exists(), reason="needs tmux and bai")


class Terminal:
    """One tmux server with one window running `bai`."""

    def __init__(self, home: Path, width: int = 100, height: int = 30, args: str = "") -> None:
        self.socket = f"bai-test-{uuid.uuid4().hex[:12]}"
        env = f"BAI_HOME={shlex.quote(str(home))} BAI_BACKEND=local TERM=xterm-256color"
        command = f"exec env {env} {shlex.quote(str(BAI))} {args}"
        self.tmux("new-session", "-d", "-x", str(width), "-y", str(height), command)
        self.pid = int(self.tmux("list-panes", "-F", "#{pane_pid}").strip())

    def tmux(self, *args: str, check: bool = True) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=20
        )
        if check and result.returncode != 0:
            raise AssertionError(f"tmux {args}: {result.stderr}")
        return result.stdout

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", check=False)

    def keys(self, *keys: str) -> None:
        for key in keys:
            self.tmux("send-keys", key)
            time.sleep(0.15)

    def wait_for(self, condition: Callable[[str], bool], what: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if condition(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; the screen was:\n{screen}")
            time.sleep(0.2)

    def alive(self) -> bool:
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except FileNotFoundError:
            return False
        return "zombie" not in status

    def wait_gone(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while self.alive():
            if time.monotonic() > deadline:
                raise AssertionError("bai is still running")
            time.sleep(0.1)

    def close(self) -> None:
        self.tmux("kill-server", check=False)
        if self.alive():
            os.kill(self.pid, 9)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"

    async def make() -> None:
        os.environ["BAI_HOME"] = str(folder)
        try:
            backend = open_backend("local")
            await backend.groups.create("batchai.horovod", "eastus")
            await backend.workspaces.create("batchai.horovod", "batchaidev")
            await backend.experiments.create(ExperimentRef("batchai.horovod", "batchaidev", "cifar"))
            await backend.clusters.create(
                ClusterRef("batchai.horovod", "batchaidev", "nc6cluster"), "Standard_NC6", 2
            )
            await backend.close()
        finally:
            del os.environ["BAI_HOME"]

    asyncio.run(make())
    return folder


def test_bai_starts_navigates_and_quits_in_a_real_terminal(home: Path) -> None:
    terminal = Terminal(home)
    try:
        terminal.wait_for(lambda s: "rg batchai.horovod" in s and "Nodes" in s, "the first screen")
        terminal.keys("Right")
        terminal.wait_for(lambda s: "ws batchaidev" in s, "the group opened")
        terminal.keys("Down", "Right")
        screen = terminal.wait_for(lambda s: "cluster nc6cluster" in s, "the workspace opened")
        assert "exp cifar" in screen
        terminal.keys("Down", "Down")
        screen = terminal.wait_for(lambda s: "Standard_NC6" in s and "scale to 0" in s, "the node table")
        terminal.keys("2")
        terminal.wait_for(lambda s: "Node count" in s, "the job form")
        terminal.keys("q")
        terminal.wait_gone()
        assert terminal.tmux("has-session", check=False) == "" and not terminal.alive()
    finally:
        terminal.close()


def test_bai_fits_80x24_and_exits_when_the_terminal_goes_away(home: Path) -> None:
    terminal = Terminal(home, 80, 24)
    try:
        screen = terminal.wait_for(lambda s: "rg batchai.horovod" in s, "the first screen")
        lines = screen.splitlines()
        assert len(lines) <= 24 and all(len(line) <= 80 for line in lines)
        assert "Nodes 1" in screen and "Job 2" in screen and "Log 3" in screen
        terminal.tmux("resize-window", "-x", "120", "-y", "40", check=False)
        terminal.keys("Right")
        terminal.wait_for(lambda s: "ws batchaidev" in s, "the group opened after a resize")
        terminal.tmux("kill-server")  # the terminal goes away: bai gets SIGHUP
        terminal.wait_gone()
    finally:
        terminal.close()


def test_bai_exits_when_the_terminal_goes_away_while_it_is_stopped(tmp_path: Path) -> None:
    """Terminal gone while bai was stopped (SIGHUP and SIGCONT come together): bai hung for good in the
    terminal driver's shutdown, blocked on writes to a terminal that no longer exists. It is a race, so
    three tries (it hung in about half of them)."""
    import signal

    for attempt in range(3):
        terminal = Terminal(tmp_path / f"home{attempt}", 80, 24)
        try:
            terminal.wait_for(lambda s: "Nodes 1" in s, "the first screen")
            time.sleep(0.5)
            os.kill(terminal.pid, signal.SIGSTOP)
            terminal.tmux("kill-server")
            time.sleep(0.5)
            os.kill(terminal.pid, signal.SIGCONT)
            terminal.wait_gone(timeout=15)
        finally:
            terminal.close()
