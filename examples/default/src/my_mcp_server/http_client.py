"""One shared, pooled outbound HTTP client per process.

A client per call would pay a TCP (and TLS) handshake every time; a shared client keeps
connections alive and bounds how many the process may open (`http_pool_max`).
"""

import httpx

from my_mcp_server.settings import Settings


def create_http_client(settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=settings.upstream_url,
        limits=httpx.Limits(
            max_connections=settings.http_pool_max,
            max_keepalive_connections=settings.http_pool_max,
            keepalive_expiry=30.0,
        ),
        # Waiting for a pooled connection counts against the same budget as the call itself.
        timeout=httpx.Timeout(settings.http_timeout_s, pool=settings.http_timeout_s),
    )
