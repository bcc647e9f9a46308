"""Run a README's quick start as written: its fenced blocks marked ```` ```sh runnable ```` and
```` ```python runnable ````, in order.

Each sh block runs as one bash script (`set -e`) in the folder the previous one ended in. A block
that starts the server (`make run`, optionally after VAR=value words) is started in the background
instead; the runner waits for the line it prints (`serving MCP at <url>`), and the python blocks
after it run with `uv run python` against that URL, standing in for the README's
`http://127.0.0.1:8000/mcp` (the runner gives each server a free PORT, so parallel runs do not
collide). The server stops when the README is done.
"""

from __future__ import annotations

import hashlib
import os
import queue
import re
import shlex
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import psutil

RUNNABLE = re.compile(r"^```(sh|python) runnable\n(.*?)^```", re.MULTILINE | re.DOTALL)
SERVE = re.compile(r"^(\w+=\S*\s+)*make run\b")
SERVING = re.compile(r"serving MCP at (\S+)")
README_URL = "http://127.0.0.1:8000/mcp"
STEP_TIMEOUT_S = 900
START_TIMEOUT_S = 120


def runnable_blocks(readme: str) -> list[tuple[str, str]]:
    """(language, code) of every runnable block, in order."""
    return [(m.group(1), m.group(2)) for m in RUNNABLE.finditer(readme)]


def readme_fingerprint(project: Path, tree_hash: str) -> str:
    """What running the README exercises: the source tree's hash, the runnable blocks, and what
    `make -n` prints for every make command in them (the recipes, not the whole Makefile).
    Combinations that differ only in deployment share it; each still parses its own Makefile in
    its own `make install` and `make lint`."""
    digest = hashlib.sha256(tree_hash.encode())
    for language, code in runnable_blocks((project / "README.md").read_text()):
        digest.update(f"{language}\0{code}\0".encode())
        if language != "sh":
            continue
        for line in code.splitlines():
            words = shlex.split(line, comments=True)
            if "make" in words:
                targets = words[words.index("make") + 1 :]
                # --no-print-directory: under an outer make (`make test`) make would name the
                # project's folder, which differs between combinations, in what it prints.
                done = subprocess.run(
                    ["make", "--no-print-directory", "-n", *targets], cwd=project,
                    capture_output=True, text=True, check=False,
                )  # fmt: skip
                digest.update(f"{done.returncode}\0{done.stdout}\0".encode())
    return digest.hexdigest()[:16]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _listens(pid: int, port: int) -> bool:
    """Whether process `pid` or one of its descendants holds the listening socket on `port`."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return False
    for process in processes:
        try:
            connections = process.net_connections(kind="tcp")
        except psutil.NoSuchProcess:
            continue
        if any(c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in connections):
            return True
    return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _fail(what: str, done: subprocess.CompletedProcess[str]) -> AssertionError:
    output = (done.stdout + done.stderr)[-6000:]
    return AssertionError(f"README block failed ({done.returncode}):\n{what}\n---\n{output}")


@contextmanager
def _server(script: str, cwd: Path, env: dict[str, str]) -> Iterator[str]:
    """Start the server block; yield the /mcp URL it prints; stop it (SIGINT, as Ctrl-C)."""
    proc = subprocess.Popen(
        ["bash", "-c", script],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    seen: list[str] = []
    assert proc.stdout is not None
    stdout = proc.stdout
    threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True).start()
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        url = None
        while url is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                continue
            seen.append(line)
            if match := SERVING.search(line):
                url = match.group(1)
        if url is None:
            raise AssertionError(f"`{script}` printed no `serving MCP at` line:\n{''.join(seen)}")
        # The line comes before the socket is bound: wait for /healthz as a user would retry,
        # once the server holds the port (another program may have taken it and answer too).
        health = url.removesuffix("/mcp") + "/healthz"
        port = urlsplit(url).port
        while not (port is not None and _listens(proc.pid, port) and _answers(health)):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise AssertionError(f"{health} never answered:\n{''.join(seen)}")
            time.sleep(0.2)
        yield url
    finally:
        for sig, wait_s in ((signal.SIGINT, 15), (signal.SIGKILL, 15)):
            if proc.poll() is None:
                os.killpg(proc.pid, sig)
                try:
                    proc.wait(timeout=wait_s)
                except subprocess.TimeoutExpired:
                    continue


def run_readme(
    readme: Path,
    cwd: Path,
    env: dict[str, str],
    *,
    skip_line: Callable[[str], bool] = lambda line: False,
    substitute: dict[str, str] | None = None,
) -> list[str]:
    """Run the runnable blocks of `readme` from `cwd`; what ran, one entry per block.

    `skip_line` leaves out lines (the matrix runs `make test` once per source tree);
    `substitute` replaces text (e.g. the template's `gh:` address with a local clone)."""
    blocks = runnable_blocks(readme.read_text())
    assert blocks, f"{readme} has no runnable blocks"
    ran: list[str] = []
    env = {**env, "PORT": str(free_port())}
    with tempfile.TemporaryDirectory() as tmp, _server_stack() as servers:
        where = Path(tmp) / "cwd"
        where.write_text(str(cwd))
        url = None
        for language, code in blocks:
            for old, new in (substitute or {}).items():
                code = code.replace(old, new)
            lines = [line for line in code.splitlines() if not skip_line(line)]
            code = "\n".join(lines)
            here = Path(where.read_text().strip())
            if language == "python":
                assert url is not None, "a python block before the server block"
                code = code.replace(README_URL, url)
                done = subprocess.run(
                    ["uv", "run", "python", "-c", code],
                    cwd=here,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=STEP_TIMEOUT_S,
                    check=False,
                )
                if done.returncode != 0 or not done.stdout.strip():
                    raise _fail(code, done)
            elif any(SERVE.match(line) for line in lines):
                url = servers(code, here, env)
            else:
                done = subprocess.run(
                    ["bash", "-c", f"set -e\n{code}\npwd > {where}"],
                    cwd=here,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=STEP_TIMEOUT_S,
                    check=False,
                )
                if done.returncode != 0:
                    raise _fail(code, done)
            ran.append(f"{language}: {' / '.join(lines) if language == 'sh' else 'client call'}")
    return ran


@contextmanager
def _server_stack() -> Iterator[Callable[[str, Path, dict[str, str]], str]]:
    """Servers started by the README, all stopped on the way out."""
    with ExitStack() as stack:
        yield lambda script, cwd, env: stack.enter_context(_server(script, cwd, env))
