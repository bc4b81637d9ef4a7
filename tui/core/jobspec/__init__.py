"""job.json <-> the SDK's own `JobCreateParameters`, plus the checks the SDK does not make.

Batch AI's job schema (2018-05-01) *is* `azure.mgmt.batchai.models.JobCreateParameters`, so both backends take
that very object. msrest's deserializer, however, silently drops unknown keys (a `nodecount` typo would just
vanish), stops at the first bad value, and only takes ISO 8601 durations while the schema documents
`7.00:00:00`. So a job.json is read in three passes, and every problem of every pass is reported at once, each
naming its JSON path (`properties.horovodSettings.pythonScriptFilePath: required`):

1. structure: walk the raw JSON along the SDK models' attribute maps: unknown keys (with a "did you mean"),
   wrong JSON types, unparseable durations; bad values are dropped from the copy handed to msrest. Fields that
   published job files carry and the 2018-05-01 service ignored (`IGNORED_FIELDS`: those of earlier API
   versions, ...) are dropped too, each with a note the caller shows as a warning;
2. the SDK's own deserializer builds the model;
3. semantics: required fields (from the models' `_validation`), exactly one toolkit, counts >= 1, mount paths,
   the storage URL, names and ids.

The SDK is imported lazily: it costs ~0.3 s and only `job create` / `job validate` need it.

Modules: `schema` (what the 2018-05-01 schema fixes), `read` (passes 1 and 2, durations, back to job.json),
`checks` (pass 3), `fill` (the storage placeholders at submission), `fields` (the job form's field model).
"""

from tui.core.jobspec.checks import validate_job_spec
from tui.core.jobspec.fields import TOOLKIT_FIELDS, JobFields, field_of_error, join_job, split_job
from tui.core.jobspec.fill import apply_storage_account, share_of, toolkit_of
from tui.core.jobspec.read import (
    format_duration,
    job_spec_to_dict,
    load_job_spec,
    parse_job_spec,
    parse_max_wall_clock_time,
)
from tui.core.jobspec.schema import (
    IGNORED_FIELDS,
    INT32_MAX,
    INT32_MIN,
    MAX_DURATION_DAYS,
    MAX_JSON_DEPTH,
    SCHEDULING_PRIORITIES,
    SCHEMA_URL,
    STORAGE_ACCOUNT_PLACEHOLDER,
    STORAGE_KEY_PLACEHOLDER,
    TOOLKITS,
)

__all__ = [
    "IGNORED_FIELDS",
    "INT32_MAX",
    "INT32_MIN",
    "MAX_DURATION_DAYS",
    "MAX_JSON_DEPTH",
    "SCHEDULING_PRIORITIES",
    "SCHEMA_URL",
    "STORAGE_ACCOUNT_PLACEHOLDER",
    "STORAGE_KEY_PLACEHOLDER",
    "TOOLKITS",
    "TOOLKIT_FIELDS",
    "JobFields",
    "apply_storage_account",
    "field_of_error",
    "format_duration",
    "job_spec_to_dict",
    "join_job",
    "load_job_spec",
    "parse_job_spec",
    "parse_max_wall_clock_time",
    "share_of",
    "split_job",
    "toolkit_of",
    "validate_job_spec",
]
