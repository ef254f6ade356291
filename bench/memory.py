"""Peak memory of loginflow's worker under a crowd of sign-ins with production hashing.

scrypt as Werkzeug runs it (n = 2**15, r = 8) takes 128·n·r = 32 MiB for each hash while
it runs. A worker holds at most as many hashes at once as it serves requests at once
(gunicorn's threads) and, inside loginflow, as ``passwords.MAX_CONCURRENT_HASHES`` (the
number of cores) allows: the crowd waits its turn instead of adding 32 MiB a head.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from loginflow.config import Config
from loginflow.passwords import MAX_CONCURRENT_HASHES
from loginflow.settings import WERKZEUG_SCRYPT

from .client import Answer, Browser
from .servers import WORKER_THREADS, reset_peak_resident, vm_peak_resident, vm_resident
from .sites import Loginflow

MIB = 1024 * 1024


@dataclass(frozen=True)
class Memory:
    """The worker's resident memory before the crowd and at its peak, and the bound."""

    sign_ins: int
    seconds: float
    before_mib: float
    peak_mib: float
    peak_is_since_start: bool  # the kernel would not reset VmHWM: the peak of the whole run
    hash_mib: float
    concurrent_hashes: int

    @property
    def bound_mib(self) -> float:
        """What the crowd may add at most: the hashes that can run at once, 32 MiB each."""
        return self.concurrent_hashes * self.hash_mib


def scrypt_mib(method: str) -> float:
    """The memory one hash with Werkzeug's ``method`` ("scrypt[:n[:r[:p]]]") takes."""
    name, *parameters = method.split(":")
    if name != "scrypt":
        return 0.0  # pbkdf2 takes next to none
    n, r = ([int(p) for p in parameters] + WERKZEUG_SCRYPT[len(parameters) :])[:2]
    return 128 * n * r / MIB


def crowd_sign_in(loginflow: Loginflow) -> Memory:
    """Sign the crowd in all at once, each from a browser of its own; every one must succeed."""
    port = loginflow.server.port
    browsers = [Browser(port) for _ in loginflow.crowd]
    forms = [b.sign_in_form(name) for b, name in zip(browsers, loginflow.crowd, strict=True)]
    pid = loginflow.server.worker_pid()
    reset = reset_peak_resident(pid)
    before = vm_resident(pid)
    start_line = threading.Barrier(len(browsers))

    def sign_in(index: int) -> Answer:
        start_line.wait()
        return browsers[index].request("POST", "/login", forms[index])

    start = time.monotonic()
    with ThreadPoolExecutor(len(browsers)) as pool:
        answers = list(pool.map(sign_in, range(len(browsers))))
    seconds = time.monotonic() - start
    failed = [a.status for a in answers if a.status != 302 or a.header("Location") != "/account"]
    if failed:
        raise RuntimeError(f"{len(failed)} of the crowd's sign-ins failed: statuses {failed}.")
    return Memory(
        sign_ins=len(answers),
        seconds=seconds,
        before_mib=before / MIB,
        peak_mib=vm_peak_resident(pid) / MIB,
        peak_is_since_start=not reset,
        hash_mib=scrypt_mib(Config.PASSWORD_HASH_METHOD),
        concurrent_hashes=min(WORKER_THREADS, MAX_CONCURRENT_HASHES),
    )
