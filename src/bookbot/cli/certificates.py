"""`bookbot certificates verify|revoke|list`: check a certificate's code, revoke one with a
reason, list a session's certificates. Codes are global (anyone may verify one), so verify
and revoke need no --studio; list is one studio's."""

from __future__ import annotations

import argparse
from typing import Any

from bookbot.cli.common import CommandError, add_studio_option, opened, positive_int, studio_session
from bookbot.config import Settings
from bookbot.engine.clock import SystemClock
from bookbot.engine.errors import BookingError
from bookbot.services import certificates
from bookbot.services.certificates import Certificate


def register(commands: Any) -> None:
    group = commands.add_parser("certificates", help="certificates: verify, revoke, list")
    actions = group.add_subparsers(
        dest="certificates_command", required=True, metavar="ACTION", help="what to do"
    )
    verify = actions.add_parser("verify", help="is a code valid? (exit 1 if not)")
    verify.add_argument("code", metavar="CODE", help="e.g. 7F3Q-K2M9-XA7B (any case)")
    verify.set_defaults(run=run_verify)

    revoke = actions.add_parser("revoke", help="revoke a certificate, with a reason")
    revoke.add_argument("code", metavar="CODE", help="the certificate's code")
    revoke.add_argument("--reason", required=True, help="why (shown on its /verify page)")
    revoke.set_defaults(run=run_revoke)

    listing = actions.add_parser("list", help="the certificates issued for a session")
    listing.add_argument(
        "--session", type=positive_int, required=True, metavar="N", help="the session's id"
    )
    add_studio_option(listing)
    listing.set_defaults(run=run_list)


def describe(c: Certificate) -> str:
    days = f"{c.first_day}" if c.first_day == c.last_day else f"{c.first_day}..{c.last_day}"
    return f"{c.shown_code}  {c.holder_name}  {c.course_name}  {days}  {c.studio_name}"


async def run_verify(settings: Settings, args: argparse.Namespace) -> int:
    async with opened(settings) as db:
        found = await certificates.verify(db, args.code)
    c = found.certificate
    if found.status == "unknown" or c is None:
        print(f"unknown: no certificate has the code {args.code}")
        return 1
    if found.status == "revoked" and c.revoked_at is not None:
        print(f"REVOKED on {c.revoked_at.date()}: {c.revoked_reason or ''}")
        print(describe(c))
        return 1
    print(f"valid: {describe(c)}")
    return 0


async def run_revoke(settings: Settings, args: argparse.Namespace) -> int:
    async with opened(settings) as db:
        try:
            c = await certificates.revoke(db, SystemClock(), args.code, reason=args.reason)
        except BookingError as error:
            raise CommandError(str(error)) from error
    assert c.revoked_at is not None  # noqa: S101 - revoke just set it (or it was before)
    print(f"revoked {c.shown_code} on {c.revoked_at.date()}: {c.revoked_reason}")
    return 0


async def run_list(settings: Settings, args: argparse.Namespace) -> int:
    async with studio_session(settings, args.studio) as (db, studio):
        found = await certificates.for_session(db, studio.id, args.session)
    if not found:
        print(f"no certificates for session {args.session}")
    for c in found:
        state = f"  revoked {c.revoked_at.date()}" if c.revoked_at else ""
        print(f"{describe(c)}  issued {c.issued_at.date()}{state}")
    return 0
