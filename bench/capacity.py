"""The capacity on paper for 10 thousand, 1 million and 100 million daily users.

    python -m bench.capacity [bench/results.json]        (make capacity)

From what ``make bench`` measured on one machine (a core's milliseconds per signed-in
page, per restore, per sign-in and per password hash) and the assumptions below: the
cores, database reads and writes, throttle counters and sign-ins table a site of each
size needs at its busiest, and what in the design would change first. Change an
assumption here and rerun: the table is computed from the measurements, never typed.
"""

import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Per daily user and day. Remember me keeps most people signed in, so a password is
# typed rarely and a browser session mostly begins with a restore.
PAGES_PER_USER = 20  # signed-in pages
RESTORES_PER_USER = 1.0  # browser sessions begun from the remember cookie
SIGN_INS_PER_USER = 0.1  # passwords typed: one every ten days (Remember me lasts 14)
FAILED_SIGN_INS_PER_USER = 0.02  # typos; each costs a hash and a throttle count too
SIGN_OUTS_PER_USER = 0.05
# Minutes with at least one request: last_seen_at is written at most once a minute.
ACTIVE_MINUTES_PER_USER = 10
# The busiest second of the day over the day's average second.
PEAK_FACTOR = 5
# One SignIn row with its share of the three indexes: a user agent (~120 bytes), two
# sha256 digests in hex, the session token and selector, six times, a few numbers.
ROW_BYTES = 500
REMEMBER_DAYS = 14  # REMEMBER_ME_DURATION: the longest a sign-in stays in force
PURGE_OLDER_THAN_DAYS = 30  # flask sign-ins purge --older-than 30, run daily
# Throttle counters per sign-in attempt: two rules (username, address), each counted
# before the check and given back after a success (throttle.py): 4 operations, 2 if it failed.
COUNTER_OPERATIONS_PER_SIGN_IN, COUNTER_OPERATIONS_PER_FAILURE = 4, 2
# Where one part runs out (assumed: a mid-size PostgreSQL primary, 16-core machines).
PRIMARY_READS_PER_SECOND = 20_000  # indexed point reads
PRIMARY_WRITES_PER_SECOND = 5_000  # small committed updates
CORES_PER_MACHINE = 16
ROWS_BEFORE_PARTITIONING = 100_000_000
DAILY_USERS = (10_000, 1_000_000, 100_000_000)
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class Measured:
    """A core's milliseconds for each kind of request, from the bench's JSON."""

    page_ms: float
    restore_ms: float
    sign_in_ms: float
    hash_ms: float
    sqlite_writes_per_second: float  # what the restore rounds reached, one commit each

    @classmethod
    def from_results(cls, results: dict[str, Any]) -> "Measured":
        # One gunicorn worker runs Python on one core at a time (the GIL), so at saturation
        # a request's milliseconds are a core's milliseconds, or more on a busy machine.
        measured = results["measured"]
        return cls(
            page_ms=measured["loginflow_page"]["ms_per_request"],
            restore_ms=measured["restore"]["ms_per_request"],
            sign_in_ms=measured["sign_in"]["p50_ms"],
            hash_ms=results["hash_ms"],
            sqlite_writes_per_second=measured["restore"]["per_second"],
        )


@dataclass(frozen=True)
class Capacity:
    """What a site of ``daily_users`` needs at its busiest second."""

    daily_users: int
    pages_per_second: float
    restores_per_second: float
    sign_ins_per_second: float  # attempts, failed ones included
    hashing_cores: float
    page_cores: float
    reads_per_second: float
    last_seen_writes: float
    rotation_writes: float
    sign_in_writes: float  # new rows, and revocations at sign-out
    counter_operations: float
    rows: int  # in the sign-ins table, purged daily
    rows_after_a_year_unpurged: int

    @property
    def writes_per_second(self) -> float:
        return self.last_seen_writes + self.rotation_writes + self.sign_in_writes

    @property
    def table_bytes(self) -> int:
        return self.rows * ROW_BYTES


def capacity(measured: Measured, daily_users: int) -> Capacity:
    def peak(per_user: float) -> float:
        return daily_users * per_user / SECONDS_PER_DAY * PEAK_FACTOR

    pages, restores = peak(PAGES_PER_USER), peak(RESTORES_PER_USER)
    sign_ins, failed = peak(SIGN_INS_PER_USER), peak(FAILED_SIGN_INS_PER_USER)
    # The work of a sign-in besides its hash: the form, the row, the session.
    sign_in_rest_ms = max(measured.sign_in_ms - measured.hash_ms, 0.0)
    page_work_ms = (
        pages * measured.page_ms + restores * measured.restore_ms + sign_ins * sign_in_rest_ms
    )
    new_rows_per_day = daily_users * SIGN_INS_PER_USER  # a restore reuses its row
    return Capacity(
        daily_users=daily_users,
        pages_per_second=pages,
        restores_per_second=restores,
        sign_ins_per_second=sign_ins + failed,
        hashing_cores=(sign_ins + failed) * measured.hash_ms / 1000,
        page_cores=page_work_ms / 1000,
        # One indexed read each: the SignIn with its User (a page, a restore by selector),
        # the user by name (a sign-in).
        reads_per_second=pages + restores + sign_ins + failed,
        last_seen_writes=min(pages, peak(ACTIVE_MINUTES_PER_USER)),
        rotation_writes=restores,
        sign_in_writes=sign_ins + peak(SIGN_OUTS_PER_USER),
        counter_operations=sign_ins * COUNTER_OPERATIONS_PER_SIGN_IN
        + failed * COUNTER_OPERATIONS_PER_FAILURE,
        # A row is in force at most REMEMBER_DAYS, then kept PURGE_OLDER_THAN_DAYS more.
        rows=math.ceil(new_rows_per_day * (REMEMBER_DAYS + PURGE_OLDER_THAN_DAYS + 1)),
        rows_after_a_year_unpurged=math.ceil(new_rows_per_day * 365),
    )


