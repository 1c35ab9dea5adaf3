#!/usr/bin/env python3
"""The original integration's database script, kept: the same sub-commands as ``aizoomdoc db``.

    python scripts/manage_db.py init                      # create all tables
    python scripts/manage_db.py current                   # the database's migration
    python scripts/manage_db.py history                   # all migrations
    python scripts/manage_db.py upgrade [revision]        # default: head
    python scripts/manage_db.py downgrade [-1|revision|base]
    python scripts/manage_db.py migrate "message"         # autogenerate a new migration
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from aizoomdoc.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.argv = ["aizoomdoc", "db", *sys.argv[1:]]
    main()
