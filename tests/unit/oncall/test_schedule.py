"""The schedule arithmetic in Asia/Jakarta, with a frozen clock: a weekly rotation of four with
a Monday 09:00 handoff, a business-hours layer over it, an override across midnight, a swap
of whole shifts, and a gap. Every instant in the table gets the answer a person would expect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.oncall.model import LayerSpec, Override, RotationSpec, SpecError, Window
from services.oncall.schedule import Schedule, Version, handoffs, now_and_next, shifts, who

WIB = ZoneInfo("Asia/Jakarta")
ANI, BUDI, CITRA, DEDI = 1, 2, 3, 4  # the weekly 24/7 rotation, in order
EKA, FAJAR = 5, 6  # business hours, daily
DIMAS, SARI = 7, 8
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def at(text: str) -> datetime:
    """'2026-11-03 18:30' in WIB."""
    return datetime.fromisoformat(text).replace(tzinfo=WIB)


WEEKLY = LayerSpec(
    name="24/7", members=[ANI, BUDI, CITRA, DEDI], shift="weekly", handoff="monday 09:00",
    start=at("2026-11-02 00:00").date(),
)  # fmt: skip
BUSINESS = LayerSpec(
    name="office", members=[EKA, FAJAR], shift="daily", handoff="09:00",
    start=at("2026-11-02 00:00").date(), restrict=["mon-fri 09:00-17:00"],
)  # fmt: skip


def schedule(*overrides: Override, layers: list[LayerSpec] | None = None) -> Schedule:
    rotation = RotationSpec(layers=layers or [WEEKLY, BUSINESS]).build("senior_engineer", WIB)
    return Schedule("senior_engineer", (Version(EPOCH, rotation),), tuple(overrides))


COVER = Override(1, "senior_engineer", DIMAS, at("2026-11-03 18:00"), at("2026-11-04 09:00"), ANI)
# Budi's week (Nov 9-16) and Citra's (Nov 16-23) swapped
SE = "senior_engineer"
SWAP = (
    Override(2, SE, CITRA, at("2026-11-09 09:00"), at("2026-11-16 09:00"), BUDI, "swap"),
    Override(3, SE, BUDI, at("2026-11-16 09:00"), at("2026-11-23 09:00"), CITRA, "swap"),
)

TABLE = [
    # the weekly 24/7 layer alone (nights and weekends)
    ("2026-11-02 09:00", EKA),  # the first handoff, exactly, in business hours
    ("2026-11-02 08:59", DEDI),  # the minute before: the week before belongs to the last one
    ("2026-11-02 17:00", ANI),  # business hours over
    ("2026-11-02 23:59", ANI),
    ("2026-11-07 12:00", ANI),  # Saturday noon: no business hours at weekends
    ("2026-11-08 23:00", ANI),  # Sunday night
    ("2026-11-09 08:59", ANI),  # a minute before Monday's handoff
    ("2026-11-30 17:30", ANI),  # week five: round again
    (
        "2026-11-16 08:00",
        CITRA,
    ),  # a swapped week starts at the handoff, not before: Budi until 09:00? no, swapped: Citra
    ("2026-11-23 20:00", DEDI),
    ("2026-11-30 20:00", ANI),  # round again
    ("2026-12-28 03:00", DEDI),  # eight weeks on, before Monday's handoff
    ("2026-10-31 12:00", DEDI),  # before the start the rotation runs backwards
    # the business-hours layer wins Mon-Fri 09:00-17:00
    ("2026-11-02 09:00:01", EKA),
    ("2026-11-02 16:59", EKA),
    ("2026-11-03 10:00", FAJAR),
    ("2026-11-04 10:00", EKA),
    ("2026-11-06 16:00", EKA),  # Friday, the fifth day
    ("2026-11-07 10:00", ANI),  # Saturday: the 24/7 layer
    ("2026-11-25 09:30", FAJAR),  # daily turns count weekends too
    # the override across midnight (Dimas covers Tuesday 18:00 - Wednesday 09:00)
    ("2026-11-03 17:59", ANI),
    ("2026-11-03 18:00", DIMAS),
    ("2026-11-03 23:59", DIMAS),
    ("2026-11-04 00:00", DIMAS),
    ("2026-11-04 08:59", DIMAS),
    ("2026-11-04 09:00", EKA),  # business hours again
    # the swap of Budi's and Citra's weeks
    ("2026-11-09 08:59", ANI),
    ("2026-11-09 20:00", CITRA),
    ("2026-11-10 12:00", CITRA),  # an override wins over business hours too
    ("2026-11-16 09:00", BUDI),
    ("2026-11-22 23:00", BUDI),
    ("2026-11-23 17:00", DEDI),  # after the swap, the order resumes
]


@pytest.mark.parametrize(("when", "expected"), TABLE)
def test_who_is_on_call_at_any_instant(when: str, expected: int) -> None:
    assert who(schedule(COVER, *SWAP), at(when)).user_id == expected


def test_the_table_is_at_least_thirty_instants() -> None:
    assert len(TABLE) >= 30


GAP_TABLE = [
    ("2026-11-02 10:00", EKA),
    ("2026-11-02 17:00", None),  # nights: nobody
    ("2026-11-07 12:00", None),  # weekends: nobody
    ("2026-11-09 09:00", FAJAR),
    ("2026-11-03 20:00", DIMAS),  # an override fills part of a gap
    ("2026-11-04 09:00", EKA),
]


@pytest.mark.parametrize(("when", "expected"), GAP_TABLE)
def test_a_business_hours_only_rotation_leaves_gaps(when: str, expected: int | None) -> None:
    assert who(schedule(COVER, layers=[BUSINESS]), at(when)).user_id == expected


def test_shifts_over_a_day_merge_and_name_their_source() -> None:
    found = shifts(schedule(COVER), at("2026-11-03 00:00"), at("2026-11-04 12:00"))
    assert [(s.user_id, s.start, s.end) for s in found] == [
        (ANI, at("2026-11-03 00:00"), at("2026-11-03 09:00")),
        (FAJAR, at("2026-11-03 09:00"), at("2026-11-03 17:00")),
        (ANI, at("2026-11-03 17:00"), at("2026-11-03 18:00")),
        (DIMAS, at("2026-11-03 18:00"), at("2026-11-04 09:00")),
        (EKA, at("2026-11-04 09:00"), at("2026-11-04 12:00")),
    ]
    assert found[3].override_id == 1 and found[1].layer == "office"


def test_now_and_next_says_until_when_and_who_follows() -> None:
    board = now_and_next(schedule(layers=[WEEKLY]), at("2026-11-04 12:00"), timedelta(weeks=8))
    assert board.current.user_id == ANI and board.current.end == at("2026-11-09 09:00")
    assert board.following is not None and board.following.user_id == BUDI


def test_handoffs_in_a_window_are_the_instants_the_person_changes() -> None:
    found = handoffs(schedule(layers=[WEEKLY]), at("2026-11-09 08:00"), at("2026-11-09 10:00"))
    assert [(o.user_id, i.user_id, i.start) for o, i in found] == [
        (ANI, BUDI, at("2026-11-09 09:00"))
    ]
    assert handoffs(schedule(layers=[WEEKLY]), at("2026-11-09 09:00"), at("2026-11-09 10:00")) == []


def test_a_later_rotation_version_does_not_rewrite_the_past() -> None:
    old = RotationSpec(layers=[WEEKLY]).build("senior_engineer", WIB)
    new = RotationSpec(layers=[WEEKLY.model_copy(update={"members": [SARI]})]).build(
        "senior_engineer", WIB
    )
    two = Schedule("senior_engineer", (Version(EPOCH, old), Version(at("2026-11-05 00:00"), new)))
    assert who(two, at("2026-11-04 23:59")).user_id == ANI
    assert who(two, at("2026-11-05 00:00")).user_id == SARI


def test_every_n_hours_steps_in_absolute_time() -> None:
    layer = LayerSpec(
        members=[ANI, BUDI, CITRA],
        shift="12h",
        handoff="08:00",
        start=at("2026-11-02 00:00").date(),
    )
    one = schedule(layers=[layer])
    assert who(one, at("2026-11-02 08:00")).user_id == ANI
    assert who(one, at("2026-11-02 20:00")).user_id == BUDI
    assert who(one, at("2026-11-03 08:00")).user_id == CITRA
    assert who(one, at("2026-11-03 20:00")).user_id == ANI


def test_windows_across_midnight() -> None:
    night = Window.parse("mon-fri 22:00-06:00")
    assert night.contains(at("2026-11-06 23:00"))  # Friday night
    assert night.contains(at("2026-11-07 05:59"))  # into Saturday morning
    assert not night.contains(at("2026-11-08 05:00"))  # Sunday morning: no Saturday start


@pytest.mark.parametrize("bad", ["mon-fri", "xyz 09:00-17:00", "mon 25:00-26:00", "mon 09:00"])
def test_bad_windows_are_refused_with_a_reason(bad: str) -> None:
    with pytest.raises(SpecError):
        Window.parse(bad)
