"""Every module of the store imports on its own, first thing in a fresh interpreter (an import
cycle between modules fails here, whichever module a user imports first; e.g. the resilient file
storage and the resilient chat store share Link and Syncer without importing each other)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

SCRIPT = """
import importlib, sys, traceback
failed = []
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m == "aizoomdoc" or m.startswith("aizoomdoc.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception:
        failed.append(name + ": " + traceback.format_exc(limit=3))
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def test_every_store_module_imports_first() -> None:
    names = sorted(
        ".".join(p.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")
        for p in (SRC / "aizoomdoc" / "store").rglob("*.py")
    )
    assert "aizoomdoc.store.files.resilient" in names and len(names) > 25
    r = subprocess.run([sys.executable, "-c", SCRIPT, *names], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
