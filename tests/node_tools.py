"""Node.js for tests: find node and npm, install npm packages once into a shared cache, run node.

    tools = require_node("the ical.js check")         # skips, or fails under BOOKBOT_REQUIRE_NODE=1
    prefix = npm_package("ical.js@2.2.1")             # <prefix>/node_modules/ical.js
    result = run_node(tools, script, packages=[prefix], stdin=data)

Packages go to `$BOOKBOT_NODE_CACHE`, else `$XDG_CACHE_HOME/bookbot-test-node`, else
`~/.cache/bookbot-test-node`, one directory per node major version and package spec, so only
the first run downloads. Give exact versions: a range is resolved once and then kept.

An install happens in a fresh temporary directory beside its final place and is renamed into
place when complete, so parallel runs (pytest-xdist, two checkouts) never see a half-installed
package; if two race, one rename wins and the other's copy is thrown away.

`run_node` sets NODE_PATH to the packages' node_modules, which serves `require()`. ES modules
ignore NODE_PATH: an `.mjs` script has to look the package up there itself (see js/parse_ics.mjs).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

REQUIRE_ENV = "BOOKBOT_REQUIRE_NODE"
CACHE_ENV = "BOOKBOT_NODE_CACHE"
INSTALL_TIMEOUT_S = 600
_DONE_MARKER = ".bookbot-installed"


@dataclass(frozen=True)
class NodeTools:
    node: Path
    npm: Path
    major: int  # node's major version; packages are cached per major (native addons)


def require_node(purpose: str = "this test") -> NodeTools:
    """node and npm, or skip the test; with BOOKBOT_REQUIRE_NODE=1 (CI) fail instead."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing = " and ".join(n for n, p in (("node", node), ("npm", npm)) if p is None)
        _skip_or_fail(f"node and npm are needed for {purpose} ({missing} not on PATH)")
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    match = re.match(r"v(\d+)\.", version.stdout.strip())
    if version.returncode != 0 or match is None:
        pytest.fail(f"`{node} --version` did not work: {version.stdout}{version.stderr}")
    return NodeTools(node=Path(node), npm=Path(npm), major=int(match.group(1)))


def npm_package(name_spec: str, tools: NodeTools | None = None) -> Path:
    """Install `name_spec` (e.g. "ical.js@2.2.1", "@scope/pkg@1.0.0") once; return its prefix.

    The package is then at `<prefix>/node_modules/<name>`, its dependencies beside it.
    """
    tools = tools or require_node(f"npm package {name_spec}")
    root = cache_root() / f"node{tools.major}"
    final = root / re.sub(r"[^A-Za-z0-9._@+-]", "+", name_spec)
    if (final / _DONE_MARKER).is_file():
        return final
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".installing-", dir=root))
    staging.chmod(0o755)  # mkdtemp makes it private; the cache is not
    try:
        done = subprocess.run(
            [
                str(tools.npm),
                "install",
                "--prefix",
                str(staging),
                "--no-audit",
                "--no-fund",
                "--no-update-notifier",
                "--loglevel=error",
                name_spec,
            ],
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_S,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        if done.returncode != 0:
            pytest.fail(f"npm install {name_spec} failed ({done.returncode}):\n{done.stderr}")
        (staging / _DONE_MARKER).write_text(name_spec + "\n")
        try:
            staging.rename(final)
        except OSError:
            if not (final / _DONE_MARKER).is_file():
                raise  # not a lost race: something else is in the way
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def cache_root() -> Path:
    if explicit := os.environ.get(CACHE_ENV):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "bookbot-test-node"


def run_node(
    tools: NodeTools,
    script: Path,
    *args: str,
    packages: Sequence[Path] = (),
    stdin: bytes = b"",
    timeout: float = 60,
) -> subprocess.CompletedProcess[bytes]:
    """Run `node script args...` with the packages on NODE_PATH; the caller checks the result."""
    env = dict(os.environ)
    env["NODE_PATH"] = os.pathsep.join(str(p / "node_modules") for p in packages)
    return subprocess.run(
        [str(tools.node), str(script), *args],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def _skip_or_fail(reason: str) -> NoReturn:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason}; {REQUIRE_ENV}=1 says they must be present")
    pytest.skip(reason)
