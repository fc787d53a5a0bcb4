"""Quick add's phrases (SPEC §14): "Call Ada tomorrow 3pm" is the task "Call Ada" due tomorrow at
15:00 in the user's zone; "Standup every weekday 9am" repeats on weekdays from the next one, 09:00.

dateparser finds the dates (`search_dates`) and reads them; recurrent reads the repeats. Both are
generous, so the rules here decide when words are *clearly* a date (docs/web-ui.md lists them):

- every word of a date is a date word in its place: a month counts only next to a day number
  ("12 March", "March 12th"), so "Call May about the deal" and "Email April" stay names; "may" in
  lower case is the verb; a capitalised weekday followed by a capitalised word is a name ("Meet
  Sunday Adams"); a weekday's short form (mon...sun) counts only at the end, before a date word or
  after on/by/next/this/until/due ("Buy sun cream" keeps its sun); a number counts only as a day
  beside a month, as a time ("3pm", "15:00", "at 9" after a day) or in "in 3 days";
- a date needs something that names a day or a time: a day word (today, tonight, tomorrow, a
  weekday), a day and month, an ISO date (2026-12-12), a time (3pm, 15:00, noon), "in N units",
  or next week/month/year. So "Send 3 quotes", "Q4 review", "Call 555-0100", "Plan 2027 budget",
  "now" and "second" are never dates;
- nothing in the past by words: "last Friday", "yesterday", "2 days ago" are left alone.

Reading: a date without a time is due that day (midnight in the user's zone, as the Due field
reads a bare date); a time without a day is today, or tomorrow once it has passed; a weekday is
the next one after today; "next week" is next Monday, "next month" the 1st of next month; a bare
hour after "at" is a working hour ("at 9" 09:00, "at 3" 15:00). A repeat ("every weekday 9am",
"daily", "every 2 weeks on monday", "every month on the 1st", "every 12 March") gives the rule
and its first occurrence from now on (from the date, when one is also given). When nothing but
date words would be left, nothing is parsed: the words are the title.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

import dateparser
from dateparser.search import search_dates
from dateutil.rrule import rrulestr
from recurrent.event_parser import RecurringEvent

from crm.services import recurrence

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAY_SHORT = {"mon": 0, "tue": 1, "tues": 1, "wed": 2, "weds": 2, "thu": 3, "thur": 3, "thurs": 3,
                 "fri": 4, "sat": 5, "sun": 6}
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
          "october", "november", "december")
MONTH_SHORT = ("jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec")
DAY_WORDS = ("today", "tonight", "tomorrow", "tmrw")
UNITS = ("minute", "minutes", "min", "mins", "hour", "hours", "day", "days", "week", "weeks", "month",
         "months", "year", "years")
# Words that join a date's parts, or lead into one ("due fri", "by 5 May", "at noon").
CONNECTORS = ("at", "on", "by", "due", "the", "of", "this", "next", "in", "from", "starting", "until")
LEADING = ("at", "on", "by", "due", "from", "starting")
PAST_WORDS = ("last", "past", "ago", "yesterday", "previous")
REPEAT_STARTS = ("every", "each", "daily", "weekly", "monthly", "yearly", "annually")
REPEAT_WORDS = (*WEEKDAYS, *(f"{d}s" for d in WEEKDAYS), *WEEKDAY_SHORT, *MONTHS, *MONTH_SHORT,
                "day", "days", "week", "weeks", "month", "months", "year", "years", "weekday", "weekdays",
                "weekend", "weekends", "other", "on", "the", "at", "and", "of", "until", "first", "second",
                "third", "fourth", "fifth", "am", "pm", "noon", "midnight")

_TOKEN = re.compile(r"[^\s,;]+")
_STRIP = ".!?()[]\"'"
_NUMBER = re.compile(r"^(\d{1,2})(st|nd|rd|th)?$")
_CLOCK = re.compile(r"^(\d{1,2})(?::([0-5]\d))?(am|pm|a\.m\.|p\.m\.)$|^([01]?\d|2[0-3]):([0-5]\d)$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YEAR = re.compile(r"^(19|20)\d\d$")
_TIME = re.compile(
    r"\b(?P<h12>\d{1,2})(?::(?P<m12>[0-5]\d))?\s*(?P<ampm>[ap])\.?m\b\.?"
    r"|\b(?P<h24>[01]?\d|2[0-3]):(?P<m24>[0-5]\d)\b"
    r"|\b(?P<word>noon|midnight)\b"
    r"|\bat\s+(?P<hat>[01]?\d|2[0-3])\b(?!\s*(?:[ap]\.?m\b|:))",
    re.IGNORECASE,
)
_IN_UNITS = re.compile(r"\bin\s+(\d{1,3}|a|an)\s+(minute|min|hour|day|week|month|year)s?\b", re.IGNORECASE)
_NEXT_PERIOD = re.compile(r"\bnext\s+(week|month|year)\b", re.IGNORECASE)
_DAY_AFTER_TOMORROW = re.compile(r"\bday after tomorrow\b", re.IGNORECASE)

SETTINGS = {"PREFER_DATES_FROM": "future", "PARSERS": ["relative-time", "absolute-time"],
            "RETURN_AS_TIMEZONE_AWARE": False, "DATE_ORDER": "DMY"}
# What we keep of recurrent's reading; anything else in it (BYYEARDAY, BYSETPOS...) is not ours.
RULE_PARTS = ("freq", "interval", "byday", "bymonthday", "until", "count")
MAX_YEARS_AHEAD = 100  # "12 March 9999" is a typo, not a due date


class QuickAdd(NamedTuple):
    """What quick add understood: the title without the date words, the due time (naive UTC), the
    RRULE, and the spans of `text` that were read as the date and the repeat (removed from it)."""

    title: str
    due_at: datetime | None
    recurrence: str | None
    matched: tuple[tuple[int, int], ...]


class _Token(NamedTuple):
    start: int
    end: int
    raw: str  # as typed, without surrounding punctuation
    word: str  # lower case


class _Date(NamedTuple):
    span: tuple[int, int]
    day: date | None  # None: a time alone
    clock: time | None  # None: the day alone
    relative: datetime | None  # "in 2 hours": the moment itself


def parse_quick_add(text: str, now: datetime, tz: zoneinfo.ZoneInfo, *, dates: bool = True) -> QuickAdd:
    """Read `text` as typed into "New task", `now` (naive UTC) in the user's zone `tz`.

    `dates=False`: repeats only (the due time is given elsewhere, and date words stay)."""
    text = text or ""
    nothing = QuickAdd(" ".join(text.split()), None, None, ())
    if not text.strip() or len(text) > 1000:
        return nothing
    local_now = now.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None)
    tokens = _tokens(text)
    repeat = _find_repeat(text, tokens, local_now)
    blanked = text
    if repeat is not None:
        start, end = repeat[0]
        blanked = text[:start] + " " * (end - start) + text[end:]
    found = _find_date(blanked, _tokens(blanked), local_now) if dates else None
    spans = tuple(sorted(s for s in ((repeat[0] if repeat else None), (found.span if found else None)) if s))
    if not spans:
        return nothing
    title = _without(text, spans)
    if not title:
        return nothing
    if repeat is not None:
        _span, rule, clock, rule_day = repeat
        due_local = _first_occurrence(rule, found, clock, rule_day, local_now)
        if due_local is None:
            return nothing
        return QuickAdd(title, _to_utc(due_local, tz), rule, spans)
    return QuickAdd(title, _to_utc(_due_of(found, local_now), tz), None, spans)


def warm_up() -> None:
    """Load the libraries' language data now (the first reading takes a second or two): the server
    calls this before its workers fork (gunicorn.conf.py), not on someone's first keystroke."""
    parse_quick_add("Call Ada tomorrow 3pm every week", datetime(2026, 1, 1), zoneinfo.ZoneInfo("UTC"))


