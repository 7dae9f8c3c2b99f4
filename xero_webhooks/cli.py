"""``xero-webhooks serve``: run the receiver; ``xero-webhooks positions``: what is queued.

The signing key comes only from the environment (``XERO_WEBHOOK_KEY``), never the command line,
where other users of the machine could read it. The queue DSN comes from ``--queue`` or
``XERO_WEBHOOK_QUEUE`` (default ``xero-webhooks.db`` in the working directory).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import signal
import socket
import sys
import time
from typing import NoReturn

from xero_webhooks.app import ReceiverConfig, build_app

__all__ = ["main"]

DEFAULT_QUEUE = "xero-webhooks.db"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, no usage wall
        self.exit(2, f"xero-webhooks: {message}\n")


def _positive(kind: type[float] | type[int]) -> argparse._ActionType:
    def parse(text: str) -> float | int:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text}") from None
        if not math.isfinite(value) or value <= 0:
            raise argparse.ArgumentTypeError(f"must be greater than 0: {text}")
        return value

    return parse


def _add_queue(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--queue",
        default=os.environ.get("XERO_WEBHOOK_QUEUE", DEFAULT_QUEUE),
        help="queue DSN: a SQLite path or postgresql://... (env XERO_WEBHOOK_QUEUE)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="xero-webhooks", description="Xero webhook receiver.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="receive webhooks into the queue")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8080, help="port (0: any free port)")
    serve.add_argument("--path", default="/webhooks", help="the webhook URL's path")
    _add_queue(serve)
    serve.add_argument(
        "--max-body", type=_positive(int), default=1024 * 1024, help="largest body, bytes"
    )
    serve.add_argument(
        "--body-timeout",
        type=_positive(float),
        default=3.0,
        help="seconds a sender has to deliver the body (Xero waits 5 s for the answer)",
    )
    serve.add_argument(
        "--retain-days",
        type=_positive(float),
        default=31.0,
        help="days consumed events are kept, to recognise late repeats",
    )
    serve.add_argument(
        "--max-connections", type=_positive(int), default=100, help="open connections at most"
    )
    serve.add_argument(
        "--forwarded-allow-ips",
        default="127.0.0.1",
        help="proxies trusted for X-Forwarded-For/-Proto (comma list, or *)",
    )
    positions = commands.add_parser(
        "positions",
        help="print the newest queue position per tenant as JSON (what schedulers poll)",
    )
    _add_queue(positions)
    positions.add_argument(
        "--watch",
        type=_positive(float),
        default=None,
        metavar="SECONDS",
        help="keep running: look every SECONDS and print a line whenever the positions change "
        "(one process for a scheduler that waits on the queue, instead of one per look)",
    )
    return parser


def _positions(dsn: str, watch: float | None) -> int:
    from xero_api.event_queue import open_queue

    try:
        with open_queue(dsn) as queue:
            printed = None
            while True:
                line = json.dumps(queue.last_positions(), sort_keys=True)
                if line != printed:
                    print(line, flush=True)
                    printed = line
                if watch is None:
                    return 0
                time.sleep(watch)
    except (BrokenPipeError, KeyboardInterrupt):
        return 0  # the reader went away, or was stopped: nothing more to say
    except Exception as error:
        print(f"xero-webhooks: cannot read the queue: {type(error).__name__}", file=sys.stderr)
        return 1


async def _serve(args: argparse.Namespace, config: ReceiverConfig) -> None:
    import uvicorn

    app = build_app(config)
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            http="h11",  # strict HTTP/1.1 parsing: a malformed Content-Length is refused
            log_level="warning",
            access_log=False,
            lifespan="on",
            limit_concurrency=args.max_connections,
            timeout_keep_alive=5,
            proxy_headers=True,
            forwarded_allow_ips=args.forwarded_allow_ips,
        )
    )
    for sig in (signal.SIGINT, signal.SIGTERM):  # absorb uvicorn's re-raise after shutdown
        signal.signal(sig, lambda _sig, _frame: None)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.01)
    if server.started:
        host = f"[{args.host}]" if ":" in args.host else args.host
        print(f"xero-webhooks listening on http://{host}:{port}{args.path}", flush=True)
    await task


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``xero-webhooks`` console script."""
    args = _parser().parse_args(argv)
    if args.command == "positions":
        return _positions(args.queue, args.watch)
    key = os.environ.get("XERO_WEBHOOK_KEY", "")
    if not key:
        print("xero-webhooks: set XERO_WEBHOOK_KEY to the webhook signing key", file=sys.stderr)
        return 2
    if not args.path.startswith("/"):
        print(f"xero-webhooks: --path must start with /: {args.path}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    config = ReceiverConfig(
        key=key,
        queue_dsn=args.queue,
        path=args.path,
        max_body=args.max_body,
        body_timeout=args.body_timeout,
        retain_days=args.retain_days,
    )
    try:
        asyncio.run(_serve(args, config))
    except Exception as error:  # e.g. the queue cannot be opened: one line, no traceback
        print(f"xero-webhooks: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0
