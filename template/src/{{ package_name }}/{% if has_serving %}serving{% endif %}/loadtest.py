"""Load test of a running service with Locust (headless): `loadtest:` in params.yaml sets the load
and the limits, the requests are /predict bodies of the project's own rows, and one pure decision
says whether the service kept every limit. `make loadtest URL=...` runs it; CI runs it against
staging before production is deployed."""

from __future__ import annotations

import itertools
import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from locust import FastHttpUser

    from ..params import LoadtestParams, Params

logger = logging.getLogger(__name__)
# The schema of one record in the service's OpenAPI document: its fields are the served features.
RECORD_SCHEMA = "Record"
# At most this many distinct rows are sent (over and over): enough variety, cheap to encode.
ROW_POOL = 1000
# How long to wait for the service's first answers (/ready, the OpenAPI document).
TIMEOUT_SECONDS = 30
# The report keeps this many of the most frequent errors.
TOP_ERRORS = 5


@dataclass(frozen=True)
class Measured:
    """What the load test saw, over every /predict request."""

    requests: int
    failures: int
    requests_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    # The most frequent errors (an HTTP status or a connection error) and how often each occurred.
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def error_rate(self) -> float:
        """Failed requests (an HTTP error or no answer) as a share of all; 1 when none was sent."""
        return self.failures / self.requests if self.requests else 1.0


@dataclass(frozen=True)
class Decision:
    """Whether the service kept every limit, and a sentence for each one it broke."""

    passed: bool
    broken: list[str]


def decide(measured: Measured, limits: LoadtestParams) -> Decision:
    """Compare the measured load with `loadtest:` of params.yaml."""
    checks = [
        ("p95 latency", measured.p95_ms, "max_p95_ms", limits.max_p95_ms, "ms"),
        ("p99 latency", measured.p99_ms, "max_p99_ms", limits.max_p99_ms, "ms"),
        ("error rate", measured.error_rate, "max_error_rate", limits.max_error_rate, ""),
    ]
    broken = [
        f"{what} {value:g}{f' {unit}' if unit else ''} > loadtest.{name} {limit:g}"
        for what, value, name, limit, unit in checks
        if value > limit
    ]
    if measured.error_rate > limits.max_error_rate and measured.errors:
        broken[-1] += f" (most often: {next(iter(measured.errors))})"
    if measured.requests == 0:
        broken.insert(0, "no request was sent")
    return Decision(passed=not broken, broken=broken)


def fetch_json(url: str) -> dict[str, Any]:
    """GET `url` as JSON; an HTTP error or no answer is a ValueError naming the URL."""
    import httpx

    try:
        response = httpx.get(url, timeout=TIMEOUT_SECONDS)
    except httpx.HTTPError as error:
        raise ValueError(f"{url} did not answer: {error}") from error
    if response.status_code != 200:
        raise ValueError(f"{url} answered {response.status_code}: {response.text[:200]}")
    return response.json()


def served_features(url: str) -> list[str]:
    """The features the service asks for in each record, read from its OpenAPI document, once
    /ready says it serves a model."""
    ready = fetch_json(f"{url}/ready")
    logger.info("%s serves %s version %s", url, ready["model_name"], ready["model_version"])
    schema = fetch_json(f"{url}/openapi.json")["components"]["schemas"][RECORD_SCHEMA]
    return list(schema["properties"])


def request_bodies(params: Params, features: list[str], records: int) -> list[str]:
    """/predict bodies of `records` complete rows each, from the rows of data.source (the data
    the pipeline reads), with the served features as keys."""
    from ..ingest import load_source

    table = load_source(params.data)
    missing = [name for name in features if name not in table.columns]
    if missing:
        raise ValueError(f"data.source {params.data.source!r} lacks served features: {missing}")
    rows = table[features].dropna().astype("float64")
    if rows.empty:
        raise ValueError(f"data.source {params.data.source!r} has no row without empty features")
    rows = rows.sample(n=min(len(rows), ROW_POOL), random_state=params.data.seed)
    values = rows.to_dict("records")
    batches = [
        values[start : start + records] for start in range(0, len(values) - records + 1, records)
    ] or [(values * records)[:records]]
    return [json.dumps({"records": batch}) for batch in batches]


