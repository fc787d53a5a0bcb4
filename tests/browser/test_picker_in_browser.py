"""The record picker and the record forms in a real browser: keyboard, two namesakes told apart,
a first customer made in the browser, two activities logged in a row, and axe-core's verdict."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, Watched, sign_in
from tests.browser.test_tasks_in_browser import menu_action

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture
def two_adas(app, account, seed):
    from crm.services import records

    with app.app_context():
        engines = records.create_company(account["workspace_id"], {"name": "Analytical Engines"}).id
    return {
        "engines": seed.contact("Ada", "Lovelace", company_id=engines, email="ada@engines.test"),
        "home": seed.contact("Ada", "Lovelace", email="ada@home.test"),
    }


def listbox_of(combobox):
    return combobox.page.locator("#" + combobox.get_attribute("aria-controls"))


def test_keyboard_picks_one_of_two_namesakes_told_apart_by_company(page, live_server, seed, two_adas):
    page.goto(f"{live_server}/tasks/new")
    page.get_by_label("Title").fill("Call the engines Ada")
    box = page.get_by_role("combobox", name="Contact")
    expect(box).to_have_attribute("aria-expanded", "false")
    box.press_sequentially("ada lov", delay=20)
    listbox = listbox_of(box)
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(listbox.get_by_role("option")).to_have_count(2)
    expect(listbox.get_by_role("option", name=re.compile("Analytical Engines"))).to_be_visible()
    expect(listbox.get_by_role("option", name=re.compile("ada@home.test"))).to_be_visible()

    box.press("ArrowDown")
    first = listbox.get_by_role("option").first
    expect(first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", first.get_attribute("id"))
    box.press("ArrowDown")
    second = listbox.get_by_role("option").nth(1)
    expect(second).to_have_attribute("aria-selected", "true")
    wanted = second.get_attribute("data-id")
    box.press("Enter")  # picks; does not submit the form
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(listbox).to_be_hidden()
    expect(box).to_have_value("Ada Lovelace")
    assert page.url.endswith("/tasks/new")

    page.get_by_role("button", name="Add").click()
    page.wait_for_url(re.compile(r"/tasks(\?.*)?$"))
    task_id = page.locator("li.task-row").first.get_attribute("id").removeprefix("task-")
    assert seed.get_task(task_id).contact_id == wanted
    assert page.watched.problems == []


def test_escape_closes_the_list_and_keeps_the_inline_edit(page, live_server, seed, two_adas):
    task_id = seed.task("Send the contract")
    page.goto(f"{live_server}/tasks")
    row = page.locator(f"#task-{task_id}")
    menu_action(row, "Edit")
    box = row.get_by_role("combobox", name="Contact")
    box.press_sequentially("ada", delay=20)
    expect(box).to_have_attribute("aria-expanded", "true")
    box.press("Escape")
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(listbox_of(box)).to_be_hidden()
    expect(row.get_by_label("Title")).to_be_visible()  # the edit is still open
    box.press("Escape")  # a second Escape cancels the edit, as before
    expect(row.get_by_label("Title")).to_have_count(0)
    assert page.watched.problems == []


def test_the_inline_edit_hands_a_task_to_a_teammate_picked_by_name(app, page, live_server, seed):
    from tests.conftest import make_account

    _ws, mia, _secret = make_account(app, email="mia@acme.test", name="Mia Member", role="member")
    task_id = seed.task("Send the contract")
    page.goto(f"{live_server}/tasks")
    row = page.locator(f"#task-{task_id}")
    menu_action(row, "Edit")
    box = row.get_by_role("combobox", name="Owner")
    expect(box).to_have_value("Olive Owner")
    box.fill("")
    box.press_sequentially("mia", delay=20)
    listbox = listbox_of(box)
    expect(listbox.get_by_role("option", name=re.compile("mia@acme.test"))).to_be_visible()
    box.press("ArrowDown")
    box.press("Enter")
    expect(box).to_have_value("Mia Member")
    row.get_by_role("button", name="Save").click()
    expect(page.locator(f"#task-{task_id} .owner")).to_have_text("Mia Member")
    assert seed.get_task(task_id).owner_id == mia
    assert page.watched.problems == []


def test_a_click_picks_and_an_ambiguous_typed_name_offers_choices(page, live_server, seed, two_adas):
    page.goto(f"{live_server}/tasks?view=all")
    page.evaluate("window.__marker = 1")
    page.get_by_label("New task").fill("Typed, not picked")
    page.get_by_role("combobox", name="Contact").fill("Ada Lovelace")
    page.get_by_role("combobox", name="Contact").press("Escape")
    page.get_by_role("button", name="Add").click()
    choices = page.locator("#quick-add").get_by_role("group", name="Which contact?")
    expect(choices.get_by_role("radio")).to_have_count(2)
    choices.get_by_role("radio", name=re.compile("Analytical Engines")).check()
    page.get_by_role("button", name="Add").click()
    row = page.locator("#task-list li.task-row", has_text="Typed, not picked")
    expect(row).to_be_visible()
    task_id = row.get_attribute("id").removeprefix("task-")
    assert seed.get_task(task_id).contact_id == two_adas["engines"]
    expect(page.locator("#quick-add").get_by_role("combobox", name="Contact")).to_have_value("")
    assert page.evaluate("window.__marker") == 1

    page.get_by_label("New task").fill("Picked by mouse")
    box = page.get_by_role("combobox", name="Contact")
    box.press_sequentially("home", delay=20)  # matches the email
    listbox_of(box).get_by_role("option", name=re.compile("ada@home.test")).click()
    page.get_by_role("button", name="Add").click()
    row = page.locator("#task-list li.task-row", has_text="Picked by mouse")
    expect(row).to_be_visible()
    assert seed.get_task(row.get_attribute("id").removeprefix("task-")).contact_id == two_adas["home"]
    assert page.watched.problems == []


def test_first_contact_made_in_the_browser_then_a_task_linked_to_it(page, live_server, seed):
    page.goto(f"{live_server}/contacts")
    expect(page.get_by_text("No contacts yet")).to_be_visible()
    page.get_by_role("link", name="New contact").click()
    form = page.locator("#record-form")
    form.get_by_label("First name").fill("Ada")
    form.get_by_label("Last name").fill("Lovelace")
    form.get_by_label("Email").fill("ada@localhost")  # the browser lets it through; the schema does not
    form.get_by_role("button", name="Add contact").click()
    expect(page.locator("#record-form .field-error")).to_contain_text("Not a valid email address.")
    page.locator("#record-form").get_by_label("Email").fill("ada@engines.test")
    page.locator("#record-form").get_by_role("button", name="Add contact").click()
    row = page.locator("#record-list li.record-row", has_text="Ada Lovelace")
    expect(row).to_be_visible()
    expect(page.locator("#record-form")).to_have_count(0)
    expect(page.get_by_text("No contacts yet")).to_be_hidden()
    expect(page.locator("#toast")).to_contain_text("Added “Ada Lovelace”.")

    row.get_by_role("link", name="Ada Lovelace").click()
    page.get_by_role("button", name="Edit").or_(page.get_by_role("link", name="Edit")).first.click()
    head = page.locator("#record-head")
    head.get_by_label("Phone").fill("+44 20 7946 0000")
    head.get_by_role("button", name="Save").click()
    expect(page.locator("#record-head")).to_contain_text("+44 20 7946 0000")

    page.goto(f"{live_server}/tasks/new")
    page.get_by_label("Title").fill("Send Ada the notes")
    box = page.get_by_role("combobox", name="Contact")
    box.press_sequentially("lovel", delay=20)
    expect(listbox_of(box).get_by_role("option")).to_have_count(1)
    box.press("ArrowDown")
    box.press("Enter")
    page.get_by_role("button", name="Add").click()
    page.wait_for_url(re.compile(r"/tasks(\?.*)?$"))
    task_row = page.locator("li.task-row", has_text="Send Ada the notes")
    expect(task_row.get_by_role("link", name="Ada Lovelace")).to_be_visible()
    assert page.watched.problems == []


def test_logging_two_activities_in_a_row_the_second_has_no_contact(page, live_server, seed):
    seed.contact("Grace", "Hopper")
    page.goto(f"{live_server}/activities")
    form = page.locator("#log-activity")
    form.get_by_label("Subject").fill("First, with Grace")
    box = form.get_by_role("combobox", name="Contact")
    box.press_sequentially("hopp", delay=20)
    expect(listbox_of(box).get_by_role("option")).to_have_count(1)
    box.press("ArrowDown")
    box.press("Enter")
    form.get_by_role("button", name="Log activity").click()
    first = page.locator("#just-logged-list li.activity-row", has_text="First, with Grace")
    expect(first.get_by_role("link", name="Grace Hopper")).to_be_visible()

    form = page.locator("#log-activity")
    expect(form.get_by_role("combobox", name="Contact")).to_have_value("")
    form.get_by_label("Subject").fill("Second, with nobody")
    form.get_by_role("button", name="Log activity").click()
    second = page.locator("#just-logged-list li.activity-row", has_text="Second, with nobody")
    expect(second).to_be_visible()
    expect(second.get_by_role("link", name="Grace Hopper")).to_have_count(0)
    activity_id = second.get_attribute("id").removeprefix("activity-")
    assert seed_activity_contact(page, live_server, activity_id) is None
    assert page.watched.problems == []


def seed_activity_contact(page, live_server, activity_id):
    """The activity's linked contact as its page shows it (None when unlinked)."""
    facts = page.context.new_page()
    facts.goto(f"{live_server}/activities/{activity_id}")
    linked = facts.locator("dt", has_text="Linked to").locator("xpath=following-sibling::dd[1]").inner_text()
    facts.close()
    return None if linked.strip() == "—" else linked


