"""Benchmarks of the template (`nox -s bench`), reported as ratios against baselines measured in the
same run on the same machine, so the numbers compare across machines.

- render: copier rendering the default and the largest scenario, against copier rendering a trivial
  three-file template (the cost of copier itself).
- pipeline: the default project's `make setup`, first `make run` and first `make test` with every
  dependency's bytecode compiled at install against bytecode written on first import (the
  project's default); then its DVC DAG (`dvc repro --force`, one process per stage) and its tests
  (`make test`) against the same steps in one process (`python -m <package> pipeline`, the
  floor), with the store and a champion in place.
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
from serving import bench_serving, serving_ratios
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
    """Set-up, first run and tests of the default project, with bytecode compiled at install
    (UV_COMPILE_BYTECODE=1) and written lazily on first import (the default); then, in the lazy
    project with the store and a champion in place, the DAG and the tests against the loop in one
    process (the floor)."""
    with tempfile.TemporaryDirectory() as tmp:
        results: dict[str, float] = {}
        for mode, compile_flag in (("compiled", "1"), ("lazy", "0")):
            project = render({}, Path(tmp) / mode)
            env = project_environment(UV_COMPILE_BYTECODE=compile_flag)
            for target in ("setup", "run", "test"):
                results[f"{mode}_{target}_s"] = timed(command(project, env, "make", target), 1)
            results[f"{mode}_total_s"] = sum(
                results[f"{mode}_{target}_s"] for target in ("setup", "run", "test")
            )
        # Every run after the first, in the default (lazy) project.
        results["dag_s"] = timed(command(project, env, *UV_RUN, "dvc", "repro", "--force"), 3)
        results["in_process_s"] = timed(
            command(project, env, *UV_RUN, "python", "-m", "ml_project", "pipeline"), 3
        )
        results["test_s"] = timed(command(project, env, "make", "test"), 1)
        # Each stage alone, as a user types it: what the DAG's processes cost one by one.
        stages = yaml.safe_load((project / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
        for stage in stages:
            results[f"stage_{stage}_s"] = timed(
                command(project, env, *UV_RUN, "python", "-m", "ml_project", stage), 1
            )
    results["dag_ratio"] = results["dag_s"] / results["in_process_s"]
    results["test_ratio"] = results["test_s"] / results["in_process_s"]
    results["lazy_saves_s"] = results["compiled_total_s"] - results["lazy_total_s"]
    return results


UV_RUN = ("uv", "run", "--no-sync")


def command(project: Path, env: dict[str, str], *args: str) -> Callable[[], None]:
    """Run `args` in `project`; a failure shows the command's own output."""

    def action() -> None:
        result = subprocess.run(args, cwd=project, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed:\n{result.stdout[-3000:]}{result.stderr}")

    return action


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
        command(project, env, "make", "setup")()

        def python(*args: str) -> Callable[[], None]:
            return command(project, env, *UV_RUN, "python", *args)

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
    parser.add_argument(
        "--seconds", type=int, default=10, help="load per server and connection count (wrk)"
    )
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
        report_serving(bench_serving(args.seconds), args.output.with_name("serving.json"))
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
    for mode in ("compiled", "lazy"):
        print(
            f"bytecode {mode:8}: make setup {pipeline[f'{mode}_setup_s']:.1f} s, first make run "
            f"{pipeline[f'{mode}_run_s']:.1f} s, first make test {pipeline[f'{mode}_test_s']:.1f} s"
            f" = {pipeline[f'{mode}_total_s']:.1f} s"
        )
    print(f"the loop in one process (floor): {pipeline['in_process_s']:.1f} s")
    print(f"dvc repro --force: {pipeline['dag_s']:.1f} s = {pipeline['dag_ratio']:.1f}x the floor")
    print(f"make test: {pipeline['test_s']:.1f} s = {pipeline['test_ratio']:.1f}x the floor")
    stages = {key[6:-2]: value for key, value in pipeline.items() if key.startswith("stage_")}
    print(
        "each stage alone: "
        + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in stages.items())
        + f" ({sum(stages.values()):.1f} s)"
    )


def write_results(results: dict[str, dict[str, float]], output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def report_serving(results: dict[str, dict[str, float]], output: Path) -> None:
    ratios = serving_ratios(results)
    write_results({**results, "ratios": ratios}, output)
    for name, result in results.items():
        print(
            f"{name:32} {result['rps']:7.1f} req/s  p50 {result['p50_ms']:.2f} ms  "
            f"p99 {result['p99_ms']:.2f} ms"
        )
    print(
        f"c=1: {ratios['c1_vs_mlflow']:.2f}x mlflow models serve, {ratios['c1_vs_bare']:.2f}x the "
        f"bare endpoint; c=16: 2 workers {ratios['c16_two_workers_vs_one']:.2f}x one"
    )


if __name__ == "__main__":
    main()
