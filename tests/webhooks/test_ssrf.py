"""The SSRF guard (SPEC §12): without CRM_WEBHOOK_ALLOW_PRIVATE a URL whose host is, or resolves to,
a loopback, private, link-local or multicast address is refused, at creation and at each delivery;
without CRM_WEBHOOK_ALLOW_HTTP plain http is refused."""

from __future__ import annotations

import pytest

from tests.webhooks.test_deliveries import subscribe


@pytest.fixture
def config_overrides():
    return {"CRM_WEBHOOK_ALLOW_PRIVATE": False, "CRM_WEBHOOK_ALLOW_HTTP": False}


@pytest.mark.parametrize("url, address", [
    ("https://127.0.0.1/hook", "127.0.0.1"),
    ("https://10.0.0.1/hook", "10.0.0.1"),
    ("https://169.254.169.254/latest/meta-data", "169.254.169.254"),
    ("https://localhost:8443/hook", "127.0.0.1"),  # a name that resolves to loopback
    ("https://[::1]/hook", "::1"),
    ("https://224.0.0.1/hook", "224.0.0.1"),
    ("https://192.168.1.20/hook", "192.168.1.20"),
])
def test_private_addresses_are_refused_at_creation(api, url, address):
    response = api.post("/webhooks", {"url": url, "events": ["*"]})
    assert response.status_code == 400, response.get_json()
    [message] = response.get_json()["error"]["details"]["url"]
    assert "CRM_WEBHOOK_ALLOW_PRIVATE" in message and (address in message or "localhost" in url)


def test_plain_http_is_refused_without_the_setting(app, api):
    response = api.post("/webhooks", {"url": "http://8.8.8.8/hook", "events": ["*"]})
    assert response.status_code == 400
    assert "CRM_WEBHOOK_ALLOW_HTTP" in response.get_json()["error"]["details"]["url"][0]


def test_each_delivery_checks_the_address_again(app, api, receiver):
    app.config.update(CRM_WEBHOOK_ALLOW_PRIVATE=True, CRM_WEBHOOK_ALLOW_HTTP=True)
    hook = subscribe(api, receiver.url, ["task.created"])
    app.config["CRM_WEBHOOK_ALLOW_PRIVATE"] = False  # e.g. the host's DNS now points inside
    api.create("/tasks", {"title": "Not to loopback"})
    assert receiver.requests == []
    [delivery] = api.get(f"/webhooks/{hook['id']}/deliveries").get_json()["data"]
    assert delivery["state"] == "pending" and delivery["status_code"] is None
    assert "127.0.0.1" in delivery["error"] and "CRM_WEBHOOK_ALLOW_PRIVATE" in delivery["error"]


def test_a_name_is_resolved_once_and_the_checked_address_is_called(app, api, receiver, monkeypatch):
    """The connection goes to the address that was checked, with the URL's host as Host header:
    a resolver that answers differently the second time (DNS rebinding) is never asked again."""
    import socket

    real = socket.getaddrinfo
    answers = []

    def rebinding(host, port, *args, **kwargs):
        if host == "hooks.rebind.test":
            # First the receiver's address; any later lookup would point at the metadata service.
            answers.append(host)
            address = "127.0.0.1" if len(answers) == 1 else "169.254.169.254"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    app.config.update(CRM_WEBHOOK_ALLOW_PRIVATE=True, CRM_WEBHOOK_ALLOW_HTTP=True)
    port = receiver.url.split(":")[2].split("/")[0]
    hook = subscribe(api, f"http://hooks.rebind.test:{port}/hooks", ["company.created"])
    answers.clear()
    api.create("/companies", {"name": "Pinned"})
    [request] = receiver.requests
    assert answers == ["hooks.rebind.test"]  # one lookup per attempt: the check's
    assert request.headers["Host"] == f"hooks.rebind.test:{port}" and request.path == "/hooks"
    assert request.verified(hook["secret"])["data"]["name"] == "Pinned"
