"""Time windows of cost reports: named periods (``today`` … ``this_month``) and ``--since``/``--until`` dates.

Times are UTC, as the run store's UNIX seconds and the monthly budget's calendar
month are: a day is a UTC day, ``this_month`` is the UTC calendar month. A
window is half-open, ``[since, until)``, in UNIX seconds (``None``: unbounded).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from agents_core.errors import InputError

PERIODS = ("today", "yesterday", "last_7_days", "last_30_days", "this_month")


@dataclass(frozen=True)
class Window:
    """``[since, until)`` in UNIX seconds; ``None`` leaves that side open."""

    since: float | None = None
    until: float | None = None

    def contains(self, moment: float) -> bool:
        return (self.since is None or moment >= self.since) and (self.until is None or moment < self.until)

    def describe(self) -> str:
        def text(value: float | None) -> str:
            return "-" if value is None else datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M UTC")

        if self.since is None and self.until is None:
            return "all time"
        return f"{text(self.since)} .. {text(self.until)}"


def day_start(day: date) -> float:
    """00:00 UTC of ``day``, as UNIX seconds."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def day_window(first: date | None, last: date | None) -> Window:
    """The UTC days ``first`` .. ``last``, both included (``None``: that side open), e.g. a date picker's range."""
    return Window(
        day_start(first) if first else None,
        day_start(last + timedelta(days=1)) if last else None,
    )


def week_start(now: datetime | None = None) -> float:
    """Monday 00:00 UTC of the current ISO week, as UNIX seconds (weeks are ISO weeks, as the ``week`` rows are)."""
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    return day_start(today - timedelta(days=today.weekday()))


def period_window(period: str, now: datetime | None = None) -> Window:
    """The window of a named period, relative to ``now`` (UTC); ``InputError`` names the known periods."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    today = now.date()
    tomorrow = day_start(today + timedelta(days=1))
    if period == "today":
        return Window(day_start(today), tomorrow)
    if period == "yesterday":
        return Window(day_start(today - timedelta(days=1)), day_start(today))
    if period == "last_7_days":
        return Window(day_start(today - timedelta(days=6)), tomorrow)
    if period == "last_30_days":
        return Window(day_start(today - timedelta(days=29)), tomorrow)
    if period == "this_month":
        return Window(day_start(today.replace(day=1)), tomorrow)
    raise InputError(f"--period {period!r} is not a period.", f"Use one of: {', '.join(PERIODS)}.")


def parse_moment(text: str, option: str, *, end: bool = False) -> float:
    """``YYYY-MM-DD`` (a UTC day; as an ``end`` the day is included) or an ISO date-time, as UNIX seconds."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return day_start(day + timedelta(days=1)) if end else day_start(day)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(
            f"{option} {text!r} is not a date.",
            f"Write it as YYYY-MM-DD (a UTC day) or an ISO date-time, e.g. {option} 2026-01-31.",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def resolve_window(
    period: str | None = None, since: str | None = None, until: str | None = None, now: datetime | None = None
) -> Window:
    """One window from ``--period`` or ``--since``/``--until`` (not both: that is an ``InputError``)."""
    if period and (since or until):
        raise InputError("--period cannot be combined with --since/--until.", "Give either a period or dates.")
    if period:
        return period_window(period, now)
    window = Window(
        parse_moment(since, "--since") if since else None,
        parse_moment(until, "--until", end=True) if until else None,
    )
    if window.since is not None and window.until is not None and window.since >= window.until:
        raise InputError(f"--since {since} is not before --until {until}.", "Swap the dates.")
    return window
