"""File storage benchmark against a real SeaweedFS, with a same-run boto3 baseline.

    .venv/bin/python bench/bench_files.py [--rounds 3] [--concurrency N] [--chunk-mb M]

1. ``upload_many`` of 100 PNGs of ~200 KB (random noise, so they do not compress) vs a plain
   sequential boto3 ``put_object`` loop. Aim: ≥ 3× faster.
2. One 50 MB file: ``upload_file`` vs boto3's own ``upload_file`` (TransferConfig defaults).
   Aim: ≥ 0.9× (i.e. not slower than boto3 by more than 10 %).

Each measurement is repeated ``--rounds`` times (default 5), alternating which goes first, after an
untimed warm-up, each run starting after ``sync`` on a quiet server; the best time of each is compared (the least noisy statistic on a shared machine). Prints ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.support.services
sys.path.insert(0, str(ROOT / "src"))

import boto3  # noqa: E402
from boto3.s3.transfer import TransferConfig  # noqa: E402
from botocore.config import Config  # noqa: E402
from PIL import Image  # noqa: E402

from aizoomdoc.config import Settings  # noqa: E402
from aizoomdoc.store.files import build_file_storage  # noqa: E402
from aizoomdoc.store.files.s3 import S3FileStorage  # noqa: E402
from tests.support.services import SeaweedServer  # noqa: E402

N_PNG = 100
PNG_SIDE = 258  # 258 × 258 × 3 ≈ 200 KB of noise
BIG_MB = 50


def noise_png() -> bytes:
    image = Image.frombytes("RGB", (PNG_SIDE, PNG_SIDE), os.urandom(PNG_SIDE * PNG_SIDE * 3))
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def boto3_client(server: SeaweedServer):
    return boto3.client(
        "s3", endpoint_url=server.endpoint_url, region_name=server.region,
        aws_access_key_id=server.access_key, aws_secret_access_key=server.secret_key,
        config=Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
                      response_checksum_validation="when_required"),
    )


def settle() -> None:
    """Start every timed run on a quiet server: flush the previous run's dirty pages first."""
    os.sync()
    time.sleep(0.3)


def best(times: list[float]) -> str:
    return f"best {min(times):.3f}s, median {statistics.median(times):.3f}s"


