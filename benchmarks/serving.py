"""Serving benchmark (`nox -s bench -- --serving`): the generated service, with one worker and with
two (`serve --workers 2`), against `mlflow models serve` of the same registered model and a bare
FastAPI endpoint that calls the model on a numpy array (bare_app.py), on this machine, under the
same load generator (wrk) in the same run. Reports requests per second and p50/p99 latency of
one-record predictions at 1 and at 16 connections, and the ratios the targets are set in."""

from __future__ import annotations

import http.client
import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from rendering import render
from tools import free_port, project_environment

MODEL_URI = "models:/ml-project@champion"
CONNECTIONS = (1, 16)
# A latency line of `wrk --latency`: "     99%   10.00ms".
PERCENTILE = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


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


def wrk(url: str, body: dict, connections: int, seconds: int, folder: Path) -> dict[str, float]:
    """POST `body` to `url` for `seconds` over `connections` keep-alive connections."""
    script = folder / "post.lua"
    payload = json.dumps(body)
    script.write_text(
        f'wrk.method = "POST"\nwrk.body = [[{payload}]]\n'
        'wrk.headers["Content-Type"] = "application/json"\n',
        encoding="utf-8",
    )
    output = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    if "Non-2xx" in output:
        raise RuntimeError(f"{url} answered errors under load:\n{output}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    cuts = {int(p): float(v) * UNIT_MS[unit] for p, v, unit in PERCENTILE.findall(output)}
    return {"rps": rps, "p50_ms": cuts[50], "p99_ms": cuts[99]}


def bench_serving(seconds: int) -> dict[str, dict[str, float]]:
    if shutil.which("wrk") is None:
        raise SystemExit("the serving benchmark needs wrk: apt-get install wrk (brew install wrk)")
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
        service = [*python, "-m", "ml_project", "serve", "--host", "127.0.0.1", "--port", "{port}"]
        servers = {
            "generated service": (service, "/ready", "/predict", {"records": records}),
            "generated, 2 workers": (
                [*service, "--workers", "2"], "/ready", "/predict", {"records": records},
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
                url = f"http://127.0.0.1:{port}{path}"
                wrk(url, body, 1, 2, Path(tmp))  # warm-up
                for connections in CONNECTIONS:
                    results[f"{name}, c={connections}"] = wrk(
                        url, body, connections, seconds, Path(tmp)
                    )
            finally:
                server.terminate()
                server.wait(timeout=30)
    return results


def serving_ratios(results: dict[str, dict[str, float]]) -> dict[str, float]:
    """The ratios the serving targets are set in, from one run's results."""

    def rps(name: str) -> float:
        return results[name]["rps"]

    return {
        "c1_vs_mlflow": rps("generated service, c=1") / rps("mlflow models serve, c=1"),
        "c1_vs_bare": rps("generated service, c=1") / rps("bare FastAPI endpoint, c=1"),
        "c16_two_workers_vs_one": (
            rps("generated, 2 workers, c=16") / rps("generated service, c=16")
        ),
    }
