"""The hot-read load from wrk: a C load generator, so the servers, not the harness, set the ceiling.

One locust process tops out at a few thousand requests/s on a 2-core machine, below what the bare
HTTP stack serves; with locust as the harness `bare` measures locust. wrk sends the same calls (the
generated project's Zipf-distributed `get_item` keys, drawn once and replayed in order) over 64
keep-alive connections from one thread, and counts as an error every answer that is not HTTP 200
or carries a JSON-RPC error or an `isError` result.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MARKER = "bench-figures: "
DRAWN_KEYS = 20_000  # the replayed sequence: long enough that its order does not matter
PROTOCOL_VERSION = "2026-07-28"
HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": PROTOCOL_VERSION,
    "Mcp-Method": "tools/call",
    "Mcp-Name": "get_item",
}
META = {
    "io.modelcontextprotocol/protocolVersion": PROTOCOL_VERSION,
    "io.modelcontextprotocol/clientCapabilities": {},
}

# Every thread counts its bad answers in a global; `done` (the main Lua state) reads them through
# thread:get and prints the figures as one JSON line after MARKER.
SCRIPT = """\
local bodies = %(bodies)s
local headers = %(headers)s
local threads = {}
local next_body = 0
bad = 0

function setup(thread) table.insert(threads, thread) end

function request()
  next_body = next_body %% #bodies + 1
  return wrk.format("POST", "/mcp", headers, bodies[next_body])
end

function response(status, _, body)
  if status ~= 200 or body:find('"isError":true', 1, true) or body:find('"error":{', 1, true) then
    bad = bad + 1
  end
end

function done(summary, latency, _)
  local e = summary.errors
  local failed = e.connect + e.read + e.write + e.timeout
  for _, thread in ipairs(threads) do failed = failed + thread:get("bad") end
  io.write(string.format(
    '%(marker)s{"requests":%%d,"failures":%%d,"seconds":%%f,"avg_us":%%f,"p50_us":%%f,'
    .. '"p95_us":%%f,"p99_us":%%f}\\n',
    summary.requests, failed, summary.duration / 1e6, latency.mean,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


# Reads every distinct key of the replayed sequence this many times, then stops: with keep-alive
# connections spread over the workers at random, a key read k times is missing from a given
# worker's L1 with probability 2**-k (two workers), so the measured run is of cached calls.
WARM_READS = 8
WARM_SCRIPT = """\
local bodies = %(bodies)s
local headers = %(headers)s
local next_body = 0
local answered = 0

function request()
  next_body = next_body %% #bodies + 1
  return wrk.format("POST", "/mcp", headers, bodies[next_body])
end

function response()
  answered = answered + 1
  -- thread:stop() would leave wrk sleeping out its -d
  if answered >= #bodies then os.exit(0) end
end
"""


@dataclass
class Load:
    """What one load run measured (the harness's view: every request it sent)."""

    requests: int
    failures: int
    rps: float
    avg_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


def get_item_params(key: str) -> dict[str, Any]:
    """The tools/call params of a 2026-07-28 `get_item` call, `_meta` envelope included."""
    return {"name": "get_item", "arguments": {"key": key}, "_meta": META}


def get_item_call(request_id: int, key: str) -> str:
    """The JSON body of a 2026-07-28 `get_item` call (send it with HEADERS)."""
    params = get_item_params(key)
    call = {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}
    return json.dumps(call, separators=(",", ":"))


def write_scripts(python: Path, project: Path, items: int, directory: Path) -> tuple[Path, Path]:
    """(the load, the cache warm-up): wrk scripts of the hot scenario's keys, drawn by the
    project's own `ZipfKeys`; the warm-up reads each distinct key WARM_READS times."""
    draw = (
        "import json, random; from loadtest.scenarios import ZipfKeys, item_key;"
        f"keys = ZipfKeys({items}); rng = random.Random(1);"
        f"print(json.dumps([item_key(keys.rank(rng)) for _ in range({DRAWN_KEYS})]))"
    )
    drawn = subprocess.run(
        [str(python), "-c", draw], cwd=project, check=True, capture_output=True, text=True
    )
    keys = json.loads(drawn.stdout)
    bodies = [get_item_call(n, key) for n, key in enumerate(keys, 1)]
    tables = {"bodies": _lua_table(bodies), "headers": _lua_table(HEADERS), "marker": MARKER}
    load = directory / "hot.lua"
    load.write_text(SCRIPT % tables)
    distinct = sorted(set(keys)) * WARM_READS
    warm_bodies = [get_item_call(n, key) for n, key in enumerate(distinct, 1)]
    warm = directory / "warm.lua"
    warm.write_text(WARM_SCRIPT % {"bodies": _lua_table(warm_bodies), "headers": tables["headers"]})
    return load, warm


def warm(script: Path, url: str, connections: int) -> None:
    """Run the warm-up script to its end: it exits wrk after its last answer (bounded: 2 min)."""
    command = ["wrk", "-t1", f"-c{connections}", "-d120s", "-s", str(script), url + "/mcp"]
    subprocess.run(command, check=True, capture_output=True)


def run(script: Path, url: str, connections: int, seconds: float) -> Load:
    """Closed loop: every connection sends its next call as soon as the last one is answered."""
    command = [
        "wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s",
        "-s", str(script), url + "/mcp",
    ]  # fmt: skip
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    line = next((line for line in output.splitlines() if line.startswith(MARKER)), None)
    if line is None:
        raise SystemExit(f"wrk printed no figures:\n{output}")
    figures = json.loads(line.removeprefix(MARKER))
    return Load(
        requests=figures["requests"],
        failures=figures["failures"],
        rps=figures["requests"] / figures["seconds"],
        avg_ms=figures["avg_us"] / 1000,
        p50_ms=figures["p50_us"] / 1000,
        p95_ms=figures["p95_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
    )


def _lua_table(values: list[str] | dict[str, str]) -> str:
    """A Lua table literal; JSON string escapes are valid Lua string escapes for this ASCII text."""
    if isinstance(values, dict):
        pairs = (f"[{json.dumps(key)}] = {json.dumps(value)}" for key, value in values.items())
        return "{" + ", ".join(pairs) + "}"
    return "{\n" + ",\n".join(json.dumps(value) for value in values) + "\n}"
