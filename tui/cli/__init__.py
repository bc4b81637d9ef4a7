"""The headless `bai` command: verbs that mirror `az batchai` / `az storage`."""
