"""The studio file's attendee details and certificates (issue 17): checked, and loaded."""

from __future__ import annotations

from tests.studio.test_loader import edited, example_data
from tests.studio.test_model import problems_for

from bookbot.store.db import Database
from bookbot.studio.loader import load_studio
from bookbot.studio.model import parse_studio_data


def test_unknown_attendee_fields_are_named_with_the_known_ones() -> None:
    problems = problems_for(("classes", 1, "attendee_fields"), ["email", "phone", "names"])
    assert problems == [
        'classes[1].attendee_fields[1]: unknown attendee field "phone"'
        " (known: company, email, job_title, names, requests)"
    ]


def test_a_field_listed_twice_is_named() -> None:
    problems = problems_for(("classes", 1, "attendee_fields"), ["email", "email"])
    assert problems == ['classes[1].attendee_fields[1]: "email" is listed twice']


def test_certificates_must_be_true_or_false() -> None:
    problems = problems_for(("classes", 1, "certificates"), "yes")
    assert len(problems) == 1
    assert problems[0].startswith("classes[1].certificates: ")


async def test_the_loader_writes_the_fields_and_the_certificates_flag(db: Database) -> None:
    fields = ["email", "company", "job_title", "requests", "names"]
    data = edited(
        example_data(), "classes", "wheel-course", attendee_fields=fields, certificates=True
    )
    report = await load_studio(db, parse_studio_data(data))
    async with db.transaction(write=False) as tx:
        rows = await tx.all(
            "SELECT key, attendee_fields, issues_certificates FROM classes"
            " WHERE studio_id = :s ORDER BY key",
            {"s": report.studio_id},
        )
    found = {r["key"]: (r["attendee_fields"], bool(r["issues_certificates"])) for r in rows}
    assert found["wheel-course"] == ("email,company,job_title,requests,names", True)
    assert found["wheel-taster"] == ("", False)
    again = await load_studio(db, parse_studio_data(data))
    assert sum(again.updated.values()) == 0
