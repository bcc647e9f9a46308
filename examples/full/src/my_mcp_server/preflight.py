"""Reach each service a command needs once before it starts, and turn a failure into one line.

The line names the setting, what was wrong and the command that fixes it; the command then exits
with status 1 and no traceback (`ServiceUnavailableError` is a SystemExit). Outages after start-up
are handled where the service is used (retries, the cache's breaker).
"""

from urllib.parse import urlsplit, urlunsplit

import asyncpg
from redis.asyncio import Redis
from redis.exceptions import AuthenticationError, RedisError

from my_mcp_server.settings import Settings

ENV_PREFIX = "MY_MCP_SERVER_"


class ServiceUnavailableError(SystemExit):
    """Exits the command with `<SETTING>: <what was wrong>; <fix>` on stderr."""

    def __init__(self, setting: str, problem: str, fix: str) -> None:
        super().__init__(f"{ENV_PREFIX}{setting}: {problem}; {fix}")


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or ''}".rstrip(":")


def _reason(error: BaseException) -> str:
    return str(error) or type(error).__name__


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/") or "postgres"


async def _connect(settings: Settings, url: str) -> "asyncpg.Connection[asyncpg.Record]":
    """A connection to `url`; every failure but a missing database becomes the one line."""
    where = _where(url)
    try:
        return await asyncpg.connect(url, timeout=settings.db_connect_timeout_s)
    except asyncpg.exceptions.InvalidCatalogNameError:
        raise
    except (
        asyncpg.exceptions.InvalidPasswordError,
        asyncpg.exceptions.InvalidAuthorizationSpecificationError,
    ) as error:
        raise ServiceUnavailableError(
            "DATABASE_URL",
            f"PostgreSQL at {where} refused the credentials ({_reason(error)})",
            f"put a role and password the server accepts into {ENV_PREFIX}DATABASE_URL",
        ) from None
    except (OSError, TimeoutError, asyncpg.exceptions.PostgresError) as error:
        raise ServiceUnavailableError(
            "DATABASE_URL",
            f"no PostgreSQL answers at {where} ({_reason(error)})",
            f"start PostgreSQL there or point {ENV_PREFIX}DATABASE_URL at a running server",
        ) from None


async def create_database(settings: Settings) -> bool:
    """CREATE DATABASE for the name in database_url, through the server's `postgres`
    maintenance database; False when it already exists."""
    url = settings.database_url.get_secret_value()
    name = database_name(url)
    admin_url = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    conn = await _connect(settings, admin_url)
    try:
        if await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            return False
        quoted = '"' + name.replace('"', '""') + '"'
        await conn.execute(f"CREATE DATABASE {quoted}")
    except asyncpg.exceptions.InsufficientPrivilegeError:
        raise ServiceUnavailableError(
            "DATABASE_URL",
            f"database {name!r} does not exist and this role may not create it",
            f"have an administrator run CREATE DATABASE {quoted}, or use a role with CREATEDB",
        ) from None
    finally:
        await conn.close()
    return True


async def check_database(settings: Settings, *, create_missing: bool = False) -> None:
    """Connect once; a missing database is created when `create_missing`, else reported."""
    url = settings.database_url.get_secret_value()
    try:
        conn = await _connect(settings, url)
    except asyncpg.exceptions.InvalidCatalogNameError:
        if create_missing:
            await create_database(settings)
            return
        raise ServiceUnavailableError(
            "DATABASE_URL",
            f"database {database_name(url)!r} does not exist on {_where(url)}",
            "create it: make db-create",
        ) from None
    await conn.close()


async def check_redis(settings: Settings) -> None:
    url = settings.redis_url.get_secret_value()
    client = Redis.from_url(
        url,
        socket_connect_timeout=settings.redis_timeout_s,
        socket_timeout=settings.redis_timeout_s,
    )
    try:
        await client.ping()
    except AuthenticationError as error:
        raise ServiceUnavailableError(
            "REDIS_URL",
            f"Redis at {_where(url)} refused the credentials ({_reason(error)})",
            f"put the password Redis expects into {ENV_PREFIX}REDIS_URL",
        ) from None
    except (TimeoutError, RedisError, OSError) as error:
        raise ServiceUnavailableError(
            "REDIS_URL",
            f"no Redis answers at {_where(url)} ({_reason(error)})",
            f"start Redis there or point {ENV_PREFIX}REDIS_URL at a running server",
        ) from None
    finally:
        await client.aclose()


async def check_services(settings: Settings, *, create_database: bool = False) -> None:
    """Every service this project is configured with, once (SQLite needs no server)."""
    await check_database(settings, create_missing=create_database)
    if settings.cache_enabled:
        await check_redis(settings)
