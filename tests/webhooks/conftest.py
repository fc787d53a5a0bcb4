from datetime import timedelta

import pytest

from crm import clock
from tests.receiver import webhook_receiver


@pytest.fixture
def config_overrides():
    # The receiver is plain http on 127.0.0.1: allowed here, refused by default (test_ssrf.py).
    return {"CRM_WEBHOOK_ALLOW_PRIVATE": True, "CRM_WEBHOOK_ALLOW_HTTP": True}


@pytest.fixture
def receiver():
    with webhook_receiver() as box:
        yield box


@pytest.fixture(autouse=True)
def real_time():
    yield
    clock.set_offset(timedelta(0))