# --- Words ------------------------------------------------------------------------------------

def _tokens(text: str) -> list[_Token]:
    result = []
    for match in _TOKEN.finditer(text):
        raw = match.group(0)
        stripped = raw.strip(_STRIP)
        if not stripped:
            continue
        start = match.start() + raw.index(stripped)
        result.append(_Token(start, start + len(stripped), stripped, stripped.lower()))
    return result


def _is_month(word: str) -> bool:
    return word in MONTHS or word in MONTH_SHORT


def _is_day_number(word: str) -> bool:
    match = _NUMBER.match(word)
    return bool(match) and 1 <= int(match.group(1)) <= 31


def _is_clock(word: str) -> bool:
    match = _CLOCK.match(word)
    if not match:
        return False
    return match.group(4) is not None or 1 <= int(match.group(1)) <= 12


def _month_here(tokens: list[_Token], i: int) -> bool:
    """A month named at i, beside a day number ("12 March", "March 12th", "12th of March")."""
    token = tokens[i]
    if not _is_month(token.word) or token.raw == "may":  # "may" in lower case is the verb
        return False
    before = tokens[i - 1].word if i > 0 else ""
    if before == "of" and i > 1:
        before = tokens[i - 2].word
    after = tokens[i + 1].word if i + 1 < len(tokens) else ""
    return _is_day_number(before) or _is_day_number(after)


