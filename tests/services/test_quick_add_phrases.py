"""What quick add reads in a phrase: the title left, the due time in the user's zone, the repeat.

Each case gives the moment it is typed (UTC) and the user's zone; the expected due time is the
wall-clock time in that zone. 4 December 2026 is a Friday.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm.services.quick_add import describe_rule, parse_quick_add

FRI_MORNING = datetime(2026, 12, 4, 10, 0)  # 11:00 in Berlin, 23:00 in Auckland, 02:00 in Los Angeles
BERLIN = "Europe/Berlin"

# phrase, now (UTC), zone, title, due (local wall clock) or None, RRULE or None
PHRASES = [
    # the examples
    ("Call Ada tomorrow 3pm", FRI_MORNING, BERLIN, "Call Ada", "2026-12-05 15:00", None),
    ("Send deck fri", FRI_MORNING, BERLIN, "Send deck", "2026-12-11 00:00", None),
    ("Renewal call 12 March 10:30", FRI_MORNING, BERLIN, "Renewal call", "2027-03-12 10:30", None),
    ("Standup every weekday 9am", FRI_MORNING, BERLIN, "Standup", "2026-12-07 09:00",
     "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
    # more dates
    ("Send deck by fri", FRI_MORNING, BERLIN, "Send deck", "2026-12-11 00:00", None),
    ("Meet on Friday, 3pm", FRI_MORNING, BERLIN, "Meet", "2026-12-11 15:00", None),
    ("Lunch next tuesday at noon", FRI_MORNING, BERLIN, "Lunch", "2026-12-08 12:00", None),
    ("Call Ada at 3pm", FRI_MORNING, BERLIN, "Call Ada", "2026-12-04 15:00", None),
    ("Call Ada at 9am", FRI_MORNING, BERLIN, "Call Ada", "2026-12-05 09:00", None),  # 09:00 has passed
    ("Call Ada tomorrow at 9", FRI_MORNING, BERLIN, "Call Ada", "2026-12-05 09:00", None),
    ("Call Ada tomorrow at 3", FRI_MORNING, BERLIN, "Call Ada", "2026-12-05 15:00", None),
    ("Prep 12th of March", FRI_MORNING, BERLIN, "Prep", "2027-03-12 00:00", None),
    ("Pay the invoice 2026-12-20", FRI_MORNING, BERLIN, "Pay the invoice", "2026-12-20 00:00", None),
    ("Call Bob in 2 hours", FRI_MORNING, BERLIN, "Call Bob", "2026-12-04 13:00", None),
    ("Follow up in 3 days", FRI_MORNING, BERLIN, "Follow up", "2026-12-07 00:00", None),
    ("Report next week", FRI_MORNING, BERLIN, "Report", "2026-12-07 00:00", None),
    ("Invoice next month", FRI_MORNING, BERLIN, "Invoice", "2027-01-01 00:00", None),
    ("Call day after tomorrow", FRI_MORNING, BERLIN, "Call", "2026-12-06 00:00", None),
    ("Dinner tonight 9pm", FRI_MORNING, BERLIN, "Dinner", "2026-12-04 21:00", None),
    ("Call 555-0100 tomorrow", FRI_MORNING, BERLIN, "Call 555-0100", "2026-12-05 00:00", None),
    ("Call May 3 about the deal", FRI_MORNING, BERLIN, "Call about the deal", "2027-05-03 00:00", None),
    ("Ring Mar tomorrow", FRI_MORNING, BERLIN, "Ring Mar", "2026-12-05 00:00", None),
    # repeats
    ("Standup 9am every weekday", FRI_MORNING, BERLIN, "Standup", "2026-12-07 09:00",
     "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
    ("Water the plants daily", FRI_MORNING, BERLIN, "Water the plants", "2026-12-04 00:00", "FREQ=DAILY"),
    ("Team sync every monday", FRI_MORNING, BERLIN, "Team sync", "2026-12-07 00:00", "FREQ=WEEKLY;BYDAY=MO"),
    ("Pay rent every month on the 1st", FRI_MORNING, BERLIN, "Pay rent", "2027-01-01 00:00",
     "FREQ=MONTHLY;BYMONTHDAY=1"),
    ("1:1 every 2 weeks on monday 10:00", FRI_MORNING, BERLIN, "1:1", "2026-12-14 10:00",
     "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO"),
    ("Birthday card every 12 March", FRI_MORNING, BERLIN, "Birthday card", "2027-03-12 00:00", "FREQ=YEARLY"),
    ("Call Ada tomorrow 3pm every week", FRI_MORNING, BERLIN, "Call Ada", "2026-12-05 15:00", "FREQ=WEEKLY"),
    ("Gym every tuesday and thursday at 7am", FRI_MORNING, BERLIN, "Gym", "2026-12-08 07:00",
     "FREQ=WEEKLY;BYDAY=TU,TH"),
    ("Report every monday until march", FRI_MORNING, BERLIN, "Report", "2026-12-07 00:00",
     "FREQ=WEEKLY;BYDAY=MO;UNTIL=20270301"),
    ("Board call every first monday of the month", FRI_MORNING, BERLIN, "Board call", "2026-12-07 00:00",
     "FREQ=MONTHLY;BYDAY=1MO"),
    ("Backup every 3 days 8am", FRI_MORNING, BERLIN, "Backup", "2026-12-05 08:00",
     "FREQ=DAILY;INTERVAL=3"),  # today's 08:00 has passed: from tomorrow
    ("Check in tomorrow", FRI_MORNING, BERLIN, "Check in", "2026-12-05 00:00", None),
    # must not parse: names, numbers, verbs, words that only look like dates
    ("Call May about the deal", FRI_MORNING, BERLIN, "Call May about the deal", None, None),
    ("Email April", FRI_MORNING, BERLIN, "Email April", None, None),
    ("Meet Sunday Adams", FRI_MORNING, BERLIN, "Meet Sunday Adams", None, None),
    ("We may call back", FRI_MORNING, BERLIN, "We may call back", None, None),
    ("Send 3 quotes", FRI_MORNING, BERLIN, "Send 3 quotes", None, None),
    ("Q4 review", FRI_MORNING, BERLIN, "Q4 review", None, None),
    ("Call 555-0100", FRI_MORNING, BERLIN, "Call 555-0100", None, None),
    ("Plan 2027 budget", FRI_MORNING, BERLIN, "Plan 2027 budget", None, None),
    ("Fix issue #12", FRI_MORNING, BERLIN, "Fix issue #12", None, None),
    ("Do it now", FRI_MORNING, BERLIN, "Do it now", None, None),
    ("Review the second draft", FRI_MORNING, BERLIN, "Review the second draft", None, None),
    ("Buy sun cream", FRI_MORNING, BERLIN, "Buy sun cream", None, None),
    ("Sat with Bob about pricing", FRI_MORNING, BERLIN, "Sat with Bob about pricing", None, None),
    ("Send weekly report", FRI_MORNING, BERLIN, "Send weekly report", None, None),
    ("Review every contract", FRI_MORNING, BERLIN, "Review every contract", None, None),
    ("Call Bob about last friday", FRI_MORNING, BERLIN, "Call Bob about last friday", None, None),
    ("Meet at 5 Main Street", FRI_MORNING, BERLIN, "Meet at 5 Main Street", None, None),
    ("Send 12/3 report", FRI_MORNING, BERLIN, "Send 12/3 report", None, None),
    ("tomorrow 3pm", FRI_MORNING, BERLIN, "tomorrow 3pm", None, None),  # nothing would be left
    # far time zones: "tomorrow" and "today" are the user's
    ("Call Ada tomorrow 3pm", FRI_MORNING, "Pacific/Auckland", "Call Ada", "2026-12-05 15:00", None),
    ("Call Ada tomorrow 3pm", datetime(2026, 12, 4, 11, 30), "Pacific/Kiritimati", "Call Ada",
     "2026-12-06 15:00", None),  # already Saturday 01:30 there
    ("Send deck fri", FRI_MORNING, "America/Los_Angeles", "Send deck", "2026-12-11 00:00", None),
    ("Standup every weekday 9am", FRI_MORNING, "America/Los_Angeles", "Standup", "2026-12-04 09:00",
     "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),  # 02:00 there: today's 09:00 is still ahead
    # across the spring change in Berlin (28 March 2027): 09:00 stays 09:00
    ("Standup every weekday 9am", datetime(2027, 3, 26, 12, 0), BERLIN, "Standup", "2027-03-29 09:00",
     "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
]


def local(value: datetime | None, zone: str) -> str | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC).astimezone(zoneinfo.ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize(("phrase", "now", "zone", "title", "due", "rule"), PHRASES,
                         ids=[f"{p[0]} ({p[2]})" for p in PHRASES])
def test_phrase(phrase, now, zone, title, due, rule):
    parsed = parse_quick_add(phrase, now, zoneinfo.ZoneInfo(zone))
    assert (parsed.title, local(parsed.due_at, zone), parsed.recurrence) == (title, due, rule)
    if due is None and rule is None:
        assert parsed.matched == ()
    else:
        removed = "".join(phrase[start:end] for start, end in parsed.matched)
        assert removed and removed not in parsed.title


def test_due_time_is_stored_in_utc():
    parsed = parse_quick_add("Call Ada tomorrow 3pm", FRI_MORNING, zoneinfo.ZoneInfo("Pacific/Auckland"))
    assert parsed.due_at == datetime(2026, 12, 5, 2, 0)  # 15:00 NZDT is 02:00 UTC


def test_the_spans_are_the_words_read_as_date_and_repeat():
    phrase = "Standup 9am every weekday"
    parsed = parse_quick_add(phrase, FRI_MORNING, zoneinfo.ZoneInfo(BERLIN))
    assert [phrase[s:e] for s, e in parsed.matched] == ["9am", "every weekday"]
    phrase = "Send deck by fri"
    parsed = parse_quick_add(phrase, FRI_MORNING, zoneinfo.ZoneInfo(BERLIN))
    assert [phrase[s:e] for s, e in parsed.matched] == ["by fri"]


def test_repeats_only_keeps_the_date_words():
    parsed = parse_quick_add("Call Ada tomorrow every week", FRI_MORNING, zoneinfo.ZoneInfo(BERLIN), dates=False)
    assert (parsed.title, parsed.recurrence) == ("Call Ada tomorrow", "FREQ=WEEKLY")


@pytest.mark.parametrize(("rule", "words"), [
    ("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "every weekday"),
    ("FREQ=DAILY", "every day"),
    ("FREQ=DAILY;INTERVAL=2", "every 2 days"),
    ("FREQ=WEEKLY;BYDAY=MO,FR", "every Mon, Fri"),
    ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO", "every 2 weeks on Mon"),
    ("FREQ=MONTHLY;BYMONTHDAY=1", "every month on the 1st"),
    ("FREQ=MONTHLY;BYDAY=-1FR", "every month on last Fri"),
    ("FREQ=YEARLY;COUNT=3", "every year, 3 times"),
    ("FREQ=WEEKLY;BYDAY=MO;UNTIL=20270301", "every Mon until 1 Mar 2027"),
])
def test_rules_are_described_in_words(rule, words):
    assert describe_rule(rule) == words


@pytest.mark.parametrize("phrase", ["Call Ada 31 December 9999 23:00", "Pay 9999-12-31", "Plan in 999 years"])
def test_dates_out_of_the_years_tasks_take_are_not_read(phrase):
    parsed = parse_quick_add(phrase, FRI_MORNING, zoneinfo.ZoneInfo("America/Los_Angeles"))
    assert (parsed.title, parsed.due_at) == (phrase, None)


WORDS = ["Call", "Ada", "May", "tomorrow", "3pm", "fri", "every", "weekday", "9am", "12", "March", "at", "in",
         "2", "hours", "next", "week", "on", "the", "1st", "month", "until", "555-0100", "sun", "daily", ",",
         "2026-12-20", "noon", "last", "of", "and", "mon", "ago", "9999", "13:61", "0am"]


@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=8), st.sampled_from(
    ["UTC", "Europe/Berlin", "Pacific/Kiritimati", "America/Los_Angeles", "Asia/Kathmandu"]))
@settings(max_examples=150, deadline=None)
def test_any_mix_of_date_words_reads_safely(words, zone):
    phrase = " ".join(words)
    parsed = parse_quick_add(phrase, FRI_MORNING, zoneinfo.ZoneInfo(zone))
    assert parsed.title
    if parsed.matched:
        assert parsed.due_at is not None and FRI_MORNING - timedelta(days=1) <= parsed.due_at
        assert parsed.due_at <= FRI_MORNING + timedelta(days=366 * 101)
    else:
        assert (parsed.title, parsed.due_at, parsed.recurrence) == (" ".join(phrase.split()), None, None)
