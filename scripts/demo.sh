#!/usr/bin/env bash
# Set up AIZoomDoc and run the main job on the embedded defaults: no keys, no servers.
# Draws the bundled synthetic drawing set, then asks it a question with the direct answerer (no LLM);
# everything is kept in SQLite and a local folder under DATA_DIR (default ./aizoomdoc-data).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .

DATA_DIR=${DATA_DIR:-./aizoomdoc-data}
export DATA_DIR
QUESTION=${1:-"Какая толщина утеплителя кровли П-1?"}

.venv/bin/aizoomdoc sample-set "$DATA_DIR/sample"
.venv/bin/aizoomdoc ask "$QUESTION" --doc "$DATA_DIR/sample/synthetic-set.pdf"