def _date_word(tokens: list[_Token], i: int) -> bool:
    """Whether token i is part of a date where it stands (see the module's rules)."""
    token, word = tokens[i], tokens[i].word
    before = tokens[i - 1].word if i > 0 else ""
    after = tokens[i + 1] if i + 1 < len(tokens) else None
    if word in DAY_WORDS or _ISO.match(word) or _is_clock(word) or word in ("noon", "midnight"):
        return True
    if word in WEEKDAYS:
        # "Meet Sunday Adams": a capitalised weekday before a capitalised word is a name.
        return not (token.raw[0].isupper() and after is not None and after.raw[0].isupper()
                    and not _date_word(tokens, i + 1))
    if word in WEEKDAY_SHORT:
        return (after is None or before in ("on", "by", "next", "this", "until", "due", "every")
                or _date_word(tokens, i + 1))
    if _is_month(word):
        return _month_here(tokens, i)
    if _is_day_number(word):
        near_month = any(_is_month(tokens[j].word) and _month_here(tokens, j)
                         for j in (i - 1, i + 1, i + 2) if 0 <= j < len(tokens))
        is_hour = after is not None and after.word in ("am", "pm", "a.m.", "p.m.")
        return near_month or is_hour or before == "at" and int(_NUMBER.match(word).group(1)) <= 23 \
            or before == "in" and after is not None and after.word in UNITS
    if word.isdigit() and before == "in":  # "in 45 minutes"
        return after is not None and after.word in UNITS
    if word in ("am", "pm", "a.m.", "p.m."):
        return i > 0 and tokens[i - 1].word.isdigit()
    if _YEAR.match(word):
        return i > 0 and (_is_month(before) or _is_day_number(before)) and _date_word(tokens, i - 1)
    if word in ("a", "an"):
        return before == "in"
    if word == "after":  # "day after tomorrow"
        return after is not None and after.word == "tomorrow"
    if word == "day":
        return after is not None and after.word == "after"
    if word in UNITS:
        return i > 1 and tokens[i - 2].word == "in" or before == "next" and word in ("week", "month", "year")
    return word in CONNECTORS


def _has_signal(text: str) -> bool:
    """Something that names a day or a time (a bare "at 9" does not: it needs a day with it)."""
    lowered = text.lower()
    words = [t.word for t in _tokens(lowered)]
    if any(w in DAY_WORDS or w in WEEKDAYS or w in WEEKDAY_SHORT or _ISO.match(w) for w in words):
        return True
    if any(_is_month(w) for w in words) or _IN_UNITS.search(lowered) or _NEXT_PERIOD.search(lowered):
        return True
    match = _TIME.search(lowered)
    return bool(match) and match.group("hat") is None


# --- Dates ------------------------------------------------------------------------------------

def _search(text: str, base: datetime) -> list[tuple[str, datetime]]:
    try:
        return search_dates(text, languages=["en"], settings={**SETTINGS, "RELATIVE_BASE": base}) or []
    except (ValueError, OverflowError, TypeError, LookupError):  # odd input: no date in it then
        return []


