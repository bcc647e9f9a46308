"""The line `serve` prints at start-up: where /mcp is, how it runs, what it is connected to."""

from urllib.parse import urlsplit, urlunsplit

from my_mcp_server.settings import Settings


def mask(url: str) -> str:
    """`postgresql://app:s3cret@db:5432/x` -> `postgresql://app:***@db:5432/x`."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def startup_line(settings: Settings, transport: str) -> str:
    if transport == "stdio":
        where = "MCP over stdio"
    else:
        host = f"[{settings.host}]" if ":" in settings.host else settings.host
        workers = f"{settings.workers} worker{'s' if settings.workers != 1 else ''}"
        where = f"MCP at http://{host}:{settings.port}/mcp (streamable HTTP, {workers})"
    database = f"SQLite {settings.sqlite_path}"
    cache = "in-process"
    if not settings.cache_enabled:
        cache = "off"
    auth = "none"
    return (
        f"serving {where}; database: {database}; cache: {cache}; auth: {auth}; "
        f"upstream: {mask(settings.upstream_url)}"
    )
