"""Serve Followup with the development server: `python -m crm`, the `followup` command of an
installed wheel, and `python app.py` in a checkout all come here."""

from __future__ import annotations

import argparse
import os
import sys

from flask import Flask


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="followup", description="Serve Followup with the development server.")
    parser.add_argument("--demo", action="store_true",
                        help="on first start, create a demo workspace, print a sign-in and an API key")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)")
    parser.add_argument("--port", type=int, default=None, help="port to listen on (default $PORT, else 5000)")
    args = parser.parse_args(argv)
    if args.port is None:
        try:
            args.port = int(os.environ.get("PORT") or 5000)
        except ValueError:
            parser.error(f"PORT must be a number, not {os.environ['PORT']!r}")
    if not 0 < args.port < 65536:
        parser.error(f"the port must be between 1 and 65535, not {args.port}")
    return args


def serve(app: Flask, args: argparse.Namespace) -> None:
    shown_host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
    if ":" in shown_host:
        shown_host = f"[{shown_host}]"
    base_url = f"http://{shown_host}:{args.port}"
    if args.demo:
        from crm.services.demo import bootstrap_demo

        with app.app_context():
            bootstrap_demo(print_to=sys.stdout, base_url=base_url)
    if app.config["CRM_EMBEDDED_WORKER"] and not app.config["CRM_QUEUE_IMMEDIATE"]:
        from crm.queue import start_embedded_worker

        start_embedded_worker(app)  # reminders, e-mail and webhooks without a second command
    print(f"Followup is serving on {base_url}/ (Ctrl+C to stop)", flush=True)
    app.run(host=args.host, port=args.port)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from crm import create_app
    from crm.logs import configure_logging

    configure_logging()
    serve(create_app(), args)


if __name__ == "__main__":
    main()
