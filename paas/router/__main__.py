"""``python -m paas.router``: run the router processes."""

from __future__ import annotations

import argparse
import logging.config
import sys
from pathlib import Path
from typing import Any

from paas.router.config import RouterConfig
from paas.router.process import run_router

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s"
        }
    },
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "paas": {"level": "INFO"},
        "paas.router.access": {"level": "WARNING", "propagate": True},
    },
    "root": {"handlers": ["stderr"], "level": "INFO"},
}


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m paas.router")
    parser.add_argument("--home", type=Path, required=True, help="PAAS_HOME dir")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--debug", action="store_true", help="log every request")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Configure logging once and run the router."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.debug:
        LOGGING["loggers"]["paas.router.access"]["level"] = "DEBUG"
    logging.config.dictConfig(LOGGING)
    try:
        config = RouterConfig.from_env()
        run_router(args.home, args.host, args.port, args.workers, config)
    except (OSError, ValueError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
