"""The record picker (SPEC §14): the options endpoint, and picking without JavaScript."""

from __future__ import annotations

import re

import pytest

from tests.web.test_tasks_pages import row_ids

OPTION = re.compile(r'<li role="option" class="picker-option"[^>]*data-id="([^"]+)"')


def options(text: str) -> list[str]:
    return OPTION.findall(text)


def test_options_show_each_contacts_company_and_email(web, other_web):
    engines = web.company("Analytical Engines")
    ada_engines = web.contact("Ada", "Lovelace", company_id=engines, email="ada@engines.test")
    ada_alone = web.contact("Ada", "Lovelace", email="ada@home.test")
    web.contact("Grace", "Hopper")
    other_web.contact("Ada", "Lovelace")
    text = web.text(web.get("/contacts/picker?q=ada love", htmx=True))
    assert sorted(options(text)) == sorted([ada_engines, ada_alone])
    assert "Analytical Engines · ada@engines.test" in text and "ada@home.test" in text
    assert "<html" not in text and 'aria-selected="false"' in text


def test_options_match_every_word_accents_and_email(web):
    hans = web.contact("Hans", "Müller")
    web.contact("Hans", "Zimmer")
    assert options(web.text(web.get("/contacts/picker?q=muller hans"))) == [hans]
    grace = web.contact("Grace", "Hopper", email="Grace@Navy.test")
    assert options(web.text(web.get("/contacts/picker?q=grace@navy"))) == [grace]


def test_an_exact_name_comes_first_and_at_most_ten_are_offered(web):
    for i in range(12):
        web.contact("Ada", f"Lovelace{i:02d}")
    exact = web.contact("Ada", "Lovelace")
    found = options(web.text(web.get("/contacts/picker?q=ada lovelace")))
    assert len(found) == 10 and found[0] == exact


def test_no_match_and_blank_query(web):
    web.contact("Ada", "Lovelace")
    text = web.text(web.get("/contacts/picker?q=zzz"))
    assert options(text) == [] and "No contact matches “zzz”" in text and 'aria-disabled="true"' in text
    assert web.text(web.get("/contacts/picker?q=")).strip() == ""


def test_company_and_deal_options(web):
    initech = web.company("Initech")
    web.company("Globex")
    deal = web.deal("Initech renewal", company_id=initech, stage="proposal")
    companies = web.text(web.get("/companies/picker?q=init"))
    assert options(companies) == [initech]
    deals = web.text(web.get("/deals/picker?q=renewal"))
    assert options(deals) == [deal] and "Initech · proposal" in deals


def test_the_options_take_a_fixed_number_of_statements(web, count_queries):
    engines = web.company("Analytical Engines")
    web.contact("Ada", "Lovelace", company_id=engines)
    web.get("/contacts/picker?q=ada")  # warm the session
    with count_queries() as few:
        web.get("/contacts/picker?q=ada")
    for i in range(9):
        web.contact("Ada", f"Clone{i}", company_id=web.company(f"Company {i}"))
    with count_queries() as many:
        assert len(options(web.text(web.get("/contacts/picker?q=ada")))) == 10
    assert len(many) == len(few)


def test_a_nameless_contact_is_offered_and_kept_by_its_email(web):
    nameless = web.contact(None, None, email="info@initech.test")
    text = web.text(web.get("/contacts/picker?q=initech"))
    assert options(text) == [nameless] and 'data-name="info@initech.test"' in text
    response = web.post("/tasks", {"title": "Write", "contact_query": "info@initech.test", "contact_id": nameless})
    assert response.status_code == 303
    assert web.load_task(row_ids(web.text(web.get("/tasks")))[0]).contact_id == nameless


def test_picker_needs_sign_in(client):
    response = client.get("/contacts/picker?q=a")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


