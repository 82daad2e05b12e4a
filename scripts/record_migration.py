"""Record the sha256 of each new migration revision in `landed.json`, beside the migrations.

Usage, from the repository root, after adding a revision (and before committing it):

    python scripts/record_migration.py          # add an entry for every revision not yet recorded
    python scripts/record_migration.py --check  # write nothing; exit 1 listing what is wrong

A migration that has landed never changes: a database built from the old file will never see
the edit (it is already at that revision), so a fix is always a new revision. The table makes
that checkable: `tests/store/test_migrations.py` fails when a revision file's hash differs from
its entry, when a revision has no entry, and when an entry has no file. This script only ever
adds entries; it refuses to overwrite one whose file changed, and says how to put it back.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
MIGRATIONS = REPOSITORY / "src" / "bookbot" / "store" / "migrations"
VERSIONS = MIGRATIONS / "versions"
LANDED = MIGRATIONS / "landed.json"


def file_hashes() -> dict[str, str]:
    """Each revision file's name and the sha256 of its bytes."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(VERSIONS.glob("*.py"))
    }


def recorded() -> dict[str, str]:
    if not LANDED.exists():
        return {}
    table: dict[str, str] = json.loads(LANDED.read_text(encoding="utf-8"))
    return table


def problems(files: dict[str, str], table: dict[str, str]) -> list[str]:
    """What this script cannot fix: changed or vanished revisions."""
    found = []
    for name, digest in sorted(table.items()):
        if name not in files:
            found.append(f"{name} is recorded as landed but its file is gone: put it back")
        elif files[name] != digest:
            found.append(
                f"{name} changed after it landed: restore it (git checkout <the commit that "
                f"recorded it> -- {VERSIONS.relative_to(REPOSITORY)}/{name}) and fix "
                "forward in a new revision"
            )
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; report what is wrong")
    args = parser.parse_args(argv)
    files, table = file_hashes(), recorded()
    wrong = problems(files, table)
    new = {name: digest for name, digest in files.items() if name not in table}
    for line in wrong:
        print(f"error: {line}", file=sys.stderr)
    if args.check:
        for name in new:
            print(f"error: {name} has no recorded hash: run python scripts/record_migration.py")
        return 1 if wrong or new else 0
    if wrong:
        return 1
    if new:
        LANDED.write_text(
            json.dumps({**table, **new}, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
    for name in new:
        print(f"recorded {name}")
    if not new:
        print("every revision is recorded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
