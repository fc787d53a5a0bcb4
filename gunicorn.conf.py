"""Production serving: `gunicorn app:app` picks this file up from the working directory.

Every value can be overridden with the environment variables named below, or on the command line.
"""

import os

bind = os.environ.get("CRM_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threaded workers (gthread, crm/serving.py): a connection waiting for its client costs a socket in
# the poller, not a worker, and a client that goes quiet mid-request is dropped after
# CRM_CLIENT_TIMEOUT seconds (default 10), so a few slow clients cannot stall the server.
worker_class = "crm.serving.ThreadWorker"
threads = int(os.environ.get("CRM_THREADS", "8"))
worker_connections = int(os.environ.get("CRM_WORKER_CONNECTIONS", "200"))
timeout = int(os.environ.get("CRM_WORKER_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, so a slow leak can never grow without bound.
max_requests = 5000
max_requests_jitter = 500
# Load the app (and run migrations) once in the master, before the workers fork.
preload_app = True
# Which proxies gunicorn trusts for X-Forwarded-Proto; set it to the same addresses as the app's
# CRM_TRUSTED_PROXIES (with CRM_PROXY_HOPS).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("CRM_ACCESS_LOG", "-") or None  # empty: no access log
errorlog = "-"


def on_starting(server):
    storage = os.environ.get("CRM_RATELIMIT_STORAGE_URL", "memory://")
    if server.cfg.workers > 1 and storage.startswith("memory"):
        server.log.warning(
            "CRM_RATELIMIT_STORAGE_URL is memory:// with %d workers: each worker counts requests on its "
            "own, so a key may make up to %d times its limit. Set it to a redis:// URL to share counts.",
            server.cfg.workers, server.cfg.workers,
        )


def when_ready(server):
    # Before the workers fork: quick add's date parsing loads its language data once, here.
    from crm.services.quick_add import warm_up

    warm_up()