def _parse(text: str, base: datetime) -> datetime | None:
    """One date, read by dateparser from `base`; None when it is none, or out of the years tasks take."""
    try:
        value = dateparser.parse(text, languages=["en"], settings={**SETTINGS, "RELATIVE_BASE": base})
    except (ValueError, OverflowError, TypeError, LookupError):
        return None
    if value is None or not base.year - 1 <= value.year <= base.year + MAX_YEARS_AHEAD:
        return None
    return value


def _find_date(text: str, tokens: list[_Token], local_now: datetime) -> _Date | None:
    """The first clear date in `text` (see the module's rules), or None."""
    if not _has_signal(text):
        return None  # nothing that could be a date: skip the library call
    cursor = 0
    for found_text, _value in _search(text, local_now):
        start = text.find(found_text, cursor)
        if start < 0:
            continue
        cursor = start + len(found_text)
        inside = [i for i, t in enumerate(tokens) if t.start >= start and t.end <= cursor]
        # Trim what is not a date word where it stands, and joining words left at the ends.
        while inside and not _date_word(tokens, inside[0]):
            inside.pop(0)
        while inside and (not _date_word(tokens, inside[-1]) or tokens[inside[-1]].word in CONNECTORS):
            inside.pop()
        while inside and (tokens[inside[0]].word in LEADING or tokens[inside[0]].word == "in" and not (
                inside[0] + 1 < len(tokens) and _IN_UNITS.match(text, tokens[inside[0]].start))):
            inside.pop(0)  # "in" belongs to the date only as "in 3 days" ("Check in tomorrow")
        if not inside or not all(_date_word(tokens, i) for i in range(inside[0], inside[-1] + 1)):
            continue
        first, last = inside[0], inside[-1]
        while first > 0 and _date_word(tokens, first - 1) and (
                tokens[first - 1].word not in CONNECTORS or tokens[first - 1].word in ("next", "this")):
            first -= 1  # words the library left out ("day after tomorrow")
        before = tokens[first - 1].word if first > 0 else ""
        after = tokens[last + 1].word if last + 1 < len(tokens) else ""
        if before in PAST_WORDS or after in PAST_WORDS:
            continue
        core = text[tokens[first].start:tokens[last].end]
        if not _has_signal(core):
            continue
        reading = _read(core, local_now)
        if reading is None:
            continue
        while first > 0 and tokens[first - 1].word in LEADING:
            first -= 1  # "due fri", "by 5 May": the leading word goes with the date
        return _Date((tokens[first].start, tokens[last].end), *reading)
    return None


def _clock_of(text: str) -> time | None:
    match = _TIME.search(text)
    if not match:
        return None
    if match.group("word"):
        return time(12, 0) if match.group("word").lower() == "noon" else time(0, 0)
    if match.group("h24") is not None:
        return time(int(match.group("h24")), int(match.group("m24")))
    if match.group("hat") is not None:
        hour = int(match.group("hat"))
        return time(hour + 12 if 1 <= hour <= 7 else hour, 0)  # a working hour: "at 3" is 15:00
    hour = int(match.group("h12"))
    if not 1 <= hour <= 12:
        return None
    hour = hour % 12 + (12 if match.group("ampm").lower() == "p" else 0)
    return time(hour, int(match.group("m12") or 0))


