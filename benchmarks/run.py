"""Benchmarks of the template (`nox -s bench`), reported as ratios against baselines measured in the
same run on the same machine, so the numbers compare across machines.

- render: copier rendering the default and the largest scenario, against copier rendering a trivial
  three-file template (the cost of copier itself).
- pipeline: the generated project's first `make run` (an empty store), then its DVC DAG
  (`dvc repro --force`, one process per stage) against the same steps in one process
  (`python -m <package> pipeline`), both with the store and a champion in place: the cost of
  running the loop as a versioned DAG.
- features (`--features`): the features step on Spark (`feature_engine=spark`, local[*]) against
  the pandas path of the same project, each as a fresh process, on the bundled dataset and on a
  larger synthetic table: what the engine costs on one machine, and how the gap closes with size.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import copier
from rendering import render, rendered_files, scenario, scenario_names, snapshot
from serving import bench_serving
from tools import project_environment


def timed(action: Callable[[], object], repeat: int) -> float:
    """Median wall time of `repeat` runs, in seconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def trivial_template(root: Path) -> Path:
    """A three-file template with one question, as a git repository."""
    root.mkdir()
    (root / "copier.yml").write_text("name:\n  type: str\n  default: demo\n", encoding="utf-8")
    (root / "README.md.jinja").write_text("# {{ name }}\n", encoding="utf-8")
    (root / "main.py").write_text("print('hello')\n", encoding="utf-8")
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "trivial"]):
        subprocess.run(
            ["git", "-c", "user.name=b", "-c", "user.email=b@example.com", *command],
            cwd=root,
            check=True,
        )
    return root


def largest_scenario() -> str:
    with tempfile.TemporaryDirectory() as tmp:
        template = snapshot(Path(tmp) / "t")
        sizes = {
            name: len(rendered_files(render(scenario(name), Path(tmp) / name, template=template)))
            for name in scenario_names()
        }
    return max(sizes, key=sizes.__getitem__)


def bench_render(repeat: int) -> dict[str, float]:
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        template = snapshot(base / "template")
        trivial = trivial_template(base / "trivial")
        counter = iter(range(10_000))

        def render_trivial() -> None:
            copier.run_copy(str(trivial), base / f"t{next(counter)}", defaults=True, quiet=True)

        def render_scenario(name: str) -> Callable[[], None]:
            return lambda: render(scenario(name), base / f"s{next(counter)}", template=template)

        results["trivial_s"] = timed(render_trivial, repeat)
        for label, name in (("default", "defaults"), ("largest", largest_scenario())):
            results[f"{label}_s"] = timed(render_scenario(name), repeat)
            results[f"{label}_ratio"] = results[f"{label}_s"] / results["trivial_s"]
    return results


def bench_pipeline() -> dict[str, float]:
    env = project_environment()
    with tempfile.TemporaryDirectory() as tmp:
        project = render({}, Path(tmp) / "project")

        def make(target: str) -> Callable[[], None]:
            return lambda: subprocess.run(
                ["make", target], cwd=project, env=env, check=True, capture_output=True
            )

        def uv_run(*command: str) -> Callable[[], None]:
            return lambda: subprocess.run(
                ["uv", "run", "--no-sync", *command],
                cwd=project,
                env=env,
                check=True,
                capture_output=True,
            )

        setup_s = timed(make("setup"), 1)
        run_s = timed(make("run"), 1)
        # With the store created and a champion registered, as in every run after the first:
        # the DAG, one process per stage, against the same steps in one process.
        dag_s = timed(uv_run("dvc", "repro", "--force"), 3)
        in_process_s = timed(uv_run("python", "-m", "ml_project", "pipeline"), 3)
    return {
        "setup_s": setup_s,
        "run_s": run_s,
        "dag_s": dag_s,
        "in_process_s": in_process_s,
        "dag_ratio": dag_s / in_process_s,
    }


SPARK_PROJECT = {
    "preset": "starter", "project_name": "Engine Bench", "feature_engine": "spark",
    "data_versioning": "none", "experiment_tracking": "none",
}  # fmt: skip
PANDAS_FEATURES = (
    "from engine_bench import features; from engine_bench.params import load_params; "
    "from engine_bench.steps import BY_NAME; "
    "features.run(load_params(), **BY_NAME['features'].inputs, **BY_NAME['features'].outputs)"
)


