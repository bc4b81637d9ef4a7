"""Run the emulator by hand: `python -m azure_emulator` from tests/ prints the environment to use."""

from __future__ import annotations

import time

from . import AzureEmulator

if __name__ == "__main__":
    with AzureEmulator() as emulator:
        for name, value in emulator.env().items():
            print(f"export {name}='{value}'")
        print("# Ctrl-C stops the emulator", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