def key_header() -> dict[str, str]:
    """The API key header for a service that requires one: the first key of API_KEY or
    API_KEY_FILE, read as the service reads them (in CI, the secret of the environment under
    test); none when neither is set."""
    from .auth import KEY_HEADER
    from .settings import API_KEY_SEPARATOR, ServingSettings

    key = ServingSettings().api_key
    return {KEY_HEADER: key.get_secret_value().split(API_KEY_SEPARATOR)[0]} if key else {}


def user_class(bodies: list[str], limits: LoadtestParams) -> type[FastHttpUser]:
    """A Locust user that posts the bodies in turn (shared by every user), at most
    `requests_per_user_per_second` a second."""
    from locust import FastHttpUser, constant_throughput, task

    turn = itertools.cycle(bodies)
    headers = {"Content-Type": "application/json", **key_header()}

    class ServiceUser(FastHttpUser):
        wait_time = constant_throughput(limits.requests_per_user_per_second)

        @task
        def predict(self) -> None:
            self.client.post("/predict", data=next(turn), headers=headers)

    return ServiceUser


def apply_load(url: str, user: type[FastHttpUser], limits: LoadtestParams) -> Measured:
    """Run `users` users for `duration_seconds` against `url` (Locust's library API)."""
    import gevent
    from locust.env import Environment

    environment = Environment(user_classes=[user], host=url)
    runner = environment.create_local_runner()

    def stop_in_time() -> None:
        # Against the clock: gevent's loop time is stale until the loop first runs, so a timer
        # (spawn_later) started now could fire seconds early.
        deadline = time.monotonic() + limits.duration_seconds
        while (left := deadline - time.monotonic()) > 0:
            gevent.sleep(left)
        runner.quit()

    runner.start(limits.users, spawn_rate=limits.spawn_rate)
    gevent.spawn(stop_in_time)
    runner.greenlet.join()
    total = environment.stats.total
    errors = sorted(environment.stats.errors.values(), key=lambda error: -error.occurrences)
    return Measured(
        requests=total.num_requests,
        failures=total.num_failures,
        requests_per_second=round(total.total_rps, 2),
        p50_ms=total.get_response_time_percentile(0.50),
        p95_ms=total.get_response_time_percentile(0.95),
        p99_ms=total.get_response_time_percentile(0.99),
        errors={str(error.error): error.occurrences for error in errors[:TOP_ERRORS]},
    )


def run(url: str, params: Params, report: Path) -> int:
    """Load-test the service at `url`, write `report`; 0 when every limit held, else 1. Import
    locust before this module: its gevent patches the standard library's sockets and ssl."""
    from ..files import write_json

    url = url.rstrip("/")
    if not url:
        raise ValueError("no service URL: make loadtest URL=https://... (or --url)")
    limits = params.loadtest
    logging.getLogger("httpx").setLevel(logging.WARNING)  # no line for each of the two GETs
    bodies = request_bodies(params, served_features(url), limits.records_per_request)
    measured = apply_load(url, user_class(bodies, limits), limits)
    decision = decide(measured, limits)
    write_json(
        report,
        {
            "url": url,
            "load": limits.model_dump(),
            "measured": {**asdict(measured), "error_rate": measured.error_rate},
            **asdict(decision),
        },
    )
    summary = (
        f"{measured.requests} requests ({measured.requests_per_second:g}/s), "
        f"{measured.failures} failed ({100 * measured.error_rate:.2f} percent), "
        f"p50 {measured.p50_ms:g} ms, "
        f"p95 {measured.p95_ms:g} ms, p99 {measured.p99_ms:g} ms (report: {report})"
    )
    if not decision.passed:
        print(f"load test failed: {'; '.join(decision.broken)}; {summary}")
        return 1
    print(f"load test passed: {summary}")
    return 0