def _read(core: str, local_now: datetime) -> tuple[date | None, time | None, datetime | None] | None:
    """(day, time of day, moment) for the words of a date; None when they make no date."""
    lowered = " ".join(core.lower().split())
    today = local_now.date()
    clock = _clock_of(lowered)
    units = _IN_UNITS.search(lowered)
    if units and units.group(2).startswith(("minute", "min", "hour")):
        count = 1 if units.group(1) in ("a", "an") else int(units.group(1))
        return None, None, local_now + timedelta(**{"hours" if units.group(2) == "hour" else "minutes": count})
    period = _NEXT_PERIOD.fullmatch(lowered)
    if period:
        kind = period.group(1)
        if kind == "week":
            day = today + timedelta(days=7 - today.weekday())
        elif kind == "month":
            day = date(today.year + today.month // 12, today.month % 12 + 1, 1)
        else:
            day = date(today.year + 1, 1, 1)
        return day, clock, None
    if _DAY_AFTER_TOMORROW.search(lowered):
        return today + timedelta(days=2), clock, None
    words = [t.word for t in _tokens(lowered)]
    names_a_day = units or any(w in DAY_WORDS or w in WEEKDAYS or w in WEEKDAY_SHORT or _ISO.match(w) or _is_month(w)
                               for w in words)
    if not names_a_day:
        return (None, clock, None) if clock else None  # a time alone
    weekday = next((WEEKDAYS.index(w) if w in WEEKDAYS else WEEKDAY_SHORT[w]
                    for w in words if w in WEEKDAYS or w in WEEKDAY_SHORT), None)
    if weekday is not None and not any(_is_month(w) or _ISO.match(w) for w in words):
        # The next one after today ("fri" on a Friday is a week ahead; today is "today").
        return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1), clock, None
    without_time = " ".join(_TIME.sub(" ", lowered).split())
    while without_time.rsplit(" ", 1)[-1] in CONNECTORS:
        without_time = without_time.rsplit(" ", 1)[0] if " " in without_time else ""
    value = _parse(without_time or lowered, local_now)
    if value is None:
        return None
    if "tonight" in words and clock is None:
        clock = time(value.hour, value.minute)
    return value.date(), clock, None


def _due_of(found: _Date, local_now: datetime) -> datetime:
    """The due time (naive local) a date stands for."""
    if found.relative is not None:
        return found.relative.replace(second=0, microsecond=0)
    if found.day is None:  # a time alone: today, or tomorrow once it has passed
        today = datetime.combine(local_now.date(), found.clock)
        return today if today > local_now else today + timedelta(days=1)
    return datetime.combine(found.day, found.clock or time(0, 0))


def _to_utc(local: datetime, tz: zoneinfo.ZoneInfo) -> datetime:
    return local.replace(tzinfo=tz).astimezone(UTC).replace(tzinfo=None)


def _without(text: str, spans: tuple[tuple[int, int], ...]) -> str:
    """The text with the spans taken out, spaces and stray separators tidied."""
    kept, position = [], 0
    for start, end in spans:
        kept.append(text[position:start])
        position = end
    kept.append(text[position:])
    title = re.sub(r"\s+([.,;:!?])", r"\1", " ".join("".join(kept).split()))
    return title.strip(" ,;:-–—")


# --- Repeats ----------------------------------------------------------------------------------

def _find_repeat(text: str, tokens: list[_Token], local_now: datetime):
    """(span, RRULE, time of day, day) of the first repeat ("every weekday 9am"), or None."""
    for i, token in enumerate(tokens):
        if token.word not in REPEAT_STARTS:
            continue
        last = i
        while last + 1 < len(tokens) and _repeat_word(tokens[last + 1].word):
            last += 1
        while last > i and tokens[last].word in ("on", "the", "at", "and", "of", "until"):
            last -= 1
        if token.word not in ("every", "each") and last == i and i + 1 < len(tokens):
            continue  # "Send weekly report": an adjective, unless it ends the text or a date follows
        words = text[token.start:tokens[last].end]
        reading = _read_repeat(words, local_now)
        if reading is not None:
            return ((token.start, tokens[last].end), *reading)
    return None


def _repeat_word(word: str) -> bool:
    return (word in REPEAT_WORDS or word.isdigit() and len(word) <= 3 or _is_day_number(word)
            or _is_clock(word) or bool(_YEAR.match(word)))


