"""`make profile` and `make profile-memory` against real servers, one of them a fixture project
whose most-called tool spins (it must top the CPU profile) or leaks (the leak check must fail).

The fixture project is a copy of src/ with one statement added to that tool; PYTHONPATH puts it
before the installed package. Loads are small and bounded so the suite stays fast.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PACKAGE

from loadtest.cpu_profile import PTRACE_HINT, denied
from loadtest.profile_groups import YOUR_CODE, summarize
from loadtest.run import free_port

ROOT = Path(__file__).resolve().parents[1]
# The tool the mixed scenario calls most (90% hot reads) and the module defining it.
TOOL, MODULE = "get_item", "tools/items.py"
ITEMS = "100"
EFFECTS = {
    # ~4 ms of pure-Python work in a function of the project's own code, on every call.
    "spin": "def fixture_effect() -> None:\n"
    "    import time\n\n"
    "    end = time.perf_counter() + 0.004\n"
    "    while time.perf_counter() < end:\n"
    "        pass\n",
    # 128 KiB kept forever on every call.
    "leak": "LEAKED: list[bytes] = []\n\n\n"
    "def fixture_effect() -> None:\n"
    "    LEAKED.append(bytes(131072))\n",
}


def fixture_project(tmp_path: Path, effect: str) -> Path:
    """src/ copied, TOOL calling fixture_effect() first; returns the copy's src directory."""
    src = tmp_path / "src"
    shutil.copytree(ROOT / "src" / PACKAGE, src / PACKAGE)
    module = src / PACKAGE / MODULE
    text = module.read_text()
    # The statement goes right after the tool's docstring, at the docstring's indentation.
    pattern = rf"(async def {TOOL}\(.*?\n(\s+)\"\"\".*?\"\"\"\n)"
    patched, found = re.subn(pattern, r"\1\2fixture_effect()\n", text, count=1, flags=re.S)
    assert found == 1, f"no docstring after `async def {TOOL}(` in {module}"
    module.write_text(patched + "\n\n" + EFFECTS[effect])
    return src


def run_tool(
    module: str, args: list[str], env: dict[str, str], cwd: Path, src: Path | None = None
) -> subprocess.CompletedProcess[str]:
    path = [str(src)] if src else []
    env = env | {"PYTHONPATH": os.pathsep.join([*path, str(ROOT / "src"), str(ROOT)])}
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.slow
def test_profile_finds_the_slow_tool_on_top(server_env: dict[str, str], tmp_path: Path) -> None:
    src = fixture_project(tmp_path, "spin")
    args = ["--duration", "4s", "--users", "5", "--items", ITEMS, "--name", "spin"]
    args += ["--host", f"http://127.0.0.1:{free_port()}"]
    done = run_tool("loadtest.cpu_profile", args, server_env, tmp_path, src)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    reports = tmp_path / "reports"
    svg = (reports / "spin.svg").read_text()
    assert svg.lstrip().startswith("<?xml") or "<svg" in svg[:500]
    assert f"fixture_effect ({PACKAGE}/{MODULE})" in svg
    with (reports / "spin.txt").open() as stacks:
        profile = summarize(stacks, PACKAGE)
    top = profile.top[0]
    assert (top.function, top.group, top.path) == (
        "fixture_effect",
        YOUR_CODE,
        f"{PACKAGE}/{MODULE}",
    )
    assert f"| `fixture_effect` | {PACKAGE}/{MODULE} | {YOUR_CODE} |" in done.stdout
    assert f"| {YOUR_CODE} | {profile.share(YOUR_CODE):.1%} |" in (reports / "spin.md").read_text()


# One frame per allocation keeps tracemalloc cheap; the leaking line is the innermost frame. A
# few hundred calls leave the allocator's own warm-up in RSS (a few %): the bar is 10% here, and
# the leaking tool (128 KiB a call) exceeds it many times over.
LEAK_ARGS = ["--no-profile", "--frames", "1", "--warmup", "200", "--calls", "600"]
LEAK_ARGS += ["--max-s", "120", "--max-growth", "0.10"]


def leak_check(
    env: dict[str, str], cwd: Path, src: Path | None
) -> subprocess.CompletedProcess[str]:
    return run_tool("loadtest.memory_profile", [*LEAK_ARGS, "--items", ITEMS], env, cwd, src)


@pytest.mark.slow
def test_leak_check_fails_on_a_leaking_tool_and_names_it(
    server_env: dict[str, str], tmp_path: Path
) -> None:
    done = leak_check(server_env, tmp_path, fixture_project(tmp_path, "leak"))
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Leak check FAILED: memory grows" in done.stdout
    report = done.stdout.split("Top growing allocation sites")[1]
    sites = [line for line in report.splitlines() if line.startswith("- ")]
    assert sites, report
    assert f"{PACKAGE}/{MODULE}:" in sites[0], sites


@pytest.mark.slow
def test_leak_check_passes_on_the_real_server(server_env: dict[str, str], tmp_path: Path) -> None:
    done = leak_check(server_env, tmp_path, None)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "Leak check passed" in done.stdout
    assert (tmp_path / "reports" / "memory.md").is_file()


@pytest.mark.parametrize(
    ("stderr", "refused"),
    [
        # py-spy's words as a user without ptrace rights, and inside a container without SYS_PTRACE.
        ("Permission Denied: Try running again with elevated permissions", True),
        ("Error: Failed to copy PyInterpreterState: Operation not permitted (os error 1)", True),
        ("Error: No python processes found in process 123 or any of its subprocesses", False),
    ],
)
def test_a_refused_ptrace_is_told_apart_from_other_failures(stderr: str, refused: bool) -> None:
    assert denied(stderr) is refused
    assert "SYS_PTRACE" in PTRACE_HINT
    assert "--cap-add SYS_PTRACE" in PTRACE_HINT
