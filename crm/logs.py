"""Logging for the processes Followup runs as (the server, the CLI, gunicorn, the worker).

Configured once by the entry points (app.py, `python -m crm`), never by create_app(): an app
made in a test or embedded elsewhere leaves the host's logging alone."""

from __future__ import annotations

import logging
import os


def configure_logging() -> None:
    if logging.getLogger().handlers:  # the host (gunicorn, pytest) already set logging up
        return
    import crm.request_ids  # noqa: F401 - gives every record its request_id before one is formatted
    logging.basicConfig(level=os.environ.get("CRM_LOG_LEVEL", "INFO").upper(),
                        format="%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
