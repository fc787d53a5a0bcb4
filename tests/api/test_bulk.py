"""POST /api/v1/tasks/bulk (SPEC §13): one action on many tasks, all or nothing."""


def make_tasks(api, n, **fields):
    return [api.create("/tasks", {"title": f"t{i}", **fields})["id"] for i in range(n)]


def test_bulk_complete_changes_every_task(api):
    ids = make_tasks(api, 3)
    response = api.post("/tasks/bulk", {"ids": ids, "action": "complete"})
    assert response.status_code == 200
    assert response.get_json() == {"data": {"updated": 3, "ids": ids}}
    assert {t["status"] for t in api.get("/tasks").get_json()["data"]} == {"completed"}
    again = api.post("/tasks/bulk", {"ids": ids, "action": "reopen"}).get_json()["data"]
    assert again["updated"] == 3
    assert {t["status"] for t in api.get("/tasks").get_json()["data"]} == {"pending"}


def test_one_unknown_id_changes_nothing_and_is_named(api, other_api):
    ids = make_tasks(api, 2)
    foreign = other_api.create("/tasks", {"title": "theirs"})["id"]
    missing = "task_01JD3K0000000000000000000X"
    response = api.post("/tasks/bulk", {"ids": [*ids, foreign, missing], "action": "complete"})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["details"]) == {f"ids.{foreign}", f"ids.{missing}"}
    assert {t["status"] for t in api.get("/tasks").get_json()["data"]} == {"pending"}
    assert other_api.get(f"/tasks/{foreign}").get_json()["data"]["status"] == "pending"


def test_an_update_that_fits_one_task_but_not_another_changes_neither(api):
    recurring = api.create("/tasks", {"title": "weekly", "due_at": "2099-01-05T09:00:00Z",
                                      "recurrence": "FREQ=WEEKLY"})["id"]
    plain = api.create("/tasks", {"title": "plain", "due_at": "2099-01-05T09:00:00Z"})["id"]
    response = api.post("/tasks/bulk", {"ids": [plain, recurring], "action": "update", "data": {"due_at": None}})
    assert response.status_code == 400
    assert list(response.get_json()["error"]["details"]) == [f"ids.{recurring}"]
    assert api.get(f"/tasks/{plain}").get_json()["data"]["due_at"] == "2099-01-05T09:00:00Z"


def test_bulk_update_reassigns_and_validates_data_as_patch(api):
    ids = make_tasks(api, 2)
    ada = api.create("/contacts", {"first_name": "Ada"})
    ok = api.post("/tasks/bulk", {"ids": ids, "action": "update",
                                  "data": {"priority": "high", "contact_id": ada["id"]}})
    assert ok.status_code == 200
    for task in api.get("/tasks").get_json()["data"]:
        assert task["priority"] == "high" and task["relationships"]["contact"]["name"] == "Ada"
    for data, field in (({"priority": "huge"}, "data.priority"), ({"id": "x"}, "data.id"), ([], "data")):
        bad = api.post("/tasks/bulk", {"ids": ids, "action": "update", "data": data})
        assert bad.status_code == 400
        assert list(bad.get_json()["error"]["details"]) == [field]
    unknown_link = api.post("/tasks/bulk", {"ids": ids, "action": "update",
                                            "data": {"contact_id": "cont_01JD3K0000000000000000000X"}})
    assert unknown_link.status_code == 400
    assert list(unknown_link.get_json()["error"]["details"]) == ["data.contact_id"]


def test_more_than_500_ids_is_an_error(api):
    ids = [f"task_01JD3K{i:020d}" for i in range(501)]
    response = api.post("/tasks/bulk", {"ids": ids, "action": "delete"})
    assert response.status_code == 400
    assert "ids" in response.get_json()["error"]["details"]
    assert api.post("/tasks/bulk", {"ids": [], "action": "delete"}).status_code == 400
    assert api.post("/tasks/bulk", {"ids": ["x"], "action": "explode"}).status_code == 400


def test_completing_a_recurring_task_through_bulk_makes_its_next_occurrence_once(api):
    series = api.create("/tasks", {"title": "weekly report", "due_at": "2099-01-05T09:00:00Z",
                                   "recurrence": "FREQ=WEEKLY"})["id"]
    assert api.post("/tasks/bulk", {"ids": [series, series], "action": "complete"}).get_json()["data"]["ids"] == [series]
    api.post("/tasks/bulk", {"ids": [series], "action": "reopen"})
    api.post("/tasks/bulk", {"ids": [series], "action": "complete"})
    titles = [t["due_at"] for t in api.get("/tasks?q=weekly").get_json()["data"]]
    assert sorted(titles) == ["2099-01-05T09:00:00Z", "2099-01-12T09:00:00Z"]


def test_bulk_delete_moves_to_the_trash_and_restore_brings_all_back(api):
    ids = make_tasks(api, 3)
    assert api.post("/tasks/bulk", {"ids": ids, "action": "delete"}).get_json()["data"]["updated"] == 3
    assert api.get("/tasks").get_json()["data"] == []
    assert {i["id"] for i in api.get("/trash?kind=task").get_json()["data"]} == set(ids)
    # Deleted ones are missing for every other action; deleting them again changes nothing.
    assert api.post("/tasks/bulk", {"ids": ids, "action": "complete"}).status_code == 400
    assert api.post("/tasks/bulk", {"ids": ids, "action": "delete"}).get_json()["data"] == {"updated": 0, "ids": []}
    assert api.post("/tasks/bulk", {"ids": ids, "action": "restore"}).get_json()["data"]["updated"] == 3
    assert len(api.get("/tasks").get_json()["data"]) == 3


def test_bulk_needs_tasks_write(key_with_scopes, api):
    ids = make_tasks(api, 1)
    response = key_with_scopes("tasks:read").post("/tasks/bulk", {"ids": ids, "action": "complete"})
    assert response.status_code == 403


def test_bulk_checks_take_the_same_statements_for_5_or_50_ids(api, count_queries):
    ada = api.create("/contacts", {"first_name": "Ada"})
    few, many = make_tasks(api, 5), make_tasks(api, 50)
    body = {"action": "update", "data": {"contact_id": ada["id"], "priority": "high"}}
    counts = []
    for ids in (few, many):
        with count_queries() as statements:
            assert api.post("/tasks/bulk", {**body, "ids": ids}).status_code == 200
        # Writes are one UPDATE per changed task; every read before them is made once.
        counts.append(len([s for s in statements if not s.lstrip().upper().startswith(("UPDATE", "INSERT"))]))
    assert counts[0] == counts[1]
    with count_queries() as statements:
        assert api.post("/tasks/bulk", {"ids": many, "action": "delete"}).status_code == 200
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) <= 3
