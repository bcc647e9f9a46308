"""`make bench-telemetry`: tool-call throughput with telemetry on vs off, one run.

The same server command twice, once with `<PKG>_TELEMETRY_ENABLED=false`; CONCURRENCY raw
JSON-RPC callers (the load harness's wire format) call `server_info` for SECONDS per round, and
/metrics is scraped every second while telemetry is on, as Prometheus would. Rounds alternate
(off, on, off, on, ...) so drift on a shared machine hits both sides; the best round of each
counts. The last line is `telemetry_on_vs_off_ratio=<x>` (goal >= 0.9).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import time

import httpx

from loadtest.mcp_wire import call_error, request_headers, tools_call_body
from loadtest.run import ENV_PREFIX, free_port, started_server
from loadtest.scenarios import Call

CALL = Call("server_info", {}, "server_info")


async def measure(url: str, concurrency: int, seconds: float, scrape: bool) -> float:
    """Successful calls per second."""
    done = 0
    body, headers = tools_call_body(1, CALL), request_headers(CALL.tool)
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=10, limits=limits) as http:
        deadline = time.perf_counter() + seconds

        async def caller() -> None:
            nonlocal done
            while time.perf_counter() < deadline:
                response = await http.post("/mcp", content=body, headers=headers)
                ctype = response.headers.get("content-type", "")
                error = call_error(response.status_code, ctype, response.content)
                if error:
                    raise SystemExit(f"bench-telemetry: call failed: {error}")
                done += 1

        async def scraper() -> None:
            while time.perf_counter() < deadline:
                assert (await http.get("/metrics")).status_code == 200
                await asyncio.sleep(1)

        began = time.perf_counter()
        scrapers = [scraper()] if scrape else []
        await asyncio.gather(*(caller() for _ in range(concurrency)), *scrapers)
        return done / (time.perf_counter() - began)


def main(concurrency: int, seconds: float, rounds: int) -> None:
    best = {"off": 0.0, "on": 0.0}
    # Both servers and the callers share one token (request_headers reads it from the env).
    os.environ.setdefault(ENV_PREFIX + "AUTH_TOKENS", secrets.token_urlsafe(16))
    servers = {}
    for mode, enabled in (("off", "false"), ("on", "true")):
        env = dict(os.environ) | {ENV_PREFIX + "TELEMETRY_ENABLED": enabled}
        servers[mode] = started_server("127.0.0.1", free_port(), env, 0, seeded=False)
    with servers["off"] as off, servers["on"] as on:
        urls = {"off": off.url, "on": on.url}
        for _ in range(rounds):
            for mode in ("off", "on"):
                rps = asyncio.run(measure(urls[mode], concurrency, seconds, mode == "on"))
                best[mode] = max(best[mode], rps)
                print(f"telemetry {mode:>3}: {rps:8.0f} calls/s", flush=True)
    print(f"telemetry_on_vs_off_ratio={best['on'] / best['off']:.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    main(args.concurrency, args.seconds, args.rounds)