def test_activity_filter_picks_a_contact(page, live_server, seed, two_adas):
    seed.activity(type="call", subject="Engines call", contact_id=two_adas["engines"])
    seed.activity(type="call", subject="Home call", contact_id=two_adas["home"])
    page.goto(f"{live_server}/activities")
    box = page.locator("form.filters").get_by_role("combobox", name="Contact")
    box.press_sequentially("engines", delay=20)  # matches the email
    expect(listbox_of(box).get_by_role("option")).to_have_count(1)
    box.press("ArrowDown")
    box.press("Enter")
    expect(page.locator("#activity-results")).not_to_contain_text("Home call")
    expect(page.locator("#activity-results")).to_contain_text("Engines call")
    assert two_adas["engines"] in page.url
    assert page.watched.problems == []


MINE = ["#record-form", "#record-head", "#record-list", ".picker", "#quick-add", ".record-form"]


def run_axe(page, include: list[str] | None = None) -> list[dict]:
    """axe-core's violations on the page, or only inside the elements `include` selects."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    present = [sel for sel in include or [] if page.locator(sel).count()]
    context = json.dumps({"include": [[sel] for sel in present]} if include else None)
    result = page.evaluate(f"async () => JSON.stringify(await axe.run({context} || document))")
    return json.loads(result)["violations"]


def summary(violations) -> list[str]:
    return [f"{v['id']}: {[n['target'] for n in v['nodes']]}" for v in violations]


def test_axe_finds_nothing_wrong_with_the_forms_and_the_picker(browser, live_server, account, seed, two_adas):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = context.new_page()
    watched = Watched(page)
    sign_in(page, live_server, account)
    mine, elsewhere = [], []

    def check(name: str) -> None:
        mine.extend(f"{name}: {line}" for line in summary(run_axe(page, MINE)))
        elsewhere.extend(f"{name}: {line}" for line in summary(run_axe(page)))

    # The contacts list with its inline form open and the picker's list showing.
    page.goto(f"{live_server}/contacts")
    check("contacts list")
    page.get_by_role("link", name="New contact").click()
    box = page.locator("#record-form").get_by_role("combobox", name="Company")
    box.press_sequentially("anal", delay=20)
    expect(page.locator("#record-form").get_by_role("option")).to_have_count(1)
    box.press("ArrowDown")
    check("contacts list, new contact form")
    # A contact page, then its edit form in place.
    page.goto(f"{live_server}/contacts/{two_adas['engines']}")
    check("contact page")
    page.locator("#record-head").get_by_role("link", name="Edit").click()
    expect(page.locator("form#record-head")).to_be_visible()
    check("contact page, editing")
    # The candidates of an ambiguous name (the answer without a pick).
    page.goto(f"{live_server}/tasks/new")
    page.get_by_label("Title").fill("Ambiguous")
    page.get_by_role("combobox", name="Contact").fill("Ada Lovelace")
    page.get_by_role("combobox", name="Contact").press("Escape")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("group", name="Which contact?")).to_be_visible()
    check("new task, ambiguous contact")
    context.close()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "axe-records-pages.txt").write_text("\n".join(elsewhere) + "\n")
    assert mine == []
    assert watched.problems == []


@pytest.mark.parametrize("width", [1280, 390])
def test_the_picker_lays_out_at_desktop_and_phone_width(browser, live_server, account, seed, two_adas, width):
    """No floating radios, no names squeezed into a narrow column, nothing scrolls sideways."""
    suffix = "" if width > 800 else "-phone"
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    watched = Watched(page)
    sign_in(page, live_server, account)
    ARTIFACTS.mkdir(exist_ok=True)

    def no_sideways_scroll(name):
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1, name

    page.goto(f"{live_server}/tasks/new")
    page.get_by_label("Title").fill("Ambiguous")
    page.get_by_role("combobox", name="Contact").fill("Ada Lovelace")
    page.get_by_role("combobox", name="Contact").press("Escape")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("radio")).to_have_count(2)
    page.screenshot(path=str(ARTIFACTS / f"picker-candidates{suffix}.png"), full_page=True)
    for radio in page.get_by_role("radio").all():
        label = radio.locator("xpath=ancestor::label[1]")
        name = label.locator(".picker-name")
        r, n = radio.bounding_box(), name.bounding_box()
        assert r["x"] + r["width"] <= n["x"], "the radio sits left of its name"
        assert n["y"] <= r["y"] + r["height"] / 2 <= n["y"] + n["height"], "the radio is on the name's line"
        assert n["height"] < 30, "the name is on one line, not squeezed"
    no_sideways_scroll("new task, candidates")

    page.goto(f"{live_server}/activities")
    box = page.locator("#log-activity").get_by_role("combobox", name="Contact")
    box.scroll_into_view_if_needed()
    box.press_sequentially("ada", delay=20)
    listbox = listbox_of(box)
    expect(listbox.get_by_role("option")).to_have_count(2)
    lb, bb = listbox.bounding_box(), box.bounding_box()
    assert lb["y"] >= bb["y"] + bb["height"] - 1 and lb["width"] >= bb["width"] - 1, "the list drops below the box"
    assert lb["x"] + lb["width"] <= width, "the list stays on screen"
    for option in listbox.get_by_role("option").all():
        assert option.locator(".picker-name").bounding_box()["height"] < 30
    no_sideways_scroll("activities")
    page.screenshot(path=str(ARTIFACTS / f"picker-open{suffix}.png"))

    page.goto(f"{live_server}/contacts")
    page.get_by_role("link", name="New contact").click()
    expect(page.locator("#record-form")).to_be_visible()
    no_sideways_scroll("contacts, new")
    page.screenshot(path=str(ARTIFACTS / f"contacts-new{suffix}.png"), full_page=True)
    page.goto(f"{live_server}/tasks")
    no_sideways_scroll("tasks")
    context.close()
    assert watched.problems == []