async def run(args: argparse.Namespace) -> int:
    server = SeaweedServer()
    server.start()
    tmp = Path(tempfile.mkdtemp(prefix="aizoomdoc-bench-"))
    try:
        bucket = server.create_bucket()
        settings = Settings(
            _env_file=None, data_dir=tmp / "data", use_s3_storage=True,
            s3_endpoint_url=server.endpoint_url, s3_region=server.region,
            s3_access_key=server.access_key, s3_secret_key=server.secret_key, s3_bucket=bucket,
            s3_max_concurrency=args.concurrency, s3_multipart_chunk_mb=args.chunk_mb,
            s3_multipart_threshold_mb=max(args.chunk_mb, 16),
        )
        storage = build_file_storage(settings)
        assert isinstance(storage, S3FileStorage)
        client = boto3_client(server)

        pngs = [noise_png() for _ in range(N_PNG)]
        sizes = [len(p) for p in pngs]
        print(f"SeaweedFS {server.endpoint_url}; {N_PNG} PNGs, mean {statistics.mean(sizes) / 1024:.0f} KB; "
              f"concurrency {args.concurrency}, part {args.chunk_mb} MB; {os.cpu_count()} CPUs")

        # Warm up both clients (connection pools, credential resolution, model loading).
        await storage.upload_bytes(b"warm", "warm/ours")
        client.put_object(Bucket=bucket, Key="warm/boto3", Body=b"warm")

        ours_many: list[float] = []
        base_many: list[float] = []
        threads_many: list[float] = []

        def baseline(run_id: str) -> None:
            settle()
            started = time.perf_counter()
            for i, data in enumerate(pngs):
                client.put_object(Bucket=bucket, Key=f"base/{run_id}/{i:03d}.png", Body=data,
                                  ContentType="image/png")
            base_many.append(time.perf_counter() - started)

        async def ours(run_id: str) -> None:
            items = [(data, f"ours/{run_id}/{i:03d}.png", "image/png") for i, data in enumerate(pngs)]
            settle()
            started = time.perf_counter()
            urls = await storage.upload_many(items)
            ours_many.append(time.perf_counter() - started)
            assert len(urls) == N_PNG

        def server_ceiling(run_id: str) -> None:
            # Not a competitor: boto3 from 16 threads shows how fast this server takes 100 PUTs
            # when the client is not the limit.
            settle()
            started = time.perf_counter()
            with ThreadPoolExecutor(16) as pool:
                list(pool.map(lambda a: client.put_object(Bucket=bucket, Key=f"thr/{run_id}/{a[0]}.png",
                                                          Body=a[1], ContentType="image/png"),
                              enumerate(pngs)))
            threads_many.append(time.perf_counter() - started)

        for r in range(args.rounds):  # alternate who goes first
            run_id = uuid.uuid4().hex[:6]
            if r % 2:
                await ours(run_id)
                baseline(run_id)
            else:
                baseline(run_id)
                await ours(run_id)
            server_ceiling(run_id)
        assert len(await storage.list_files("ours/")) == N_PNG * args.rounds
        ratio_many = min(base_many) / min(ours_many)
        print(f"upload_many 100 PNGs : ours {best(ours_many)} | boto3 put_object loop {best(base_many)}")
        print(f"  ratio (boto3 / ours) = {ratio_many:.2f}× best-to-best, "
              f"{statistics.median(base_many) / statistics.median(ours_many):.2f}× median   (aim ≥ 3×)")
        print(f"  server ceiling: boto3 from 16 threads {best(threads_many)} "
              f"= {min(base_many) / min(threads_many):.2f}× the loop")

        big = tmp / "big.bin"
        big.write_bytes(os.urandom(BIG_MB * 1024 * 1024))
        ours_big: list[float] = []
        base_big: list[float] = []
        transfer = TransferConfig()  # boto3 defaults: 8 MB threshold and parts, 10 threads
        # Warm-up (not timed): the first large write makes SeaweedFS grow a volume.
        client.upload_file(str(big), bucket, "warm/big-base.bin", Config=transfer)
        await storage.upload_file(big, "warm/big-ours.bin")

        def base_big_run(r: int) -> None:
            settle()
            started = time.perf_counter()
            client.upload_file(str(big), bucket, f"base/big-{r}.bin", Config=transfer)
            base_big.append(time.perf_counter() - started)

        async def ours_big_run(r: int) -> None:
            settle()
            started = time.perf_counter()
            await storage.upload_file(big, f"ours/big-{r}.bin")
            ours_big.append(time.perf_counter() - started)

        for r in range(args.rounds):
            if r % 2:
                await ours_big_run(r)
                base_big_run(r)
            else:
                base_big_run(r)
                await ours_big_run(r)
        meta = await storage.get_file_metadata("ours/big-0.bin")
        assert meta["size"] == big.stat().st_size
        ratio_big = min(base_big) / min(ours_big)
        print(f"upload_file {BIG_MB} MB    : ours {best(ours_big)} | boto3 upload_file {best(base_big)}")
        print(f"  ratio (boto3 / ours) = {ratio_big:.2f}× best-to-best, "
              f"{statistics.median(base_big) / statistics.median(ours_big):.2f}× median   (aim ≥ 0.9×)")

        await storage.aclose()
        ok = ratio_many >= 3 and ratio_big >= 0.9
        print("aims met" if ok else "aims NOT met")
        return 0 if ok else 1
    finally:
        server.destroy()
        for path in sorted(tmp.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        tmp.rmdir()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--chunk-mb", type=float, default=5.0)
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
