"""No S3 connection is left open at exit: nothing prints «Unclosed client session / connector».

The seed's callers use ``s3_storage`` without ever calling ``aclose()`` (often with one
``asyncio.run`` per step); the S3 client must still be closed when each loop ends.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aizoomdoc.sample import write_drawing_set
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


def _keys(server: SeaweedServer, bucket: str) -> list[str]:
    import boto3

    client = boto3.client("s3", endpoint_url=server.endpoint_url, aws_access_key_id=server.access_key,
                          aws_secret_access_key=server.secret_key, region_name=server.region)
    return [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]


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


@pytest.mark.parametrize("offline_mode", ["true", "false"])
def test_cli_commands_that_upload_and_read_files_leave_no_connection_open(
        s3_server: SeaweedServer, s3_bucket: str, tmp_path: Path, offline_mode: str) -> None:
    """``ingest`` stores the source file in S3, ``ask`` uploads its viewports and ``chats delete``
    empties the chat's folder: each is its own process with its own S3 client."""
    pdf = tmp_path / "set.pdf"
    write_drawing_set(pdf)
    env = _env(s3_server, s3_bucket, tmp_path / "data", OFFLINE_MODE=offline_mode)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        r = subprocess.run([sys.executable, "-m", "aizoomdoc", *args], env=env, cwd=tmp_path, capture_output=True,
                           text=True, timeout=180)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "Unclosed" not in r.stderr, r.stderr
        return r

    cli("ingest", str(pdf))
    cli("ask", "Какая толщина утеплителя кровли П-1?", "--doc", str(pdf))
    chat_id = json.loads(cli("chats", "list", "--json").stdout)[0]["id"]
    assert any(k.startswith(f"chats/{chat_id}/") for k in _keys(s3_server, s3_bucket))
    cli("chats", "delete", chat_id)
    assert not any(k.startswith(f"chats/{chat_id}/") for k in _keys(s3_server, s3_bucket))
