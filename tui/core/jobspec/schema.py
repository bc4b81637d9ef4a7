"""What Batch AI's 2018-05-01 job schema fixes: toolkits, placeholders, fields the service ignored, limits,
and the patterns of names, URLs and durations the other jobspec modules check against."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass

SCHEMA_URL = "https://raw.githubusercontent.com/Azure/BatchAI/master/schemas/2018-05-01/job.json"
STORAGE_ACCOUNT_PLACEHOLDER = "<AZURE_BATCHAI_STORAGE_ACCOUNT>"
STORAGE_KEY_PLACEHOLDER = "<AZURE_BATCHAI_STORAGE_KEY>"

# Toolkit name (what `toolkit_of` returns; job.json's key without "Settings") -> model attribute.
TOOLKITS: dict[str, str] = {
    "horovod": "horovod_settings",
    "customMpi": "custom_mpi_settings",
    "customToolkit": "custom_toolkit_settings",
    "tensorFlow": "tensor_flow_settings",
    "pyTorch": "py_torch_settings",
    "cntk": "cntk_settings",
    "caffe": "caffe_settings",
    "caffe2": "caffe2_settings",
    "chainer": "chainer_settings",
}

SCHEDULING_PRIORITIES = ("low", "normal", "high")
_TOP_LEVEL_EXTRA_KEYS = ("$schema",)
# Fields that published job files carry and the 2018-05-01 service ignored: job properties of earlier API
# versions (2017-09-01-preview, 2018-03-01; the REST API's own PutJob example still sends `priority`), and
# a processCount on customToolkitSettings (Azure/batchai_retinanet_horovod_coco), which never had one. Such
# files were accepted; here too, each dropped field named in a note saying what to use instead.
IGNORED_FIELDS: dict[str, str] = {
    "properties.priority": "Batch AI 2018-05-01 has no 'priority' "
    "(use schedulingPriority: low, normal or high)",
    "properties.experimentName": "the experiment is the one the job is submitted to",
    "properties.location": "the job runs where its workspace is",
    "location": "the job runs where its workspace is",
    "properties.outputDirectories[].type": "2018-05-01 output directories have no type",
    "properties.outputDirectories[].createNew": "2018-05-01 always creates output directories",
    "properties.customToolkitSettings.processCount": "a custom toolkit runs its commandLine once; start "
    "the processes in it (e.g. mpirun --hostfile $AZ_BATCHAI_MPI_HOST_FILE)",
}
# Integers in the REST API are int32; deeper JSON than this is no job.json (and would exhaust the parser's
# recursion); durations beyond this many days cannot be added to a date (datetime's limit is year 9999).
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
MAX_JSON_DEPTH = 64
MAX_DURATION_DAYS = 36500
_PLACEHOLDER = re.compile(r"<[^<>/]+>")
_WHOLE_NUMBER = re.compile(r"^\s*[+-]?\d+\s*$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DIRECTORY_ID = re.compile(r"^[A-Za-z0-9_]+$")
_ACCOUNT_NAME = re.compile(r"^[a-z0-9]{3,24}$")
_SHARE_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$")
_ACCOUNT_IN_URL = rf"(?:[a-z0-9]{{3,24}}|{re.escape(STORAGE_ACCOUNT_PLACEHOLDER)})"
# https://ACCOUNT.file.core.windows.net/SHARE (any cloud's suffix), or path-style on loopback for emulators.
_AZURE_FILE_URL = re.compile(
    rf"^https://(?P<account>{_ACCOUNT_IN_URL})\.file\.core\.[a-z0-9.-]+/(?P<share>[^/?#]+)/?$"
)
_LOOPBACK_FILE_URL = re.compile(
    rf"^https?://(?:127\.0\.0\.1|localhost|\[::1\])(?::\d+)?/(?P<account>{_ACCOUNT_IN_URL})/(?P<share>[^/?#]+)/?$"
)
_ISO_DURATION = re.compile(
    r"^P(?!$)(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
# .NET TimeSpan as the schema documents it: [d.]hh:mm[:ss[.fffffff]]
_TIMESPAN = re.compile(
    r"^(?:(?P<days>\d+)\.)?(?P<hours>\d{1,2}):(?P<minutes>\d{1,2})(?::(?P<seconds>\d{1,2}(?:\.\d{1,7})?))?$"
)
