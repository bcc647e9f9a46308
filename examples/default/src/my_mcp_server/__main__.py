"""Command line: `serve [--transport http|stdio]`, `healthcheck`, `migrate`, `seed`.

Each command imports what it runs: `healthcheck` runs in the container every few seconds and
`migrate`/`seed` before start-up, so none of them loads the MCP SDK or uvicorn.
"""

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from my_mcp_server import DESCRIPTION
from my_mcp_server.settings import Settings

ENV_PREFIX = "MY_MCP_SERVER_"
# What `serve` serves over HTTP: the import path of the app factory each worker process calls.
APP_FACTORY = "my_mcp_server.app:create_app"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="my_mcp_server",
        description=DESCRIPTION,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the MCP server")
    serve.add_argument("--transport", choices=["http", "stdio"], default="http")
    serve.add_argument("--host", help="bind address (HTTP)")
    serve.add_argument("--port", type=int, help="port (HTTP)")
    serve.add_argument("--workers", type=int, help="worker processes (HTTP)")
    commands.add_parser(
        "healthcheck", help="exit 0 if the HTTP server on HOST:PORT answers /healthz (containers)"
    )
    commands.add_parser("migrate", help="apply pending schema migrations")
    seed = commands.add_parser("seed", help="write example items item-000001... (load tests)")
    seed.add_argument("--items", type=int, default=10_000)
    return parser


def serve_http(settings: Settings, factory: str = APP_FACTORY) -> None:
    """Serve the app `factory` (import path) builds, in `settings.workers` processes."""
    import uvicorn

    from my_mcp_server.response_writes import OneWriteHttpProtocol

    # Worker processes build their own app from the environment, so the CLI overrides above
    # travel through it. uvloop + httptools are the fastest loop and HTTP parser uvicorn has;
    # OneWriteHttpProtocol is uvicorn's httptools protocol sending a response in one write.
    uvicorn.run(
        factory,
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        loop="uvloop",
        http=OneWriteHttpProtocol,
        log_level=settings.log_level.lower(),
        # No per-request work the server does not need: no access log line, no Server header,
        # no X-Forwarded-* rewriting (nothing here reads the client address or scheme).
        access_log=False,
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=int(settings.request_timeout_s) + 1,
    )


def _settings() -> Settings:
    """The settings from the environment; a bad value ends the command with pydantic's account
    of it (field, rule, value) instead of a traceback."""
    try:
        return Settings()
    except ValidationError as error:
        sources = f"{ENV_PREFIX}<FIELD> variables, .env, secret files"
        raise SystemExit(f"invalid settings (from {sources}): {error}") from None


def healthcheck(settings: Settings) -> int:
    """Container probe without curl in the image: 0 when /healthz answers 200, else 1."""
    from urllib.request import urlopen

    host = "127.0.0.1" if settings.host in {"0.0.0.0", "::", ""} else settings.host  # noqa: S104
    if ":" in host:
        host = f"[{host}]"
    try:
        with urlopen(f"http://{host}:{settings.port}/healthz", timeout=2) as response:
            return 0 if response.status == 200 else 1
    except OSError:  # refused, timed out, or an HTTP error status (HTTPError is an OSError)
        return 1


def serve_stdio(settings: Settings) -> None:
    from my_mcp_server.resources import Resources
    from my_mcp_server.server import build_server

    build_server(Resources(settings)).run("stdio")


async def migrate(settings: Settings) -> None:
    from my_mcp_server.db import Database
    from my_mcp_server.preflight import check_services

    await check_services(settings, create_database=True)

    async with Database(settings.model_copy(update={"db_migrate_on_start": False})) as db:
        applied = await db.migrate()
    print(f"applied: {', '.join(applied)}" if applied else "schema up to date")


async def seed(settings: Settings, items: int) -> None:
    from my_mcp_server.db import Database
    from my_mcp_server.preflight import check_services

    await check_services(settings)

    async with Database(settings) as db:
        await db.seed(items)
    print(f"seeded {items} items")


def serve(args: argparse.Namespace, factory: str = APP_FACTORY) -> None:
    from my_mcp_server.preflight import check_services
    from my_mcp_server.request_state import missing_shared_key
    from my_mcp_server.startup_line import startup_line

    for name in ("host", "port", "workers"):
        value = getattr(args, name)
        if value is not None:
            os.environ[ENV_PREFIX + name.upper()] = str(value)
    settings = _settings()
    if problem := missing_shared_key(settings):
        raise SystemExit(problem)
    asyncio.run(check_services(settings))
    # stderr: on stdio, stdout carries the protocol.
    print(startup_line(settings, args.transport), file=sys.stderr, flush=True)
    if args.transport == "stdio":
        serve_stdio(settings)
    else:
        serve_http(settings, factory)


def main(argv: Sequence[str] | None = None, factory: str = APP_FACTORY) -> None:
    """The CLI; `factory` (import path) builds the app `serve` serves over HTTP."""
    args = _parser().parse_args(argv)
    if args.command == "serve":
        serve(args, factory)
    elif args.command == "healthcheck":
        raise SystemExit(healthcheck(_settings()))
    elif args.command == "migrate":
        asyncio.run(migrate(_settings()))
    elif args.command == "seed":
        asyncio.run(seed(_settings(), args.items))


if __name__ == "__main__":
    main()
