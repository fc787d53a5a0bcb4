"""Followup: a small, self-hosted CRM for tasks and activities."""

from __future__ import annotations

import os

from flask import Flask, jsonify

from crm.config import check_secret_key, defaults, load_secret_key
from crm.extensions import csrf, db, limiter, login_manager, migrate
from crm.files import private_folder
from crm.limits_memory import storage_uri
from crm.paths import STATIC_DIR, TEMPLATES_DIR


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=os.environ.get("CRM_INSTANCE_PATH") or None,
        template_folder=str(TEMPLATES_DIR),
        static_folder=str(STATIC_DIR),
    )
    private_folder(app.instance_path)
    app.config.from_mapping(defaults(app.instance_path))
    app.config.from_pyfile("config.py", silent=True)
    if test_config:
        app.config.from_mapping(test_config)
    if app.config.get("SECRET_KEY") is None:  # not given in instance/config.py or the test mapping
        app.config["SECRET_KEY"] = load_secret_key(app.instance_path)
    check_secret_key(app.config["SECRET_KEY"])
    app.config["RATELIMIT_STORAGE_URI"] = storage_uri(
        app.config.get("RATELIMIT_STORAGE_URI") or app.config["CRM_RATELIMIT_STORAGE_URL"])
    # The API writes its own rate-limit headers (crm.api.ratelimit_headers), on API answers only.
    app.config["RATELIMIT_HEADERS_ENABLED"] = False

    if app.config["CRM_PROXY_HOPS"]:
        from crm.security import TrustedProxyFix

        app.wsgi_app = TrustedProxyFix.from_config(app.wsgi_app, app.config)

    from crm.database import MIGRATIONS_DIR, configure_engine, upgrade_database

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    configure_engine(app)

    from crm import queue

    queue.init_app(app)

    from crm import api, request_ids, security, web

    request_ids.init_app(app)
    security.init_app(app)
    api.init_app(app)
    web.init_app(app)

    from crm.cli import crm_cli

    app.cli.add_command(crm_cli)

    @app.get("/healthz")
    def healthz():
        from crm.services.outbox import queue_health

        queue_state = queue_health()
        if queue_state is not None:
            return jsonify(status="ok", queue=queue_state)
        return jsonify(status="unavailable"), 503

    if app.config["CRM_AUTO_MIGRATE"]:
        upgrade_database(app)
    return app
