"""Entry point: `flask run` finds `app`; `python app.py` serves on http://127.0.0.1:5000 with an
embedded job-queue worker (CRM_EMBEDDED_WORKER=false to run `flask crm worker` separately)."""

import sys

from crm import create_app

app = create_app()

if __name__ == "__main__":
    if "--demo" in sys.argv:
        from crm.services.demo import bootstrap_demo

        with app.app_context():
            bootstrap_demo(print_to=sys.stdout)
    if app.config["CRM_EMBEDDED_WORKER"] and not app.config["CRM_QUEUE_IMMEDIATE"]:
        from crm.queue import start_embedded_worker

        start_embedded_worker(app)
    app.run(host="127.0.0.1", port=5000)
