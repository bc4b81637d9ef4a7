"""Verbs of the headless `bai` command, one module per noun group; each module has `register(subparsers)`."""