def synthetic_table(path: Path, rows: int, columns: int = 30) -> None:
    """A numeric table with a 0/1 label, the shape of the bundled dataset but `rows` long."""
    rng = np.random.default_rng(0)
    names = [f"x{i}" for i in range(columns)]
    table = pd.DataFrame(rng.normal(size=(rows, columns)), columns=names)
    table["target"] = (table["x0"] + rng.normal(size=rows) > 0).astype("int64")
    table.to_parquet(path, index=False)


def bench_features(sizes: list[int]) -> dict[str, dict[str, float]]:
    env = project_environment()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        project = render(SPARK_PROJECT, Path(tmp) / "project")
        subprocess.run(["make", "setup"], cwd=project, env=env, check=True, capture_output=True)

        def python(*args: str) -> Callable[[], None]:
            command = ["uv", "run", "--no-sync", "python", *args]
            return lambda: subprocess.run(
                command, cwd=project, env=env, check=True, capture_output=True
            )

        params_file = project / "params.yaml"
        params = yaml.safe_load(params_file.read_text(encoding="utf-8"))
        for rows in [0, *sizes]:
            if rows:
                synthetic_table(project / "synthetic.parquet", rows)
                params["data"]["source"] = "synthetic.parquet"
            params_file.write_text(yaml.safe_dump(params), encoding="utf-8")
            python("-m", "engine_bench", "ingest")()
            python("-m", "engine_bench", "validate")()
            size = len(pd.read_parquet(project / "data" / "raw" / "dataset.parquet"))
            pandas_s = timed(python("-c", PANDAS_FEATURES), 3)
            spark_s = timed(python("-m", "engine_bench", "features"), 3)
            results[f"{size}_rows"] = {
                "pandas_s": pandas_s,
                "spark_s": spark_s,
                "spark_ratio": spark_s / pandas_s,
            }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5, help="renders per measurement")
    parser.add_argument("--output", type=Path, default=Path(".benchmarks/results.json"))
    parser.add_argument("--serving", action="store_true", help="only the serving benchmark")
    parser.add_argument("--requests", type=int, default=500, help="requests per server")
    parser.add_argument(
        "--features", action="store_true", help="only the feature engine benchmark (Spark, pandas)"
    )
    parser.add_argument(
        "--rows", type=int, nargs="*", default=[1_000_000], help="synthetic table sizes"
    )
    args = parser.parse_args()

    if args.features:
        results = bench_features(args.rows)
        write_results(results, args.output.with_name("features.json"))
        for size, result in results.items():
            print(
                f"features step, {size:>14}: pandas {result['pandas_s']:.1f} s (baseline), "
                f"spark {result['spark_s']:.1f} s = {result['spark_ratio']:.1f}x"
            )
        return

    if args.serving:
        report_serving(bench_serving(args.requests), args.output.with_name("serving.json"))
        return
    results = {"render": bench_render(args.repeat), "pipeline": bench_pipeline()}
    write_results(results, args.output)
    render_, pipeline = results["render"], results["pipeline"]
    print(f"render trivial template : {render_['trivial_s']:.2f} s (baseline)")
    print(
        f"render default scenario : {render_['default_s']:.2f} s = {render_['default_ratio']:.1f}x"
    )
    print(
        f"render largest scenario : {render_['largest_s']:.2f} s = {render_['largest_ratio']:.1f}x"
    )
    print(f"project set-up (make setup, cached packages): {pipeline['setup_s']:.1f} s")
    print(f"first make run (DVC, empty store): {pipeline['run_s']:.1f} s")
    print(
        f"dvc repro --force: {pipeline['dag_s']:.1f} s = {pipeline['dag_ratio']:.1f}x "
        f"the same steps in one process ({pipeline['in_process_s']:.1f} s)"
    )


def write_results(results: dict[str, dict[str, float]], output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def report_serving(results: dict[str, dict[str, float]], output: Path) -> None:
    write_results(results, output)
    for name, result in results.items():
        print(
            f"{name:22} {result['rps']:7.1f} req/s ({result['rps_ratio']:.2f}x the generated "
            f"service)  p50 {result['p50_ms']:.2f} ms  p99 {result['p99_ms']:.2f} ms"
        )


if __name__ == "__main__":
    main()
