"""Commands of the serving component: serve, score, export, loadtest."""

import argparse
import logging
import os
import tempfile
from pathlib import Path

from ..paths import LOADTEST_REPORT
from .log_config import with_logging

logger = logging.getLogger(__name__)
# prometheus-client's multiprocess mode: the folder the workers write their metrics to (the name
# metrics.py reads too; importing that module here would create the metrics before it is set).
METRICS_FOLDER = "PROMETHEUS_MULTIPROC_DIR"


def share_metrics_folder() -> Path:
    """PROMETHEUS_MULTIPROC_DIR emptied of an earlier run's samples, or a new folder, set in the
    environment that the worker processes inherit."""
    folder = os.environ.get(METRICS_FOLDER)
    if folder:
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
    else:
        path = Path(tempfile.mkdtemp(prefix="metrics-"))
        os.environ[METRICS_FOLDER] = str(path)
    return path


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    # Before the metrics are first imported: from then on they are kept in that folder.
    shared = args.workers > 1 or bool(os.environ.get(METRICS_FOLDER))
    folder = share_metrics_folder() if shared else None
    from .log_config import configure_logging

    options = {
        "host": args.host,
        "port": args.port,
        "log_config": configure_logging(),
        "access_log": False,
    }
    if folder is not None:
        logger.info("%d worker(s), their metrics in %s", args.workers, folder)
    if args.workers == 1:
        from .app import create_app

        uvicorn.run(create_app(), **options)
        return 0
    # Each worker process builds its own app and model; /metrics adds their metrics up, and the
    # prediction log takes each request's lines whole.
    uvicorn.run(f"{__package__}.app:create_app", factory=True, workers=args.workers, **options)
    return 0


def worker_count(value: str) -> int:
    count = int(value)
    if count < 1:
        raise argparse.ArgumentTypeError(f"needs at least one worker, got {count}")
    return count


def score(args: argparse.Namespace) -> int:
    from .batch import score_file
    from .model import ModelNotAvailableError, load_model
    from .prediction_log import open_prediction_log
    from .settings import ServingSettings

    settings = ServingSettings()
    try:
        model = load_model(args.model_uri or settings.model_uri, settings.mlflow_tracking_uri)
    except ModelNotAvailableError as error:
        logger.error("%s", error)
        return 2
    log = None if args.no_log else open_prediction_log(settings)
    try:
        count = score_file(model, args.input, args.output, log, settings.allow_missing)
    except (OSError, ValueError) as error:
        logger.error("%s", error)
        return 2
    finally:
        if log is not None:
            log.close()
    logger.info(
        "scored %d rows with %s version %s -> %s", count, model.name, model.version, args.output
    )
    return 0


def export(args: argparse.Namespace) -> int:
    from .model import ModelNotAvailableError, export_model
    from .settings import ServingSettings

    settings = ServingSettings()
    try:
        model = export_model(
            args.model_uri or settings.model_uri, settings.mlflow_tracking_uri, args.output
        )
    except ModelNotAvailableError as error:
        logger.error("%s", error)
        return 2
    logger.info("exported %s version %s to %s", model.name, model.version, args.output)
    return 0


def load_test(args: argparse.Namespace) -> int:
    # First: Locust's gevent patches the standard library's sockets and ssl when imported.
    import locust  # noqa: F401

    from ..params import load_params
    from .loadtest import run

    return run(args.url, load_params(args.params), args.report)


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register serve, score and export on the project's CLI."""
    serve_parser = subparsers.add_parser("serve", help="run the HTTP service (uvicorn)")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    serve_parser.add_argument(
        "--workers",
        type=worker_count,
        default=os.environ.get("WEB_CONCURRENCY", "1"),
        help="worker processes (default: WEB_CONCURRENCY, else 1); about one per CPU core",
    )
    serve_parser.set_defaults(handler=serve)

    score_parser = subparsers.add_parser("score", help="score a CSV/Parquet file with the model")
    score_parser.add_argument("--input", type=Path, required=True)
    score_parser.add_argument("--output", type=Path, required=True)
    score_parser.add_argument("--model-uri", help="default: MODEL_URI (the champion)")
    score_parser.add_argument(
        "--no-log", action="store_true", help="do not append to the prediction log"
    )
    score_parser.set_defaults(handler=with_logging(score))

    export_parser = subparsers.add_parser(
        "export", help="copy the champion into a directory that MODEL_URI can point at"
    )
    export_parser.add_argument("--output", type=Path, default=Path("build/model"))
    export_parser.add_argument("--model-uri", help="default: MODEL_URI (the champion)")
    export_parser.set_defaults(handler=with_logging(export))

    loadtest_parser = subparsers.add_parser(
        "loadtest",
        help="load-test a running service (Locust); exit 1 when it breaks a limit of params.yaml",
    )
    loadtest_parser.add_argument(
        "--url", required=True, help="the service's base URL, e.g. http://127.0.0.1:8000"
    )
    loadtest_parser.add_argument(
        "--report", type=Path, default=LOADTEST_REPORT, help="default: %(default)s"
    )
    loadtest_parser.set_defaults(handler=with_logging(load_test))
