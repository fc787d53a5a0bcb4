import pytest

from tests.mailbox import smtp_server


@pytest.fixture
def smtp():
    with smtp_server() as (url, box):
        yield url, box


@pytest.fixture
def config_overrides(smtp):
    url, _box = smtp
    return {"CRM_SMTP_URL": url, "CRM_MAIL_FROM": "Followup <crm@acme.test>",
            "CRM_BASE_URL": "https://crm.acme.test"}


@pytest.fixture
def mailbox(smtp):
    return smtp[1]
