"""Templates build URLs through a cache (crm.web.rendering.fast_url_for): it must give exactly what
Flask's url_for gives, for every web endpoint."""

from __future__ import annotations

import pytest
from flask import url_for

from crm.web.rendering import fast_url_for


@pytest.mark.parametrize("value", ["task_01JD3K0000000000000000000", "x", "a-b_c"])
def test_the_cached_url_of_every_endpoint_is_flasks(app, value):
    with app.test_request_context("/tasks", base_url="http://example.test/prefix"):
        checked = 0
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("web.") or not rule.arguments:
                continue
            values = {name: value for name in rule.arguments}
            assert fast_url_for(rule.endpoint, **values) == url_for(rule.endpoint, **values)
            assert fast_url_for(rule.endpoint, **values) == url_for(rule.endpoint, **values)  # cached
            checked += 1
        assert checked > 10


def test_values_a_path_would_quote_and_query_arguments_go_to_url_for(app):
    with app.test_request_context("/tasks"):
        assert fast_url_for("web.task_detail", task_id="a b/c") == url_for("web.task_detail", task_id="a b/c")
        assert fast_url_for("web.edit_task", task_id="t1", next="/tasks?view=today") == \
            url_for("web.edit_task", task_id="t1", next="/tasks?view=today")
        assert fast_url_for("web.task_list") == url_for("web.task_list")
