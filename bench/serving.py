"""One uvicorn configuration for every server `make bench` compares, so the HTTP stack is equal:
the generated server's own (its `serve` command: no access log, no Server header, no
X-Forwarded-* rewriting, a response sent in one write by its HTTP protocol)."""

from __future__ import annotations

from pathlib import Path

import uvicorn

# The generated server's HTTP protocol (its response_writes.py), from the rendered project whose
# interpreter runs the bench's servers (bench/run.py renders the default package name).
HTTP_PROTOCOL = "my_mcp_server.response_writes:OneWriteHttpProtocol"


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
        http=HTTP_PROTOCOL,
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=False,
    )