def _read_repeat(words: str, local_now: datetime) -> tuple[str, time | None, date | None] | None:
    lowered = " ".join(words.lower().split()).replace("annually", "yearly")
    event = RecurringEvent(now_date=local_now)
    try:
        event.parse(lowered)
    except Exception:  # noqa: BLE001 - recurrent raises assorted errors on odd input: not a repeat then
        return None
    if not event.is_recurring:
        return None
    params = {k: str(v) for k, v in event.get_params().items()}
    freq = params.get("freq", "").upper()
    if freq not in recurrence.FREQUENCIES:
        return None
    day = None
    if "bymonth" in params:
        # recurrent reads "every 12 March" as BYMONTH=3;INTERVAL=12: yearly from that date.
        tokens = _tokens(words)
        if not any(_is_month(t.word) and _month_here(tokens, j) for j, t in enumerate(tokens)):
            return None
        value = _parse(re.sub(r"^(every|each)\s+(year\s+)?(on\s+)?", "", lowered), local_now)
        if value is None:
            return None
        day, params = value.date(), {"freq": "yearly"}
    clock = _clock_of(lowered)
    if clock is None and "byhour" in params:
        clock = time(int(params["byhour"]) % 24, int(params.get("byminute") or 0) % 60)
    extra = set(params) - set(RULE_PARTS) - {"byhour", "byminute"}
    if extra:
        return None
    parts = [f"{name.upper()}={params[name].upper()}" for name in RULE_PARTS
             if name in params and not (name == "interval" and params[name] == "1")]
    try:
        rule = recurrence.normalize_rule(";".join(parts))
    except recurrence.InvalidRule:
        return None
    return rule, clock, day


def _first_occurrence(rule: str, found: _Date | None, clock: time | None, rule_day: date | None,
                      local_now: datetime) -> datetime | None:
    """The series' first due time (naive local): the first occurrence from the date given, or
    from now (today, for a repeat without a time)."""
    if found is not None and found.relative is None:
        clock = found.clock or clock
    start_day = rule_day or (found.day if found is not None and found.day else local_now.date())
    start = datetime.combine(start_day, clock or time(0, 0))
    if found is not None and found.relative is not None:
        start = found.relative.replace(second=0, microsecond=0)
    elif start_day == local_now.date() and clock is not None and start <= local_now:
        start += timedelta(days=1)  # today's time has passed: the series starts tomorrow
    parts = recurrence.parse_rule(rule)
    if "UNTIL" in parts and "T" not in parts["UNTIL"]:
        parts["UNTIL"] = parts["UNTIL"] + "T235959"
    series = rrulestr(recurrence.format_rule(parts), dtstart=start, ignoretz=True)
    return series.after(start, inc=True)


def describe_rule(rule: str | None) -> str:
    """A rule in words, for the preview and messages: "every weekday", "every 2 weeks on Mon"."""
    if not rule:
        return ""
    try:
        parts = recurrence.parse_rule(rule)
    except recurrence.InvalidRule:
        return rule
    freq, interval = parts["FREQ"], int(parts.get("INTERVAL", "1"))
    unit = {"DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}[freq]
    days = parts.get("BYDAY", "")
    if freq == "WEEKLY" and interval == 1 and days == "MO,TU,WE,TH,FR":
        text = "every weekday"
    elif freq == "WEEKLY" and interval == 1 and days in ("SA,SU", "SU,SA"):
        text = "every weekend"
    else:
        text = f"every {interval} {unit}s" if interval > 1 else f"every {unit}"
        names = {"MO": "Mon", "TU": "Tue", "WE": "Wed", "TH": "Thu", "FR": "Fri", "SA": "Sat", "SU": "Sun"}
        if days:
            described = []
            for day in days.split(","):
                number, name = day[:-2], names[day[-2:]]
                described.append(f"{_ordinal(int(number))} {name}" if number else name)
            if freq == "WEEKLY" and interval == 1 and not any(d[:-2] for d in days.split(",")):
                text = "every " + ", ".join(described)
            else:
                text += " on " + ", ".join(described)
        if "BYMONTHDAY" in parts:
            text += " on the " + ", ".join(_ordinal(int(d)) for d in parts["BYMONTHDAY"].split(","))
    if "COUNT" in parts:
        text += f", {parts['COUNT']} times"
    if "UNTIL" in parts:
        until = datetime.strptime(parts["UNTIL"][:8], "%Y%m%d")
        text += f" until {until:%-d %b %Y}"
    return text


def _ordinal(number: int) -> str:
    if number < 0:
        return "last" if number == -1 else f"{_ordinal(-number)} from last"
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"
