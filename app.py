"""Entry point: `flask run` finds `app`; `python app.py [--demo] [--host H] [--port N]` serves it
(default http://127.0.0.1:5000; the PORT environment variable sets the default port)."""

import argparse
import os
import sys

from crm import create_app

app = create_app()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Serve Followup with the development server.")
    parser.add_argument("--demo", action="store_true",
                        help="on first start, create a demo workspace, print a sign-in and an API key")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None,
                        help="port to listen on (default: $PORT, else 5000)")
    args = parser.parse_args(argv)
    if args.port is None:
        try:
            args.port = int(os.environ.get("PORT") or 5000)
        except ValueError:
            parser.error(f"PORT must be a number, not {os.environ['PORT']!r}")
    if not 0 < args.port < 65536:
        parser.error(f"the port must be between 1 and 65535, not {args.port}")
    return args


if __name__ == "__main__":
    args = parse_args(sys.argv[1:])
    if args.demo:
        from crm.services.demo import bootstrap_demo

        shown_host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
        if ":" in shown_host:
            shown_host = f"[{shown_host}]"
        with app.app_context():
            bootstrap_demo(print_to=sys.stdout, base_url=f"http://{shown_host}:{args.port}")
    app.run(host=args.host, port=args.port)
