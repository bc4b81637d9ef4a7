"""A standing fuzz test of bai's inputs (issue 10): job.json documents and command-line arguments drawn by
hypothesis, run through the real entry point (`tui.cli.main.main`, in this process, on a temporary
$BAI_HOME). Every outcome is success or clear `bai: error: ...` lines with exit 1 or 2: never a traceback,
never an "unexpected X", never a raw line break from the input. Bounded to a few seconds per run.
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tui.cli.main import main

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=False,
)

# Text as an attacker types it: control characters, line breaks, quotes, very long runs (argv has no NUL).
nasty_text = st.one_of(
    st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=40),
    st.sampled_from(["rg\n", "a\r\nb", "\x1b[31mred", "..", "../..", "-", "--", "%s", "{}", "'", '"', " "]),
    st.builds(lambda ch, n: ch * n, st.sampled_from("ax9-./"), st.integers(200, 1200)),
)
extreme_numbers = st.one_of(
    st.sampled_from([0, 1, -1, 2**31, 2**63, -(2**63), 10**400, math.inf, -math.inf, math.nan, 1e300, 0.5]),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
)
json_leaf = st.one_of(st.none(), st.booleans(), extreme_numbers, nasty_text)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(nasty_text, st.just("name")), inner, max_size=4),
    ),
    max_leaves=12,
)
FIELDS = [
    "nodeCount",
    "horovodSettings",
    "customToolkitSettings",
    "cntkSettings",
    "mountVolumes",
    "environmentVariables",
    "secrets",
    "constraints",
    "stdOutErrPathPrefix",
    "jobPreparation",
    "outputDirectories",
    "inputDirectories",
    "containerSettings",
    "schedulingPriority",
]
field_values = {
    "nodeCount": st.one_of(extreme_numbers, nasty_text, json_value),
    "constraints": st.one_of(
        st.fixed_dictionaries(
            {
                "maxWallClockTime": st.one_of(
                    nasty_text, st.sampled_from(["P99999999999D", "PT1H", "1.00:00:00", "P1e400D"])
                )
            }
        ),
        json_value,
    ),
    "environmentVariables": st.lists(
        st.fixed_dictionaries({"name": nasty_text, "value": st.one_of(nasty_text, json_leaf)}), max_size=3
    ),
    "secrets": st.lists(st.fixed_dictionaries({"name": nasty_text, "value": nasty_text}), max_size=2),
    "horovodSettings": st.one_of(
        st.fixed_dictionaries({"pythonScriptFilePath": nasty_text, "commandLineArgs": nasty_text}), json_value
    ),
}
job_document = st.one_of(
    st.fixed_dictionaries(
        {
            "properties": st.fixed_dictionaries(
                {}, optional={name: field_values.get(name, json_value) for name in FIELDS}
            )
        },
        optional={"$schema": nasty_text},
    ),
    json_value,
)
# What issue 10's attack found, always among the examples.
KNOWN_ATTACKS: list[dict[str, object]] = [
    {"properties": {"nodeCount": value}} for value in (math.inf, math.nan, "9" * 5000, 2**63, 10**400)
] + [
    {"properties": {"nodeCount": 1, "constraints": {"maxWallClockTime": "P99999999999D"}}},
    {"properties": {"nodeCount": 1, "environmentVariables": [{"name": "ABC\n", "value": "1"}]}},
    {"properties": {"nodeCount": 1, "secrets": [{"name": "S\r\n", "value": "v"}]}},
]


@pytest.fixture(scope="module")
def home() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="bai-fuzz-") as folder:
        yield Path(folder)


@pytest.fixture
def bai_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BAI_HOME", str(home / "bai-home"))
    monkeypatch.setenv("BAI_BACKEND", "local")
    for name in ("BAI_OUTPUT", "AZURE_STORAGE_ACCOUNT", "BAI_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    return home


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 1
    return code, capsys.readouterr().err


def assert_clear(code: int, err: str, argv: list[str]) -> None:
    """Success, or only `bai: error:` lines (exit 1 or 2), none of them an unexpected error."""
    if code == 0:
        return
    assert code in (1, 2), (argv, code, err)
    lines = err.splitlines()
    assert lines, (argv, "an error exit with nothing said")
    usage = code == 2 and any(line.startswith("usage:") for line in lines)
    for line in lines:
        if usage and not line.startswith("bai: error:"):
            continue  # `bai group` alone prints its usage and exits 2
        assert line.startswith("bai: error: "), (argv, err)
        assert "unexpected" not in line and "Traceback" not in line, (argv, line)
        assert "\r" not in line and "\x1b" not in line, (argv, line)


def _with_examples(test):  # type: ignore[no-untyped-def]
    for document in KNOWN_ATTACKS:
        test = example(document=document)(test)
    return test


@FUZZ
@given(document=job_document)
@_with_examples
def test_any_job_json_is_accepted_or_refused_clearly(
    document: dict[str, object], bai_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = bai_home / "job.json"
    path.write_text(json.dumps(document, allow_nan=True))
    argv = ["job", "validate", "-f", str(path)]
    code, err = run(argv, capsys)
    assert_clear(code, err, argv)


@FUZZ
@given(text=st.text(max_size=300), cut=st.integers(0, 300))
@example(text="[" * 3000, cut=15)
@example(text='{"a":' * 1000, cut=15)
@example(text="9" * 5000, cut=27)
def test_any_text_as_job_json_is_refused_clearly(
    text: str, cut: int, bai_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = bai_home / "job.json"
    document = '{"properties": {"nodeCount": 1, "customToolkitSettings": {"commandLine": "true"}}}'
    path.write_text(document[:cut] + text + document[cut:])
    argv = ["job", "validate", "-f", str(path)]
    code, err = run(argv, capsys)
    assert_clear(code, err, argv)


WHERE = ["-g", "rg", "-w", "ws"]
COMMANDS = [
    lambda a, b: ["group", "create", "-n", a, "-l", b],
    lambda a, b: ["group", "show", "-n", a],
    lambda a, b: ["workspace", "create", "-g", a, "-n", b],
    lambda a, b: ["experiment", "create", *WHERE, "-n", a],
    lambda a, b: ["cluster", "create", *WHERE, "-n", a, "-s", "local", "-t", b],
    lambda a, b: ["cluster", "resize", *WHERE, "-n", a, "--target", b],
    lambda a, b: ["cluster", "list", *WHERE, "--query", a],
    lambda a, b: ["group", "list", "-o", a],
    lambda a, b: ["storage", "account", "create", "-g", "rg", "-n", a, "-l", b],
    lambda a, b: ["storage", "share", "create", "-n", a, "--account-name", b],
    lambda a, b: ["storage", "directory", "create", "-n", a, "-s", "myshare", "--account-name", "mystorage"],
    lambda a, b: ["storage", "file", "list", "-p", a, "-s", b, "--account-name", "mystorage"],
    lambda a, b: ["job", "list", *WHERE, "-e", a],
    lambda a, b: ["job", "show", *WHERE, "-e", "exp", "-n", a],
    lambda a, b: ["job", "wait", *WHERE, "-e", "exp", "-n", "none", "--interval", a, "--timeout", b],
    lambda a, b: ["job", "file", "list", *WHERE, "-e", "exp", "-j", a, "-d", b],
    lambda a, b: [a, b],
    lambda a, b: ["job", a, b],
]


@FUZZ
@given(
    which=st.integers(0, len(COMMANDS) - 1),
    first=nasty_text,
    second=st.one_of(nasty_text, extreme_numbers.map(str)),
)
@example(which=0, first="rg\n", second="eastus")
@example(which=4, first="c", second=str(2**63))
@example(which=6, first="(" * 3000 + "a" + ")" * 3000, second="")
@example(which=10, first="d" * 1000, second="")
@example(which=14, first="nan", second="1e999")
@example(which=1, first="a\nb\x1b[2J", second="")
def test_any_argument_is_taken_or_refused_clearly(
    which: int, first: str, second: str, bai_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _tree(bai_home, capsys)
    argv = COMMANDS[which](first, second)
    code, err = run(argv, capsys)
    assert_clear(code, err, argv)


_made: set[Path] = set()


def _tree(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """rg/ws/exp, a storage account and share, once per fuzz home, so commands reach their checks."""
    if home in _made:
        return
    for argv in (
        ["group", "create", "-n", "rg", "-l", "eastus"],
        ["workspace", "create", "-g", "rg", "-n", "ws"],
        ["experiment", "create", *WHERE, "-n", "exp"],
        ["storage", "account", "create", "-g", "rg", "-n", "mystorage", "-l", "eastus"],
        ["storage", "share", "create", "-n", "myshare", "--account-name", "mystorage"],
    ):
        assert run(argv, capsys)[0] == 0, argv
    _made.add(home)


def test_the_checker_refuses_what_issue_10_found(capsys: pytest.CaptureFixture[str]) -> None:
    """The outcome check itself fails on a traceback, an unexpected error and a raw line break."""
    for code, err in (
        (1, "Traceback (most recent call last):\n"),
        (1, "bai: error: unexpected OverflowError: cannot convert float infinity to integer\n"),
        (1, "bai: error: name 'a\rb' is not valid\n"),
        (0 + 3, "bai: error: fine\n"),
        (1, ""),
    ):
        with pytest.raises(AssertionError):
            assert_clear(code, err, ["x"])
