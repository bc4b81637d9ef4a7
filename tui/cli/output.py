"""`-o json|jsonc|table|tsv|none` and `--query`, the way `az` printed results.

The users of this tool know az's output: the JSON is the az-shaped dict (camelCase, see
`tui.core.model.as_az_dict`), `--query` is JMESPath applied to that JSON, and `-o table` uses the columns
az's Batch AI module showed (a `TableSpec` per kind of result). With `--query`, az skipped its table
transformers and drew a generic table from whatever the query returned, so we do too. Nothing heavy is
imported: `jmespath` only when `--query` is given.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import IO, Any

from tui.core.errors import BaiError

OUTPUT_FORMATS = ("json", "jsonc", "table", "tsv", "none")

# A function turning one az-shaped dict into an ordered row {column title: text}.
TableSpec = Callable[[dict[str, Any]], dict[str, str]]


def add_output_arguments(parser: Any) -> None:
    """-o/--output and --query, as az had them on every command that prints something."""
    group = parser.add_argument_group("output")
    group.add_argument(
        "-o",
        "--output",
        choices=OUTPUT_FORMATS,
        default=None,
        help="output format (default: json, or $BAI_OUTPUT)",
    )
    group.add_argument(
        "--query", metavar="JMESPATH", help="JMESPath query applied to the JSON result, as az --query"
    )


# ------------------------------------------------------------------------------------------- az shapes


def az_shape(obj: Any) -> Any:
    """Any model object (or a list of them) as the JSON az printed; adds az's own names where ours differ."""
    import dataclasses

    from tui.core.model import FileEntry, Job, as_az_dict

    if isinstance(obj, list | tuple):
        return [az_shape(item) for item in obj]
    if not (dataclasses.is_dataclass(obj) and not isinstance(obj, type)):
        return obj
    out = as_az_dict(obj)
    if isinstance(obj, FileEntry):
        out["contentLength"] = None if obj.is_directory else obj.size
    elif isinstance(obj, Job):
        out["toolType"] = obj.toolkit
        out["executionInfo"] = {
            "startTime": out.get("startTime"),
            "endTime": out.get("endTime"),
            "exitCode": out.get("exitCode"),
            "errors": out.get("errors"),
        }
    return out


def _text(value: Any) -> str:
    if value is None:
        return ""
    return str(value)


def _counts(item: dict[str, Any]) -> dict[str, Any]:
    return item.get("nodeStateCounts") or {}


def cluster_row(item: dict[str, Any]) -> dict[str, str]:
    state = "deleting" if item.get("provisioningState") == "deleting" else item.get("allocationState")
    counts = _counts(item)
    return {
        "Name": _text(item.get("name")),
        "Resource Group": _text(item.get("resourceGroup")),
        "Workspace": _text(item.get("workspace")),
        "VM Size": _text(item.get("vmSize")),
        "State": _text(state),
        "Idle": _text(counts.get("idleNodeCount", 0)),
        "Running": _text(counts.get("runningNodeCount", 0)),
        "Preparing": _text(counts.get("preparingNodeCount", 0)),
        "Leaving": _text(counts.get("leavingNodeCount", 0)),
        "Unusable": _text(counts.get("unusableNodeCount", 0)),
    }


def job_row(item: dict[str, Any]) -> dict[str, str]:
    state = "deleting" if item.get("provisioningState") == "deleting" else item.get("executionState")
    return {
        "Name": _text(item.get("name")),
        "Cluster": _text(item.get("cluster")),
        "Cluster RG": _text(item.get("resourceGroup")),
        "Cluster Workspace": _text(item.get("workspace")),
        "Tool": _text(item.get("toolType", item.get("toolkit"))),
        "Nodes": _text(item.get("nodeCount")),
        "State": _text(state),
        "Exit code": _text(item.get("exitCode")),
    }


def job_file_row(item: dict[str, Any]) -> dict[str, str]:
    directory = item.get("fileType") == "directory"
    return {
        "Name": _text(item.get("name")),
        "Type": _text(item.get("fileType")),
        "Size": "" if directory else _text(item.get("contentLength", item.get("size"))),
        "Modified": _text(item.get("lastModified")) or " ",
    }


def storage_file_row(item: dict[str, Any]) -> dict[str, str]:
    directory = item.get("fileType") == "directory"
    return {
        "Name": _text(item.get("name")),
        "Content Length": "" if directory else _text(item.get("contentLength", item.get("size"))),
        "Type": "dir" if directory else "file",
        "Last Modified": _text(item.get("lastModified")),
    }


def workspace_row(item: dict[str, Any]) -> dict[str, str]:
    return {
        "Name": _text(item.get("name")),
        "Resource Group": _text(item.get("resourceGroup")),
        "Location": _text(item.get("location")),
        "State": _text(item.get("provisioningState")),
    }


