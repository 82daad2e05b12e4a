"""What a registration costs, in integer minor units of the studio's currency."""

from __future__ import annotations

from enum import StrEnum

from bookbot.engine import errors


class ClassKind(StrEnum):
    SINGLE = "single"
    COURSE = "course"
    DROP_IN = "drop_in"


class RegistrationKind(StrEnum):
    SINGLE = "single"
    FULL_SCHEDULE = "full_schedule"
    DROP_IN = "drop_in"


# Which registration each kind of class takes.
REGISTRATION_FOR_CLASS = {
    ClassKind.SINGLE: RegistrationKind.SINGLE,
    ClassKind.COURSE: RegistrationKind.FULL_SCHEDULE,
    ClassKind.DROP_IN: RegistrationKind.DROP_IN,
}


def registration_price(
    kind: RegistrationKind, price_minor: int, guests: int, session_count: int
) -> int:
    """A course's price covers its whole run; a drop-in's price is per chosen session."""
    if kind is RegistrationKind.DROP_IN:
        return price_minor * guests * session_count
    return price_minor * guests


def check_registration_shape(
    class_kind: ClassKind, kind: RegistrationKind, session_count: int
) -> None:
    expected = REGISTRATION_FOR_CLASS[class_kind]
    if kind is not expected:
        raise errors.WrongRegistrationKind(
            class_kind=class_kind.value, expected=expected.value, kind=kind.value
        )
    if session_count == 0:
        raise errors.NoSessionChosen()
    if kind is RegistrationKind.SINGLE and session_count != 1:
        raise errors.OneSessionOnly()
