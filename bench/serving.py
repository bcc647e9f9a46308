"""One uvicorn configuration for every server `make bench` compares, so the HTTP stack is equal:
the generated server's own (its `serve` command: no access log, no Server header, no
X-Forwarded-* rewriting, and its HTTP protocol, which writes a response in one go)."""

from __future__ import annotations

from pathlib import Path

import uvicorn

# The generated server's protocol (its serve command's), as an import path.
GENERATED_HTTP = "my_mcp_server.http_protocol:OneWriteHttpToolsProtocol"


def serve(factory: str, port: int, workers: int, http: str) -> None:
    """Run `module:function` (an app factory in bench/) on 127.0.0.1:`port`, with the HTTP
    protocol `http` (uvicorn's name for one, or the import path of a protocol class)."""
    uvicorn.run(
        factory,
        factory=True,
        app_dir=str(Path(__file__).parent),
        workers=workers,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http=http,
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=False,
    )
