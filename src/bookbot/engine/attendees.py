"""The details a class may ask of whoever books it (issue 17), in the order they are asked:
the booker's name (and the others' names), email, company, job title, special requests.
Shared by the studio file (which checks the names) and the services (which store them)."""

from __future__ import annotations

ATTENDEE_FIELDS = ("names", "email", "company", "job_title", "requests")
