"""OCR processes run as background work: one OpenMP thread, a lower CPU priority that holds under
autogroup scheduling (a session of their own, the session's niceness lowered), and they die with
the process that started them."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pymupdf
import pytest

from aizoomdoc.documents.ocr import OcrOptions
from aizoomdoc.pipeline.ocr_process import OcrProcess, background_priority
from aizoomdoc.sample import build_drawing_set, rasterised_pdf


@pytest.fixture(scope="module")
def small_scan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scan") / "scan.pdf"
    path.write_bytes(rasterised_pdf(build_drawing_set(4).pdf_bytes, dpi=72, pages=[0]))
    return path


def _stat(pid: int) -> list[str]:
    raw = Path(f"/proc/{pid}/stat").read_text()
    return raw[raw.rindex(")") + 2:].split()  # fields from 3 (state) on


def _report(queue: multiprocessing.Queue, nice: int) -> None:  # runs in a spawned process
    background_priority(nice)
    queue.put((os.environ.get("OMP_THREAD_LIMIT"), os.nice(0), os.getsid(0) == os.getpid()))


def test_background_priority_sets_the_thread_limit_niceness_and_a_session() -> None:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_report, args=(queue, 7))
    proc.start()
    try:
        omp, nice, leader = queue.get(timeout=60)
    finally:
        proc.join(10)
    assert omp == "1" and nice >= 7 and leader


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_ocr_child_runs_niced_in_its_own_session(small_scan: Path) -> None:
    with pymupdf.open(small_scan) as pdf:
        width, height = pdf[0].rect.width, pdf[0].rect.height
    ocr = OcrProcess(OcrOptions(dpi=72), timeout=120, nice=9)
    try:
        ocr.recognise(str(small_scan), 0, "pdf", width, height)
        child = ocr._proc.pid
        fields = _stat(child)
        session, nice = int(fields[3]), int(fields[16])
        assert session == child and session != os.getsid(0)  # a session of its own
        assert nice >= 9
        autogroup = Path(f"/proc/{child}/autogroup")
        if autogroup.exists() and Path("/proc/sys/kernel/sched_autogroup_enabled").read_text().strip() == "1":
            assert autogroup.read_text().split()[-1] == "9"  # "/autogroup-N nice 9"
    finally:
        ocr.close()


def test_ocr_child_exits_when_its_parent_is_killed(small_scan: Path) -> None:
    with pymupdf.open(small_scan) as pdf:
        width, height = pdf[0].rect.width, pdf[0].rect.height
    code = (
        "import sys, time\n"
        "from aizoomdoc.documents.ocr import OcrOptions\n"
        "from aizoomdoc.pipeline.ocr_process import OcrProcess\n"
        "p = OcrProcess(OcrOptions(dpi=72), timeout=120)\n"
        f"p.recognise({str(small_scan)!r}, 0, 'pdf', {width}, {height})\n"
        "print(p._proc.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        child = int(parent.stdout.readline())  # type: ignore[union-attr]
        assert Path(f"/proc/{child}").exists()
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and Path(f"/proc/{child}").exists() and _stat(child)[0] != "Z":
        time.sleep(0.2)
    assert not Path(f"/proc/{child}").exists() or _stat(child)[0] == "Z"
