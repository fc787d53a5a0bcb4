"""The Today page (`/`, the home page): counts, today's agenda, overdue and undated tasks, charts."""

from __future__ import annotations

from datetime import timedelta

from flask import url_for
from flask_login import current_user

from crm.services import today
from crm.web import bp
from crm.web.charts import bar_chart
from crm.web.rendering import render


def _count_links(day: today.Day) -> dict[str, str]:
    """Each count links to the task list view that shows exactly the tasks it counts."""
    yesterday = day.today - timedelta(days=1)
    return {
        "overdue": url_for("web.task_list", view="overdue", due_to=yesterday.isoformat()),
        "today": url_for("web.task_list", view="today"),
        "week": url_for("web.task_list", view="my", due_from=day.week_start.isoformat(),
                        due_to=day.week_end.isoformat()),
        "done_week": url_for("web.task_list", view="done", done_from=day.week_start.isoformat(),
                             done_to=day.week_end.isoformat()),
    }


def _charts(overview: today.Overview) -> list[dict]:
    weeks = [monday.strftime("%-d %b") for monday in overview.weeks]
    bucket_labels = [today.BUCKET_LABELS[name] for name in today.BUCKETS]
    activity_series = [(kind.replace("_", " ").capitalize(), counts)
                       for kind, counts in overview.activities_per_week.items()]
    charts = [
        {"id": "chart-completed", "caption": f"Tasks completed per week, last {today.WEEKS} weeks",
         "row_head": "Week of", "labels": weeks, "series": [("Completed", overview.completed_per_week)],
         "stacked": False},
        {"id": "chart-activities", "caption": f"Activities logged per week by type, last {today.WEEKS} weeks",
         "row_head": "Week of", "labels": weeks, "series": activity_series, "stacked": True},
        {"id": "chart-buckets", "caption": "Open tasks by due date", "row_head": "Due",
         "labels": bucket_labels, "series": [("Open tasks", [overview.buckets[n] for n in today.BUCKETS])],
         "stacked": False, "horizontal": True},
    ]
    for chart in charts:
        if chart["series"]:
            chart["svg"] = bar_chart(chart["id"], chart["labels"], chart["series"], stacked=chart["stacked"],
                                     horizontal=chart.get("horizontal", False))
    return charts


@bp.get("/")
def today_page():
    overview = today.overview(current_user)
    return render("today/index.html", overview=overview, links=_count_links(overview.day),
                  charts=_charts(overview), list_limit=today.LIST_LIMIT)


@bp.get("/today/counts")
def today_counts():
    """The counts alone, for the Today page to refresh after a change."""
    day, counts = today.counts(current_user)
    return render("today/_counts.html", counts=counts, links=_count_links(day))
