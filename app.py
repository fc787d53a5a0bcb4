"""Entry point: `flask run` finds `app`; `python app.py` serves on http://127.0.0.1:5000."""

import sys

from crm import create_app

app = create_app()

if __name__ == "__main__":
    if "--demo" in sys.argv:
        from crm.services.demo import bootstrap_demo

        with app.app_context():
            bootstrap_demo(print_to=sys.stdout)
    app.run(host="127.0.0.1", port=5000)
