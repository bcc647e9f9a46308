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
    database = f"PostgreSQL {mask(settings.database_url.get_secret_value())}"
    cache = f"in-process + Redis {mask(settings.redis_url.get_secret_value())}"
    if not settings.cache_enabled:
        cache = "off"
    tokens = sum(1 for t in settings.auth_tokens.get_secret_value().split(",") if t.strip())
    auth = f"bearer ({tokens} token{'s' if tokens != 1 else ''})"
    return (
        f"serving {where}; database: {database}; cache: {cache}; auth: {auth}; "
        f"upstream: {mask(settings.upstream_url)}"
    )
