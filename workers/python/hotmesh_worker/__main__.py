"""Run a worker from the command line:

    python3 -m hotmesh_worker --redis redis://localhost:6379 --task-queue legacy my_activities

serves the activities of module ``my_activities``: its ``ACTIVITIES`` dict (name -> function), or
else every public function it defines. SIGTERM / SIGINT stop it, giving running tasks back.
Prints ``hotmesh_worker ready`` on stdout once it serves.
"""
import argparse
import importlib
import inspect
import logging
import signal
import sys

from .worker import ProtocolError, Worker


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m hotmesh_worker", description="Serve HotMesh activities from Python.")
    parser.add_argument("module", help="module whose ACTIVITIES dict (or public functions) are served")
    parser.add_argument("--redis", default="redis://localhost:6379", help="Redis URL (default redis://localhost:6379)")
    parser.add_argument("--namespace", default="default", help="HotMesh namespace (default: default)")
    parser.add_argument("--task-queue", required=True, help="activity task queue to serve")
    parser.add_argument("--concurrency", type=int, default=10, help="activities run at once (default 10)")
    parser.add_argument("--visibility-timeout-ms", type=int, default=30_000,
                        help="the namespace's visibility timeout (default 30000)")
    parser.add_argument("--max-deliveries", type=int, default=10, help="the namespace's max deliveries (default 10)")
    parser.add_argument("--consumer", default=None, help="consumer name (default py:<host>:<pid>)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")

    module = importlib.import_module(args.module)
    activities = getattr(module, "ACTIVITIES", None)
    if activities is None:
        activities = {name: value for name, value in vars(module).items()
                      if inspect.isfunction(value) and value.__module__ == module.__name__ and not name.startswith("_")}
    worker = Worker(args.redis, args.task_queue, namespace=args.namespace, concurrency=args.concurrency,
                    visibility_timeout_ms=args.visibility_timeout_ms, max_deliveries=args.max_deliveries,
                    consumer=args.consumer)
    for name, function in activities.items():
        worker.register(name, function)
    signal.signal(signal.SIGTERM, lambda *_: worker.shutdown())
    signal.signal(signal.SIGINT, lambda *_: worker.shutdown())
    try:
        worker.run(ready=lambda: print("hotmesh_worker ready", flush=True))
    except ProtocolError as error:
        print(f"hotmesh_worker: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