def experiment_row(item: dict[str, Any]) -> dict[str, str]:
    return {
        "Name": _text(item.get("name")),
        "Resource Group": _text(item.get("resourceGroup")),
        "Workspace": _text(item.get("workspace")),
        "State": _text(item.get("provisioningState")),
    }


def group_row(item: dict[str, Any]) -> dict[str, str]:
    return {
        "Name": _text(item.get("name")),
        "Location": _text(item.get("location")),
        "Status": _text(item.get("provisioningState")),
    }


def storage_account_row(item: dict[str, Any]) -> dict[str, str]:
    return {
        "Name": _text(item.get("name")),
        "Resource Group": _text(item.get("resourceGroup")),
        "Location": _text(item.get("location")),
        "SKU": _text(item.get("sku")),
        "State": _text(item.get("provisioningState")),
    }


def share_row(item: dict[str, Any]) -> dict[str, str]:
    return {
        "Name": _text(item.get("name")),
        "Account": _text(item.get("account")),
        "Quota": _text(item.get("quotaGb")),
    }


# ------------------------------------------------------------------------------------------- printing


def apply_query(data: Any, query: str | None) -> Any:
    """JMESPath over the az-shaped JSON; a bad expression is a usage error naming --query."""
    if not query:
        return data
    import jmespath
    from jmespath.exceptions import JMESPathError

    try:
        return jmespath.search(query, data)
    except RecursionError:
        raise UsageError(
            f"argument --query: the query is nested too deeply ({len(query)} characters); simplify it"
        ) from None
    except JMESPathError as error:
        message = " ".join(str(error).split())
        raise UsageError(f"argument --query: invalid JMESPath query {query!r}: {message}") from None


class UsageError(BaiError):
    """A bad argument value noticed after parsing; exits 2 like argparse's own errors."""

    exit_code = 2


def output_format(output: str | None) -> str:
    """The format asked for: -o, else $BAI_OUTPUT, else json (a bad $BAI_OUTPUT is a usage error)."""
    from tui.core import settings

    output = output or settings.output_format() or "json"
    if output not in OUTPUT_FORMATS:
        raise UsageError(
            f"BAI_OUTPUT={output!r} is not an output format: use one of {', '.join(OUTPUT_FORMATS)}"
        )
    return output


def emit(
    result: Any,
    output: str | None,
    query: str | None = None,
    table: TableSpec | None = None,
    stream: IO[str] | None = None,
) -> None:
    """Print a result (model objects or plain data) in the chosen format."""
    stream = stream or sys.stdout
    output = output_format(output)
    data = az_shape(result)
    queried = apply_query(data, query)
    if output == "none":
        return
    if output in ("json", "jsonc"):
        text = json_text(queried)
        if output == "jsonc" and getattr(stream, "isatty", lambda: False)():
            text = colour_json(text)
        stream.write(text + "\n")
    elif output == "tsv":
        for line in tsv_lines(queried):
            stream.write(line + "\n")
    else:
        rows = table_rows(queried, None if query else table)
        if rows:
            stream.write(render_table(rows))


_SCALAR_TYPES = frozenset((str, int, float, bool, type(None)))


def _flat(value: Any) -> bool:
    """Whether the C encoder's compact text of `value` is also its indented text: a scalar, [] or {}."""
    return type(value) in _SCALAR_TYPES or (not value and type(value) in (list, dict))


def _key_prefixes(keys: list[str], indent: int) -> dict[str, str]:
    """Each distinct key as its indented JSON text and ": " (lists repeat the same few keys)."""
    return {key: " " * indent + json.dumps(key, ensure_ascii=False) + ": " for key in set(keys)}


