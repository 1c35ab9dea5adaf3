"""No S3 connection is left open at exit: nothing prints «Unclosed client session / connector».

The seed's callers use ``s3_storage`` without ever calling ``aclose()`` (often with one
``asyncio.run`` per step); the S3 client must still be closed when each loop ends.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.services import SeaweedServer

pytestmark = pytest.mark.s3

SEED_STYLE = """
import asyncio
from aizoomdoc.s3_storage import s3_storage

async def upload():
    key = s3_storage.generate_s3_path(chat_id="c1", file_type="viewport", filename="v.png")
    print(await s3_storage.upload_bytes(b"png", key, content_type="image/png"))

async def listing():
    print(len(await s3_storage.list_files("chats/c1/")))

asyncio.run(upload())   # two loops, one client each, and no aclose() anywhere
asyncio.run(listing())
"""


def _env(server: SeaweedServer, bucket: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SUPABASE_", "S3_", "LLM_", "DATABASE_URL", "USE_", "DATA_DIR"))}
    env.update(USE_S3_STORAGE="true", S3_ENDPOINT_URL=server.endpoint_url, S3_REGION=server.region,
               S3_ACCESS_KEY=server.access_key, S3_SECRET_KEY=server.secret_key, S3_BUCKET=bucket,
               DATA_DIR=str(data_dir), PYTHONIOENCODING="utf-8", **extra)
    return env


@pytest.mark.parametrize("offline_mode", ["true", "false"])  # S3 behind the journal, or S3 alone
def test_seed_style_script_leaves_no_connection_open(s3_server: SeaweedServer, s3_bucket: str, tmp_path: Path,
                                                     offline_mode: str) -> None:
    env = _env(s3_server, s3_bucket, tmp_path / "data", OFFLINE_MODE=offline_mode)
    r = subprocess.run([sys.executable, "-c", SEED_STYLE], env=env, cwd=tmp_path, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1] == "1"
    assert "Unclosed" not in r.stderr and r.stderr.strip() == "", r.stderr


def test_cli_command_leaves_no_connection_open(s3_server: SeaweedServer, s3_bucket: str, tmp_path: Path) -> None:
    env = _env(s3_server, s3_bucket, tmp_path / "data")
    r = subprocess.run([sys.executable, "-m", "aizoomdoc", "storage", "check"], env=env, cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Unclosed" not in r.stderr and r.stderr.strip() == "", r.stderr
