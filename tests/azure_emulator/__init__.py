"""A local Azure for tests: ARM (resource groups, storage accounts, Batch AI 2018-05-01) and Azure Files.

Batch AI was retired in 2019 and Azurite does not emulate Azure Files, so the batchai backend is tested
through the real SDK pipeline against this server. See `server.AzureEmulator`.
"""

from .server import AzureEmulator, Fault
from .world import MODEL_BYTES, Timings

__all__ = ["MODEL_BYTES", "AzureEmulator", "Fault", "Timings"]
