"""``xero-sandbox``: serve the emulator, or seed a database and exit.

The client secret and the webhook signing key may come from the environment
(``XERO_SANDBOX_CLIENT_SECRET``, ``XERO_SANDBOX_WEBHOOK_KEY``) instead of flags, which any user
of the machine can read in ``ps``. A flag wins over the environment.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sqlite3
import sys
from pathlib import Path
from typing import NoReturn

from xero_sandbox.config import SandboxConfig
from xero_sandbox.regions import parse_regions

__all__ = ["main"]

_DEFAULTS = SandboxConfig()
_SANDBOX_EXTRA = ("starlette", "uvicorn", "lark")  # `singer-xero[sandbox]`
SECRET_ENV = {
    "client_secret": "XERO_SANDBOX_CLIENT_SECRET",
    "webhook_key": "XERO_SANDBOX_WEBHOOK_KEY",
}


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"xero-sandbox: error: {message}\n")


def _world_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, default=_DEFAULTS.db, help="SQLite file (kept)")
    parser.add_argument("--tenants", type=int, default=_DEFAULTS.tenants, help="Demo Companies")
    parser.add_argument(
        "--empty-tenants",
        type=int,
        default=_DEFAULTS.empty_tenants,
        help="extra tenants holding only settings (accounts, tax rates, currencies)",
    )
    parser.add_argument("--scale", type=int, default=_DEFAULTS.scale, help="invoices per tenant")
    parser.add_argument(
        "--overlap",
        type=int,
        default=_DEFAULTS.overlap,
        help="the first N contacts (names) and invoices (sales, their contact) are drawn alike "
        "in every Demo Company; numbers overlap anyway",
    )
    parser.add_argument("--seed", type=int, default=_DEFAULTS.seed, help="random seed")
    parser.add_argument(
        "--regions",
        default=_DEFAULTS.regions,
        help="organisation regions, comma-separated (NZ, AU, UK, US): tenant i is of the "
        "i-th region, round the list",
    )


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="xero-sandbox", description="An offline emulator of the Xero API.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    serve = sub.add_parser("serve", help="seed (if new) and serve on HTTP")
    serve.add_argument("--host", default=_DEFAULTS.host)
    serve.add_argument("--port", type=int, default=_DEFAULTS.port, help="0 picks a free port")
    _world_flags(serve)
    _timing_flags(serve)
    _app_flags(serve)
    _limit_flags(serve)
    serve.add_argument(
        "--log-requests",
        action="store_true",
        help="write one line per request to stderr: method, path, tenant, status, milliseconds",
    )
    seed = sub.add_parser("seed", help="create and seed a database, then exit")
    _world_flags(seed)
    return parser


def _timing_flags(serve: argparse.ArgumentParser) -> None:
    """How fast the sandbox answers, how fast its clock runs, and how often it fails."""
    serve.add_argument("--latency-ms", type=float, default=_DEFAULTS.latency_ms)
    serve.add_argument(
        "--latency-per-record-ms", type=float, default=_DEFAULTS.latency_per_record_ms
    )
    serve.add_argument("--time-scale", type=float, default=_DEFAULTS.time_scale)
    serve.add_argument("--fault-rate", type=float, default=_DEFAULTS.fault_rate)


def _app_flags(serve: argparse.ArgumentParser) -> None:
    """The one app the sandbox knows: its credentials, redirect URIs, scopes and webhook."""
    serve.add_argument("--client-id", default=_DEFAULTS.client_id)
    serve.add_argument(
        "--client-secret",
        default=None,
        help=f"default ${SECRET_ENV['client_secret']}, else {_DEFAULTS.client_secret} "
        "(prefer the variable: flags show in ps)",
    )
    serve.add_argument(
        "--redirect-uris",
        default=_DEFAULTS.redirect_uris,
        help="the app's registered redirect URIs, comma-separated, matched exactly "
        "(default: any URI on a loopback host)",
    )
    serve.add_argument(
        "--granular-scopes-only",
        action="store_true",
        help="an app created since 2 March 2026: asking for a broad scope is invalid_scope",
    )
    serve.add_argument("--webhook-url", default=None)
    serve.add_argument(
        "--webhook-key",
        default=None,
        help=f"default ${SECRET_ENV['webhook_key']} (prefer it: flags show in ps)",
    )


def _limit_flags(serve: argparse.ArgumentParser) -> None:
    """Xero's limits as the sandbox enforces them."""
    serve.add_argument("--idempotency-window-s", type=float, default=_DEFAULTS.idempotency_window_s)
    serve.add_argument("--minute-limit", type=int, default=_DEFAULTS.minute_limit)
    serve.add_argument("--day-limit", type=int, default=_DEFAULTS.day_limit)
    serve.add_argument("--concurrent-limit", type=int, default=_DEFAULTS.concurrent_limit)
    serve.add_argument("--app-minute-limit", type=int, default=_DEFAULTS.app_minute_limit)
    serve.add_argument(
        "--high-volume-threshold",
        type=int,
        default=_DEFAULTS.high_volume_threshold,
        help="records a where/order may scan before Xero's 400 HighVolumeException",
    )


