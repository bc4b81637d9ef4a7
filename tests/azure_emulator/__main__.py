"""Run the emulator by hand: `cd tests && python -m azure_emulator [--replay 60]` prints the environment to
export in another shell, then serves until Ctrl-C (for trying the console or `bai` on the batchai backend)."""

from __future__ import annotations

import argparse
import time

from . import AzureEmulator, Timings

if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m azure_emulator", description=__doc__.splitlines()[0])
    parser.add_argument("--replay", type=float, default=60.0, help="seconds a job takes to write its stdout")
    parser.add_argument("--node-prepare", type=float, default=5.0, help="seconds a new node is preparing")
    parser.add_argument(
        "--backend", choices=("batchai", "azureml"), default="batchai", help="the BAI_BACKEND to print"
    )
    args = parser.parse_args()
    timings = Timings(replay=args.replay, node_prepare=args.node_prepare, node_leave=2.0, operation=0.5)
    with AzureEmulator(timings) as emulator:
        environment = emulator.ml_env() if args.backend == "azureml" else emulator.env()
        for name, value in environment.items():
            print(f"export {name}='{value}'")
        print("# Ctrl-C stops the emulator", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
