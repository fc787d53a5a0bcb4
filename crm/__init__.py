"""Followup: a small, self-hosted CRM for tasks and activities."""

from __future__ import annotations

import logging
import os

from flask import Flask, jsonify

from crm.config import defaults, load_secret_key
from crm.extensions import csrf, db, limiter, login_manager, migrate


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=os.environ.get("CRM_INSTANCE_PATH") or None,
        template_folder="../templates",
        static_folder="../static",
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(defaults(app.instance_path))
    app.config.from_pyfile("config.py", silent=True)
    if test_config:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_secret_key(app.instance_path)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["CRM_RATELIMIT_STORAGE_URL"])
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)

    if app.config["CRM_PROXY_HOPS"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["CRM_PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops)

    from crm.database import MIGRATIONS_DIR, configure_engine, upgrade_database

    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    configure_engine(app)

    from crm import queue

    queue.init_app(app)

    from crm import api, security, web

    security.init_app(app)
    api.init_app(app)
    web.init_app(app)

    from crm.cli import crm_cli

    app.cli.add_command(crm_cli)

    @app.get("/healthz")
    def healthz():
        from crm.database import queue_health

        queue_state = queue_health()
        if queue_state is not None:
            return jsonify(status="ok", queue=queue_state)
        return jsonify(status="unavailable"), 503

    if app.config["CRM_AUTO_MIGRATE"]:
        upgrade_database(app)
    return app
