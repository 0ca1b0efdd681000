#!/usr/bin/env bash
# Set up a virtual environment and run the offline demo on the embedded default model.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PIP_DISABLE_PIP_VERSION_CHECK=1
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
# torch first, pinned (a CPU wheel here; TORCH_SPEC may carry pip options such as an index URL)
# shellcheck disable=SC2086
.venv/bin/python -m pip install -q ${TORCH_SPEC:-torch==2.13.0}
.venv/bin/python -m pip install -q -e . -e guards
.venv/bin/python examples/demo.py
