"""One uvicorn configuration for every server `make bench` compares, so the HTTP stack is equal:
the generated server's own (its `serve` command: no access log, no Server header, no
X-Forwarded-* rewriting)."""

from __future__ import annotations

from pathlib import Path

import uvicorn


def serve(factory: str, port: int, workers: int) -> None:
    """Run `module:function` (an app factory in bench/) on 127.0.0.1:`port`."""
    uvicorn.run(
        factory,
        factory=True,
        app_dir=str(Path(__file__).parent),
        workers=workers,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=False,
    )
