"""The pure parts of ``make bench``: reading wrk's output and the capacity arithmetic.

The benchmark itself is never a test: nothing here starts a server or times anything.
"""

import json

import pytest

from bench import capacity
from bench.capacity import Measured
from bench.memory import scrypt_mib
from bench.rounds import Rounds
from bench.table import GOALS
from bench.wrk import Load, LoadFailed, Result, parse

# About the benchmark's own arithmetic, not the database.
pytestmark = pytest.mark.sqlite_only


NO_ERRORS = {"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0}
CLEAN = {
    "requests": 4000,
    "duration_us": 4_000_000,
    "bytes": 1,
    "errors": NO_ERRORS,
    "latency_us": {"mean": 1500.0, "p50": 1200, "p90": 2000, "p99": 5000, "max": 9000},
    "unexpected": 0,
    "exhausted": 0,
    "taken": 4004,
}


def wrk_output(changes: dict[str, object] | None = None, extra: str = "") -> str:
    data = CLEAN | (changes or {})
    return f"Running 4s test @ http://127.0.0.1:1/\n{extra}wrk-result {json.dumps(data)}\n"


def test_a_clean_run_gives_its_rate_and_latency() -> None:
    result = parse(wrk_output(), what="GET /")
    assert result.per_second == 1000
    assert (result.latency_p50_ms, result.latency_mean_ms, result.pool_taken) == (1.2, 1.5, 4004)


@pytest.mark.parametrize(
    "changes",
    [
        {"errors": NO_ERRORS | {"status": 3}},
        {"errors": NO_ERRORS | {"timeout": 1}},
        {"unexpected": 1},  # a redirect to /login where the page was asked for
        {"exhausted": 2},  # a restore round ran out of remember cookies
        {"requests": 0},
    ],
    ids=["error status", "timeout", "unexpected answer", "cookies ran out", "nothing answered"],
)
def test_any_request_gone_wrong_fails_the_whole_run(changes: dict[str, object]) -> None:
    with pytest.raises(LoadFailed):
        parse(wrk_output(changes), what="GET /account")


def test_wrks_own_count_of_error_statuses_fails_the_run_too() -> None:
    with pytest.raises(LoadFailed, match="1 non-2xx/3xx"):
        parse(wrk_output(extra="  Non-2xx or 3xx responses: 1\n"), what="GET /")


def test_output_without_a_result_line_fails() -> None:
    with pytest.raises(LoadFailed, match="no result line"):
        parse("unable to connect to 127.0.0.1:1 Connection refused\n", what="GET /")


def test_a_load_passes_only_what_it_sets_to_the_script() -> None:
    arguments = Load("/login", method="POST", body="a=1&b=2", status=302).arguments()
    assert "body=a=1&b=2" in arguments and "status=302" in arguments
    assert not any(a.startswith(("cookie=", "pool=", "marker=")) for a in arguments)


@pytest.mark.parametrize(
    ("method", "mib"),
    [("scrypt", 32), ("scrypt:16384:8:1", 16), ("scrypt:32768:16", 64), ("pbkdf2:sha256", 0)],
)
def test_scrypt_memory_is_128_n_r_bytes(method: str, mib: float) -> None:
    assert scrypt_mib(method) == mib


def test_each_round_gives_its_own_ratios() -> None:
    def rates(*per_second: float) -> list[Result]:
        return [Result(int(rate), 1.0, 10.0, 10.0) for rate in per_second]

    rounds = Rounds(
        results={
            "loginflow_page": rates(900, 1000),
            "comparison_page": rates(1000, 1000),
            "bare_page": rates(3000, 4000),
            "loginflow_home": rates(950, 800),
            "comparison_home": rates(1000, 1000),
            "restore": rates(600, 500),
            "sign_in": rates(10, 10),
        },
        hash_ms=[8.0, 10.0],
    )
    assert rounds.ratios() == {
        "page_vs_comparison": [0.9, 1.0],
        "page_vs_bare": [0.3, 0.25],
        "home_vs_comparison": [0.95, 0.8],
        "restore_vs_page": [1.5, 2.0],  # time a request: the inverse of the rates' ratio
        "sign_in_vs_hash": [1.25, 1.0],
    }


def test_each_goal_is_met_on_its_own_side_of_the_limit() -> None:
    at_least, at_most = GOALS[0], GOALS[3]
    assert at_least.met(0.9) and not at_least.met(0.89)
    assert at_most.met(1.15) and not at_most.met(1.16)


MEASURED = Measured(
    page_ms=1.0, restore_ms=2.0, sign_in_ms=100.0, hash_ms=80.0, sqlite_writes_per_second=200
)


def test_capacity_scales_with_daily_users_at_the_peak() -> None:
    users = capacity.SECONDS_PER_DAY  # one user-day a second on average
    need = capacity.capacity(MEASURED, users)
    peak = capacity.PEAK_FACTOR
    assert need.pages_per_second == pytest.approx(capacity.PAGES_PER_USER * peak)
    attempts = (capacity.SIGN_INS_PER_USER + capacity.FAILED_SIGN_INS_PER_USER) * peak
    assert need.hashing_cores == pytest.approx(attempts * 80 / 1000)
    # Pages, restores, and what a sign-in does besides its hash (20 ms of 100).
    work_ms = capacity.PAGES_PER_USER * 1.0 + capacity.RESTORES_PER_USER * 2.0
    work_ms += capacity.SIGN_INS_PER_USER * 20.0
    assert need.page_cores == pytest.approx(work_ms * peak / 1000)
    assert need.rotation_writes == pytest.approx(capacity.RESTORES_PER_USER * peak)


def test_purging_bounds_the_sign_ins_table_by_the_days_a_row_is_kept() -> None:
    need = capacity.capacity(MEASURED, 1_000_000)
    days_kept = capacity.REMEMBER_DAYS + capacity.PURGE_OLDER_THAN_DAYS + 1
    assert need.rows == pytest.approx(1_000_000 * capacity.SIGN_INS_PER_USER * days_kept)
    assert need.rows < need.rows_after_a_year_unpurged
    assert need.table_bytes == need.rows * capacity.ROW_BYTES


def test_a_small_site_needs_no_change_and_a_huge_one_several() -> None:
    small = capacity.first_changes(capacity.capacity(MEASURED, 10_000), MEASURED)
    huge = capacity.first_changes(capacity.capacity(MEASURED, 100_000_000), MEASURED)
    assert len(small) == 1 and small[0].startswith("nothing")
    assert any("PostgreSQL" in change for change in huge)
    assert any("partition" in change for change in huge)
