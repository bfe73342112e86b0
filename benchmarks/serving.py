"""Serving benchmark (`nox -s bench -- --serving`): the generated service against `mlflow models
serve` of the same registered model, and against a bare FastAPI endpoint (bare_app.py) serving
it, on this machine, with the same client in the same run. Reports requests per second and
p50/p99 latency of one-record predictions, and the ratios to the generated service."""

from __future__ import annotations

import http.client
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from rendering import render
from tools import free_port, project_environment

MODEL_URI = "models:/ml-project@champion"


def wait_until_up(port: int, path: str, server: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"server exited: {server.stderr.read() if server.stderr else ''}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"port {port} did not answer {path}")


def load(port: int, path: str, body: dict, requests: int) -> dict[str, float]:
    """Sequential requests over one keep-alive connection: latency percentiles and throughput."""
    payload = json.dumps(body)
    headers = {"Content-Type": "application/json"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for _ in range(20):  # warm-up
        connection.request("POST", path, payload, headers)
        connection.getresponse().read()
    latencies = []
    start = time.perf_counter()
    for _ in range(requests):
        sent = time.perf_counter()
        connection.request("POST", path, payload, headers)
        response = connection.getresponse()
        response.read()
        assert response.status == 200, response.status
        latencies.append(time.perf_counter() - sent)
    total = time.perf_counter() - start
    cuts = statistics.quantiles(latencies, n=100)
    return {"rps": requests / total, "p50_ms": cuts[49] * 1000, "p99_ms": cuts[98] * 1000}


def bench_serving(requests: int) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        project = render({}, Path(tmp) / "project")
        env = project_environment(MODEL_URI=MODEL_URI, LOG_LEVEL="WARNING")
        for target in ("setup", "run"):
            subprocess.run(["make", target], cwd=project, env=env, check=True, capture_output=True)
        spec = json.loads((project / "data/processed/features.json").read_text())
        test = project / "data/processed/test.parquet"
        probe = (
            "import json, pandas as p; f = p.read_parquet('" + str(test) + "');"
            f"print(json.dumps(f[{spec['features']!r}].head(1).to_dict(orient='records')))"
        )
        records = json.loads(
            subprocess.run(
                ["uv", "run", "--no-sync", "python", "-c", probe],
                cwd=project, env=env, check=True, capture_output=True, text=True,
            ).stdout
        )  # fmt: skip
        python = ["uv", "run", "--no-sync", "python"]
        servers = {
            "generated service": (
                [*python, "-m", "ml_project", "serve", "--host", "127.0.0.1", "--port", "{port}"],
                "/ready", "/predict", {"records": records},
            ),
            "mlflow models serve": (
                ["uv", "run", "--no-sync", "mlflow", "models", "serve", "-m", MODEL_URI,
                 "--env-manager", "local", "--host", "127.0.0.1", "--port", "{port}"],
                "/ping", "/invocations", {"dataframe_records": records},
            ),
            "bare FastAPI endpoint": (
                [*python, "-m", "uvicorn", "--app-dir", str(Path(__file__).parent),
                 "bare_app:app", "--host", "127.0.0.1", "--port", "{port}", "--log-level",
                 "warning"],
                "/docs", "/predict", {"records": records},
            ),
        }  # fmt: skip
        for name, (command, ready, path, body) in servers.items():
            port = free_port()
            argv = [part.replace("{port}", str(port)) for part in command]
            server = subprocess.Popen(
                argv, cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                text=True,
            )  # fmt: skip
            try:
                wait_until_up(port, ready, server)
                results[name] = load(port, path, body, requests)
            finally:
                server.terminate()
                server.wait(timeout=30)
    base = results["generated service"]
    for result in results.values():
        result["rps_ratio"] = result["rps"] / base["rps"]
    return results
