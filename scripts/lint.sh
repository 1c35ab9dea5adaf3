#!/usr/bin/env bash
# Static checks: ruff (errors, bugbear, import order, no blind `except Exception` outside marked
# boundaries; rules in pyproject.toml [tool.ruff.lint]) and mypy with the pydantic plugin
# ([tool.mypy]: src/aizoomdoc). Needs the test extras in .venv (scripts/test.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."

.venv/bin/python -m ruff check -q src tests bench scripts examples
.venv/bin/python -m mypy