def first_changes(need: Capacity, measured: Measured) -> list[str]:
    """What in the design gives way first at this size, in the order it would."""
    changes = []
    # Half of what SQLite's one writer took in the restore rounds: room for bursts.
    if need.writes_per_second > measured.sqlite_writes_per_second / 2:
        changes.append("PostgreSQL instead of SQLite: its one writer would be over half busy")
    if need.hashing_cores + need.page_cores > CORES_PER_MACHINE:
        changes.append(
            "several instances, with the throttle counters in Redis (FLASK_RATELIMIT_STORAGE_URI)"
        )
    if need.hashing_cores > need.page_cores:
        changes.append("password hashing outweighs pages: hash on cores of their own")
    if need.reads_per_second > PRIMARY_READS_PER_SECOND:
        changes.append("read replicas for the per-page SignIn read")
    if need.writes_per_second > PRIMARY_WRITES_PER_SECOND:
        changes.append(
            "writes outgrow one primary: a coarser last_seen_at, sign-ins sharded by user"
        )
    if need.rows > ROWS_BEFORE_PARTITIONING:
        changes.append("sign_ins partitioned by month, purged by dropping a partition")
    return changes or ["nothing: one small machine with SQLite serves it"]


def render(measured: Measured, needs: list[Capacity]) -> str:
    rows: list[tuple[str, list[str]]] = [
        ("signed-in pages a second", [_n(c.pages_per_second) for c in needs]),
        ("restores a second", [_n(c.restores_per_second) for c in needs]),
        ("sign-in attempts a second", [_n(c.sign_ins_per_second) for c in needs]),
        ("cores for password hashing", [_n(c.hashing_cores) for c in needs]),
        ("cores for pages (restores, sign-ins' rest)", [_n(c.page_cores) for c in needs]),
        ("database reads a second", [_n(c.reads_per_second) for c in needs]),
        ("database writes a second", [_n(c.writes_per_second) for c in needs]),
        ("  last_seen_at (once a minute at most)", [_n(c.last_seen_writes) for c in needs]),
        ("  remember rotation (one a restore)", [_n(c.rotation_writes) for c in needs]),
        ("  new sign-ins and sign-outs", [_n(c.sign_in_writes) for c in needs]),
        ("throttle counter operations a second", [_n(c.counter_operations) for c in needs]),
        ("sign-ins rows, purged daily", [_n(c.rows) for c in needs]),
        ("sign-ins table, purged daily", [_bytes(c.table_bytes) for c in needs]),
        ("rows after a year without purging", [_n(c.rows_after_a_year_unpurged) for c in needs]),
    ]
    header = f"{'daily users':44}" + "".join(f"{_n(c.daily_users):>14}" for c in needs)
    lines = [header] + [
        f"{label:44}" + "".join(f"{v:>14}" for v in values) for label, values in rows
    ]
    for need in needs:
        lines.append(
            f"changes first at {_n(need.daily_users)}: {'; '.join(first_changes(need, measured))}."
        )
    return "\n".join(lines)


def assumptions(measured: Measured) -> str:
    return (
        f"per daily user and day: {PAGES_PER_USER} signed-in pages, {RESTORES_PER_USER:g} "
        f"restore, {SIGN_INS_PER_USER:g} sign-ins (+{FAILED_SIGN_INS_PER_USER:g} failed), "
        f"{SIGN_OUTS_PER_USER:g} sign-outs, {ACTIVE_MINUTES_PER_USER} active minutes; the busiest "
        f"second {PEAK_FACTOR}x the average; a SignIn row {ROW_BYTES} bytes; purge --older-than "
        f"{PURGE_OLDER_THAN_DAYS} daily\nmeasured, a core's ms: page {measured.page_ms:.2f}, "
        f"restore {measured.restore_ms:.2f}, sign-in {measured.sign_in_ms:.0f}, a password hash "
        f"alone {measured.hash_ms:.0f}; SQLite took "
        f"{measured.sqlite_writes_per_second:.0f} restore commits a second"
    )


def _n(value: float, decimals: int | None = None) -> str:
    """A figure with commas; small ones keep a decimal or two, so 0.07 does not read 0."""
    if decimals is None:
        decimals = 0 if value >= 10 or value == 0 else 1 if value >= 1 else 2
    return f"{value:,.{decimals}f}"


def _bytes(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:,.0f} {unit}"
        size //= 1000
    raise AssertionError  # the loop returns at TB


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    path = Path(arguments[0]) if arguments else Path(__file__).with_name("results.json")
    if not path.is_file():
        print(f"No {path}: make bench writes it.", file=sys.stderr)
        return 1
    measured = Measured.from_results(json.loads(path.read_text()))
    print(assumptions(measured))
    print(render(measured, [capacity(measured, users) for users in DAILY_USERS]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
