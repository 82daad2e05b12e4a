"""Refresh or check requirements/constraints.txt, the lock every install uses.

`pyproject.toml` says what bookbot needs (ranges); the lock pins the exact version of every
package a fresh install resolves, runtime and the `test` extra, so an install made today and
one made next year get the same packages.  Both README commands and `.ci/run` install with
`pip install -c requirements/constraints.txt ...`.

Usage, from the repository root:

    python scripts/lock.py                        # after editing pyproject.toml: re-resolve,
                                                  # keeping every pin that still fits
    python scripts/lock.py --upgrade              # move every pin to the newest release
    python scripts/lock.py --upgrade-package babel  # move one (repeatable)
    python scripts/lock.py --check                # write nothing; exit 1 listing what is stale

Refreshing runs pip-tools' `pip-compile` (`--extra test --strip-extras`, resolved for the Python
running this script; resolve on the oldest supported one, 3.11) and installs pip-tools into a
throwaway virtualenv first when it is not importable here.  Any other arguments go to
pip-compile as they are.  Run the tests after an upgrade before committing the new lock.

`--check` needs no network: every dependency named in `pyproject.toml` (runtime and the
`test` extra) must be pinned with `==` to a version its specifier allows, every line must be a
plain `name==version` (pip refuses extras in a constraints file), and nothing may be pinned
"via bookbot (pyproject.toml)" that `pyproject.toml` no longer names.
`tests/test_lock.py` runs the same check.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = ROOT / "pyproject.toml"
LOCK = ROOT / "requirements" / "constraints.txt"
EXTRAS = ("test",)
COMMAND = "python scripts/lock.py"
_VIA_PYPROJECT = "bookbot (pyproject.toml)"
_VIA = re.compile(r"^\s*#\s+(?:via\s+)?(?P<source>\S.*?)\s*$")


def declared(pyproject: str) -> list[Requirement]:
    """The runtime requirements and those of EXTRAS, as `pyproject.toml` states them."""
    project = tomllib.loads(pyproject)["project"]
    lines = list(project.get("dependencies", []))
    for extra in EXTRAS:
        lines += project.get("optional-dependencies", {}).get(extra, [])
    return [Requirement(line) for line in lines]


def pins(lock: str) -> tuple[dict[str, list[Requirement]], dict[str, set[str]], list[str]]:
    """The lock's requirements by canonical name, what each is pinned via, and bad lines."""
    found: dict[str, list[Requirement]] = {}
    via: dict[str, set[str]] = {}
    bad: list[str] = []
    current: str | None = None
    for number, raw in enumerate(lock.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            match = _VIA.match(raw) if current and raw.startswith(" ") else None
            if match and match["source"] != "via":
                via[current or ""].add(match["source"])
            continue
        current = None
        if line.startswith("-"):
            bad.append(f"line {number}: options do not belong in the lock: {line}")
            continue
        try:
            requirement = Requirement(line.split(" #", 1)[0])
        except InvalidRequirement as error:
            bad.append(f"line {number}: not a requirement: {line} ({error})")
            continue
        name = canonicalize_name(requirement.name)
        found.setdefault(name, []).append(requirement)
        via.setdefault(name, set())
        current = name
    return found, via, bad


def _pinned_version(requirement: Requirement) -> Version | None:
    specifiers = list(requirement.specifier)
    if len(specifiers) != 1 or specifiers[0].operator != "==" or "*" in specifiers[0].version:
        return None
    try:
        return Version(specifiers[0].version)
    except InvalidVersion:
        return None


def _lock_line_problems(found: dict[str, list[Requirement]]) -> Iterable[str]:
    for name, requirements in sorted(found.items()):
        for requirement in requirements:
            if requirement.extras:
                yield f"{requirement}: pip refuses extras in a constraints file"
            if requirement.url or _pinned_version(requirement) is None:
                yield f"{requirement}: the lock pins with '==' to one version"
        if len(requirements) > 1 and not all(r.marker for r in requirements):
            yield f"{name} is pinned {len(requirements)} times"


def problems(pyproject: str, lock: str) -> list[str]:
    """What makes `lock` disagree with `pyproject`: one readable line per problem."""
    found, via, bad = pins(lock)
    out = list(bad)
    out += _lock_line_problems(found)
    wanted = declared(pyproject)
    names = {canonicalize_name(requirement.name) for requirement in wanted}
    for requirement in wanted:
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue  # not for the Python this lock was made with
        name = canonicalize_name(requirement.name)
        versions = [_pinned_version(pin) for pin in found.get(name, [])]
        if not versions:
            out.append(f"{requirement} is in pyproject.toml but not pinned in the lock")
        for version in versions:
            if version is not None and not requirement.specifier.contains(
                version, prereleases=True
            ):
                out.append(f"{requirement} is in pyproject.toml but the lock pins {version}")
    for name, sources in sorted(via.items()):
        if _VIA_PYPROJECT in sources and name not in names:
            out.append(f"{name} is pinned via pyproject.toml, which no longer names it")
    return out


def check() -> list[str]:
    """Problems of the lock on disk against `pyproject.toml` on disk."""
    if not LOCK.exists():
        return [f"{LOCK.relative_to(ROOT)} is missing; run {COMMAND}"]
    return problems(PYPROJECT.read_text(encoding="utf-8"), LOCK.read_text(encoding="utf-8"))


def _pip_compile() -> tuple[list[str], tempfile.TemporaryDirectory[str] | None]:
    """A command that runs pip-compile, and the throwaway virtualenv it lives in, if any."""
    if importlib.util.find_spec("piptools") is not None:
        return [sys.executable, "-m", "piptools", "compile"], None
    scratch = tempfile.TemporaryDirectory(prefix="bookbot-lock-")
    venv = Path(scratch.name) / "venv"
    print(f"pip-tools is not installed here; installing it into {venv}", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)  # noqa: S603
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    install = [str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip", "pip-tools"]
    subprocess.run(install, check=True)  # noqa: S603
    return [str(python), "-m", "piptools", "compile"], scratch


def refresh(extra_args: Sequence[str]) -> int:
    if sys.version_info[:2] != (3, 11):
        print("note: resolving for this Python; the lock is meant for 3.11", file=sys.stderr)
    command, scratch = _pip_compile()
    command += [
        *(f"--extra={extra}" for extra in EXTRAS),
        "--strip-extras",
        "--no-emit-index-url",
        "--no-emit-trusted-host",
        "--no-emit-find-links",
        "--quiet",
        f"--output-file={LOCK.relative_to(ROOT).as_posix()}",
        *extra_args,
        "pyproject.toml",
    ]
    LOCK.parent.mkdir(parents=True, exist_ok=True)
    environment = os.environ | {"CUSTOM_COMPILE_COMMAND": COMMAND}
    try:
        status = subprocess.run(command, cwd=ROOT, env=environment, check=False).returncode  # noqa: S603
    finally:
        if scratch is not None:
            scratch.cleanup()
    if status:
        return status
    found = check()
    for line in found:
        print(line)
    print(f"wrote {LOCK.relative_to(ROOT)}" if not found else "the new lock still has problems")
    return 1 if found else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").partition("\n")[0],
        epilog="Other arguments (--upgrade, --upgrade-package NAME, ...) go to pip-compile.",
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if the lock is stale"
    )
    args, rest = parser.parse_known_args(argv)
    if not args.check:
        return refresh(rest)
    if rest:
        parser.error(f"--check takes no other arguments: {' '.join(rest)}")
    found = check()
    for line in found:
        print(line)
    print(f"{len(found)} problem(s); run {COMMAND}" if found else "lock matches pyproject.toml")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