class TestWithoutJavaScript:
    """The form posts the typed name; an ambiguous one comes back with candidates to choose from."""

    @pytest.fixture
    def two_adas(self, web):
        engines = web.company("Analytical Engines")
        return (web.contact("Ada", "Lovelace", company_id=engines, email="ada@engines.test"),
                web.contact("Ada", "Lovelace", email="ada@home.test"))

    def test_ambiguous_name_on_a_new_task_offers_the_candidates_then_saves_the_pick(self, web, two_adas):
        engines_ada, home_ada = two_adas
        response = web.post("/tasks", {"title": "Call Ada", "description": "About the engine",
                                       "contact_query": "Ada Lovelace", "contact_id": ""})
        assert response.status_code == 422
        text = web.text(response)
        radios = re.findall(r'type="radio" name="contact_pick" value="([^"]+)"', text)
        assert sorted(radios) == sorted(two_adas)
        assert "Analytical Engines · ada@engines.test" in text and "ada@home.test" in text
        assert "matches several contacts" in text
        assert 'value="Call Ada"' in text and "About the engine" in text  # the rest is kept
        assert row_ids(web.text(web.get("/tasks?view=all"))) == []  # nothing saved yet

        response = web.post("/tasks", {"title": "Call Ada", "contact_query": "Ada Lovelace", "contact_id": "",
                                       "contact_pick": home_ada})
        assert response.status_code == 303
        task_id = row_ids(web.text(web.get("/tasks?view=all")))[0]
        assert web.load_task(task_id).contact_id == home_ada

    def test_ambiguous_name_with_htmx_is_a_422_form_with_candidates(self, web, two_adas):
        response = web.post("/tasks", {"title": "Call Ada", "contact_query": "ada"}, htmx=True)
        assert response.status_code == 422 and response.headers["HX-Retarget"] == "#quick-add"
        assert len(re.findall(r'name="contact_pick"', web.text(response))) == 2

    def test_a_name_that_matches_nothing_is_a_clear_error(self, web):
        response = web.post("/tasks", {"title": "Call Nobody", "contact_query": "Nobody"})
        assert response.status_code == 422
        assert "No contact matches &#34;Nobody&#34;." in web.text(response) or \
            'No contact matches "Nobody".' in web.text(response)

    def test_a_pick_from_another_workspace_is_refused(self, web, other_web):
        theirs = other_web.contact("Ada", "Lovelace")
        response = web.post("/tasks", {"title": "Sneaky", "contact_query": "Ada Lovelace", "contact_pick": theirs})
        assert response.status_code == 422 and "No contact with id" in web.text(response)

    def test_log_form_and_activity_edit(self, web, two_adas):
        engines_ada, home_ada = two_adas
        response = web.post("/activities", {"type": "call", "subject": "Hello", "contact_query": "ada lovelace"})
        assert response.status_code == 422 and len(re.findall(r'name="contact_pick"', web.text(response))) == 2
        assert 'value="Hello"' in web.text(response)
        response = web.post("/activities", {"type": "call", "subject": "Hello", "contact_query": "ada lovelace",
                                            "contact_pick": engines_ada, "next": "/activities"})
        assert response.status_code == 303
        activity_id = re.search(r'id="activity-(act_[^"]+)"', web.text(web.get("/activities"))).group(1)
        assert web.load_activity(activity_id).contact_id == engines_ada

        edit = web.post(f"/activities/{activity_id}/edit", {"contact_query": "Ada Lovelace", "contact_id": engines_ada,
                                                            "company_query": "engines", "company_id": ""})
        assert edit.status_code == 303
        saved = web.load_activity(activity_id)
        assert saved.contact_id == engines_ada and saved.company_id is not None

    def test_task_edit_page_links_company_and_deal_by_name(self, web):
        initech = web.company("Initech")
        deal = web.deal("Initech renewal")
        task_id = web.task("Renewal call")
        response = web.post(f"/tasks/{task_id}/edit", {"title": "Renewal call", "company_query": "initech",
                                                      "deal_query": "renewal", "contact_query": ""})
        assert response.status_code == 303
        task = web.load_task(task_id)
        assert (task.company_id, task.deal_id, task.contact_id) == (initech, deal, None)

    def test_activity_filter_offers_the_candidates_as_links(self, web, two_adas):
        engines_ada, home_ada = two_adas
        web.activity(subject="With the engines Ada", contact_id=engines_ada)
        web.activity(subject="With the other Ada", contact_id=home_ada)
        text = web.text(web.get("/activities?contact_query=ada"))
        assert "matches several contacts" in text and "With the" not in text
        links = re.findall(r'href="(/activities\?[^"]*contact_id=[^"]+)"', text)
        assert len(links) == 2 and "Analytical Engines · ada@engines.test" in text
        chosen = next(link for link in links if engines_ada in link).replace("&amp;", "&")
        page = web.text(web.get(chosen))
        assert "With the engines Ada" in page and "With the other Ada" not in page


class TestNoStickyContact:
    def test_logging_two_activities_in_a_row_the_second_has_no_contact(self, web):
        ada = web.contact("Ada", "Lovelace")
        first = web.post("/activities", {"type": "call", "subject": "First", "contact_query": "Ada Lovelace",
                                         "contact_id": ada, "target": "#just-logged-list"}, htmx=True)
        assert first.status_code == 200
        fresh_form = web.text(first).split('id="log-activity"')[1]
        assert ada not in fresh_form  # the fresh log form does not carry the contact
        assert 'name="contact_query" value=""' in fresh_form
        # What a browser posts from that fresh form:
        fields = dict(re.findall(r'<input type="hidden"[^>]*name="([^"]+)" value="([^"]*)"', fresh_form))
        fields.pop("csrf_token", None)
        second = web.post("/activities", {**fields, "type": "note", "subject": "Second", "contact_query": ""},
                          htmx=True)
        assert second.status_code == 200
        ids = re.findall(r'id="activity-(act_[^"]+)"', web.text(web.get("/activities")))
        subjects = {web.load_activity(i).subject: web.load_activity(i).contact_id for i in ids}
        assert subjects == {"First": ada, "Second": None}

    def test_quick_add_after_a_picked_contact_is_fresh(self, web):
        ada = web.contact("Ada", "Lovelace")
        response = web.post("/tasks", {"title": "One", "contact_query": "Ada Lovelace", "contact_id": ada,
                                       "target": "#task-list"}, htmx=True)
        assert response.status_code == 200
        fresh = web.text(response).split('id="quick-add"')[1]
        assert ada not in fresh

    def test_a_record_pages_log_form_keeps_its_record(self, web):
        ada = web.contact("Ada", "Lovelace")
        response = web.post("/activities", {"type": "call", "subject": "On the page", "contact_id": ada,
                                            "target": "#record-timeline"}, htmx=True)
        fresh = web.text(response).split('id="log-activity"')[1]
        assert f'name="contact_id" value="{ada}"' in fresh