def _secrets_from_environment(args: argparse.Namespace) -> None:
    """Fill the secrets no flag gave from the environment (then the defaults)."""
    if args.command != "serve":
        return
    for name, variable in SECRET_ENV.items():
        if getattr(args, name) is None:
            setattr(args, name, os.environ.get(variable) or None)
    if args.client_secret is None:
        args.client_secret = _DEFAULTS.client_secret


def _check(args: argparse.Namespace) -> str | None:
    if args.tenants < 1:
        return "--tenants must be at least 1"
    if args.empty_tenants < 0:
        return "--empty-tenants must be 0 or more"
    if args.scale < 0:
        return "--scale must be 0 or more"
    try:
        parse_regions(args.regions)
    except ValueError as exc:
        return str(exc)
    if args.overlap < 0:
        return "--overlap must be 0 or more"
    if args.command == "serve":
        if not 0 <= args.port <= 65535:
            return "--port must be between 0 and 65535"
        if args.time_scale <= 0:
            return "--time-scale must be greater than 0"
        if not 0 <= args.fault_rate <= 1:
            return "--fault-rate must be between 0 and 1"
        if args.latency_ms < 0 or args.latency_per_record_ms < 0:
            return "--latency-ms and --latency-per-record-ms must be 0 or more"
        if args.high_volume_threshold < 1:
            return "--high-volume-threshold must be at least 1"
        if bool(args.webhook_url) != bool(args.webhook_key):
            return "--webhook-url and --webhook-key (or $XERO_SANDBOX_WEBHOOK_KEY) go together"
    return None


def _config(args: argparse.Namespace) -> SandboxConfig:
    fields = {k: v for k, v in vars(args).items() if k != "command"}
    return SandboxConfig(**fields)


async def _serve(config: SandboxConfig) -> None:
    import uvicorn

    from xero_sandbox.app import build_app
    from xero_sandbox.guard import MAX_HEAD_BYTES, XeroShapedH11

    app = build_app(config)
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((config.host, config.port))
    port = sock.getsockname()[1]
    host = f"[{config.host}]" if ":" in config.host else config.host
    app.state.ctx.webhooks.learn_base_url(f"http://{host}:{port}")
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="on",
            http=XeroShapedH11.logging(config.log_requests),
            h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        )
    )
    # uvicorn handles SIGINT/SIGTERM while serving (graceful shutdown), then re-raises the
    # signal; these no-op handlers absorb that re-raise so a clean stop exits with status 0.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda _sig, _frame: None)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.01)
    if server.started:
        print(f"xero-sandbox listening on http://{host}:{port}", flush=True)
    await task


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``xero-sandbox`` console script."""
    args = _parser().parse_args(argv)
    _secrets_from_environment(args)
    problem = _check(args)
    if problem:
        print(f"xero-sandbox: error: {problem}", file=sys.stderr)
        return 2
    config = _config(args)
    try:
        if args.command == "seed":
            from xero_sandbox.seed import seed_if_empty
            from xero_sandbox.store import Store

            store = Store(config.db)
            try:
                seeded = seed_if_empty(store, config)
            finally:
                store.close()
            print(f"xero-sandbox: {'seeded' if seeded else 'already seeded'} {config.db}")
            return 0
        asyncio.run(_serve(config))
    except KeyboardInterrupt:
        return 0
    except ModuleNotFoundError as exc:
        if exc.name not in _SANDBOX_EXTRA:
            raise
        print(
            f"xero-sandbox: error: {exc.name} is missing; the sandbox needs the sandbox extra: "
            "pip install 'singer-xero[sandbox]'",
            file=sys.stderr,
        )
        return 1
    except (OSError, ValueError, sqlite3.DatabaseError) as exc:
        print(f"xero-sandbox: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
