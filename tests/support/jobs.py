"""Small jobs for the worker-pool tests (a light module: a worker imports it inside the job's
time limit when it unpickles the function)."""

from __future__ import annotations

import json
import os
import time

from aizoomdoc.errors import InvalidInputError


def spin(seconds: float) -> int:
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += 1
    return n


def allocate(mb: int) -> int:
    return len(bytearray(mb * 1024 * 1024))


def recurse() -> None:
    json.loads("[" * 200_000 + "]" * 200_000)


def fail() -> None:
    raise InvalidInputError("api.bad_request", detail="проверка")


def crash() -> None:
    os._exit(3)