def json_text(data: Any) -> str:
    """`json.dumps(data, indent=2, ensure_ascii=False, default=str)`, the same text, fast for long lists.

    With `indent` the json module encodes in Python (about 1.5 µs a value): 10,000 jobs took seconds. A
    long list of flat dicts (what a list verb prints) is encoded instead with two C-encoder calls, one
    for all keys and one for all scalar values, joined by "\x00" (which the encoder never writes raw: it
    escapes control characters inside strings), and the indented text is assembled from the pieces;
    a value that is a list or dict is encoded on its own and indented to its depth.
    """
    if not (type(data) is list and len(data) >= 64 and all(type(item) is dict for item in data)):
        return json.dumps(data, indent=2, ensure_ascii=False, default=str)
    from itertools import chain, compress
    from operator import not_

    keys = list(chain.from_iterable(data))
    values = list(chain.from_iterable(map(dict.values, data)))
    if not keys or set(map(type, keys)) != {str}:
        return json.dumps(data, indent=2, ensure_ascii=False, default=str)
    # C loops, not a Python test per value: where the values that are not scalars are.
    deep = list(compress(range(len(values)), map(not_, map(_SCALAR_TYPES.__contains__, map(type, values)))))
    flat = values.copy()
    small: list[tuple[int, int]] = []  # (place, size) of dicts of scalars inside the items, read in bulk
    small_keys: list[Any] = []
    small_values: list[Any] = []
    nested: list[int] = []  # places of the other values that are not scalars: encoded one by one
    for at in deep:
        value = flat[at]
        kind = type(value)
        if not value and (kind is list or kind is dict):
            continue  # [] or {}: encoded with the scalars
        flat[at] = None
        if kind is dict and set(map(type, value)) == {str}:
            inner = list(value.values())
            if set(map(type, inner)) <= _SCALAR_TYPES or all(map(_flat, inner)):
                small.append((at, len(inner)))
                small_keys.extend(value)
                small_values.extend(inner)
                continue
        nested.append(at)
    texts = json.dumps(flat, ensure_ascii=False, separators=("\x00", ":"))[1:-1].split("\x00")
    for at in nested:
        deep_text = json.dumps(values[at], indent=2, ensure_ascii=False, default=str)
        texts[at] = deep_text.replace("\n", "\n    ")
    if small:
        inner = json.dumps(small_values, ensure_ascii=False, separators=("\x00", ":"))[1:-1].split("\x00")
        inner_pairs = list(map(str.__add__, map(_key_prefixes(small_keys, 6).__getitem__, small_keys), inner))
        start = 0
        for at, size in small:
            texts[at] = "{\n" + ",\n".join(inner_pairs[start : start + size]) + "\n    }"
            start += size
    pairs = list(map(str.__add__, map(_key_prefixes(keys, 4).__getitem__, keys), texts))
    items = []
    at = 0
    for size in map(len, data):
        items.append("  {\n" + ",\n".join(pairs[at : at + size]) + "\n  }" if size else "  {}")
        at += size
    return "[\n" + ",\n".join(items) + "\n]"


def colour_json(text: str) -> str:
    """az's jsonc: keys, strings and numbers coloured (ANSI), without importing a highlighter."""
    import re

    token = re.compile(r'("(?:[^"\\]|\\.)*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)')

    def paint(match: re.Match[str]) -> str:
        string, colon, keyword, number = match.groups()
        if string is not None:
            return f"\x1b[94m{string}\x1b[0m{colon}" if colon else f"\x1b[32m{string}\x1b[0m"
        if keyword is not None:
            return f"\x1b[95m{keyword}\x1b[0m"
        return f"\x1b[36m{number}\x1b[0m"

    return token.sub(paint, text)


def _scalar(value: Any) -> bool:
    return not isinstance(value, dict | list)


def _capitalize(key: str) -> str:
    return key[:1].upper() + key[1:]


def table_rows(data: Any, table: TableSpec | None) -> list[dict[str, str]]:
    """Rows for `-o table`: the az column spec for a known result, else a generic table like az's."""
    if data is None:
        return []
    items = data if isinstance(data, list) else [data]
    if table is not None and all(isinstance(item, dict) for item in items):
        return [table(item) for item in items]
    rows: list[dict[str, str]] = []
    for item in items:
        if isinstance(item, dict):
            rows.append({_capitalize(k): _format_cell(v) for k, v in item.items() if _scalar(v)})
        elif isinstance(item, list):
            rows.append({f"Column{i + 1}": _format_cell(v) for i, v in enumerate(item) if _scalar(v)})
        else:
            rows.append({"Result": _format_cell(item)})
    return rows


def _format_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    return str(value)


def render_table(rows: list[dict[str, str]]) -> str:
    """Columns padded to their widest cell, a dashed rule under the titles (as az drew it)."""
    columns: list[str] = []
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    if not columns:
        return ""
    widths = {column: max(len(column), *(len(row.get(column, "")) for row in rows)) for column in columns}
    lines = [
        "  ".join(column.ljust(widths[column]) for column in columns).rstrip(),
        "  ".join("-" * widths[column] for column in columns),
    ]
    for row in rows:
        lines.append("  ".join(row.get(column, "").ljust(widths[column]) for column in columns).rstrip())
    return "\n".join(lines) + "\n"


def tsv_lines(data: Any) -> list[str]:
    """az's tsv: one line per item, scalar values tab-separated in key order, nested objects left out."""
    if data is None:
        return []
    if isinstance(data, list):
        lines: list[str] = []
        for item in data:
            if isinstance(item, list):
                lines.append("\t".join(_format_cell(v) for v in item if _scalar(v)))
            else:
                lines.extend(tsv_lines(item))
        return lines
    if isinstance(data, dict):
        return ["\t".join(_format_cell(v) for v in data.values() if _scalar(v))]
    return [_format_cell(data)]
