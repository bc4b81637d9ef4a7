#!/usr/bin/env bash
# Build (or bring up to date) the project's environment at .venv/ in the repository root.
#
# Why a script and not one pip command: Horovod 0.28.1 must be compiled against the TensorFlow that is
# already installed, without build isolation, and compiling takes minutes; so this installs TensorFlow first,
# builds Horovod only when the venv lacks a TensorFlow-enabled build, and skips the pip step entirely when
# pyproject.toml has not changed since the last successful run.
#
#   scripts/setup.sh          console + local backend (TensorFlow, Horovod)
#   scripts/setup.sh --dev    the same plus the test tools (pytest, hypothesis, ruff) and tmux
set -euo pipefail

# This machine's pip may be configured with local mirrors that do not exist; their warnings are noise.
quiet_pip() { "$venv_python" -m pip "$@" 2> >(grep -v '^WARNING: Location' >&2); }

cd "$(dirname "$0")/.."
want_dev=0
[[ "${1:-}" == "--dev" ]] && want_dev=1

python_bin="${PYTHON:-python3.11}"
if ! command -v "$python_bin" >/dev/null 2>&1; then
    echo "setup: $python_bin not found; install Python 3.11 or set PYTHON=/path/to/python3.11" >&2
    exit 1
fi

if [[ ! -x .venv/bin/python ]]; then
    echo "setup: creating .venv with $("$python_bin" --version)"
    "$python_bin" -m venv .venv
fi
venv_python=.venv/bin/python

extras="trainer"
(( want_dev )) && extras="trainer,dev"
stamp=".venv/.bai-installed-${extras//,/-}"
fingerprint=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$fingerprint" ]]; then
    echo "setup: installing batchai-console[$extras]"
    quiet_pip install --quiet --upgrade "pip>=24" "setuptools>=68,<75" wheel
    quiet_pip install --quiet -e ".[$extras]"
    echo "$fingerprint" >"$stamp"
fi

# Horovod's TensorFlow extension exists only when it was compiled against TensorFlow; looking for the file is
# instant, where `horovodrun --check-build` would import TensorFlow.
if ! compgen -G ".venv/lib/python3.11/site-packages/horovod/tensorflow/mpi_lib.*.so" >/dev/null; then
    echo "setup: building Horovod 0.28.1 against TensorFlow with Gloo (takes about 4 minutes on 2 cores)"
    quiet_pip install --quiet "cmake>=3.13,<4" packaging
    HOROVOD_WITH_TENSORFLOW=1 HOROVOD_WITHOUT_PYTORCH=1 HOROVOD_WITHOUT_MXNET=1 \
    HOROVOD_WITH_GLOO=1 HOROVOD_WITHOUT_MPI=1 \
        quiet_pip install --quiet --no-build-isolation --no-cache-dir horovod==0.28.1
    .venv/bin/horovodrun --check-build 2>/dev/null
fi

if (( want_dev )) && ! command -v tmux >/dev/null 2>&1; then
    echo "setup: installing tmux for the terminal end-to-end tests"
    sudo_cmd=""
    [[ "$(id -u)" != 0 ]] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq tmux >/dev/null
fi
# The ssh backend's tests build two SSH hosts in network namespaces (as root): they need OpenSSH's server.
if (( want_dev )) && [[ ! -x /usr/sbin/sshd ]]; then
    sudo_cmd=""
    [[ "$(id -u)" != 0 ]] && sudo_cmd="sudo"
    if [[ -z "$sudo_cmd" ]] || command -v sudo >/dev/null 2>&1; then
        echo "setup: installing openssh-server for the ssh backend's tests"
        ($sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq openssh-server iproute2 >/dev/null) \
            || echo "setup: could not install openssh-server; the ssh backend's tests will be skipped" >&2
    fi
fi
echo "setup: ready; the command is .venv/bin/bai"
