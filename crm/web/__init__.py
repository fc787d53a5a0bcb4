"""The HTML side: pages and htmx fragments (SPEC §6)."""

from flask import Flask


def init_app(app: Flask) -> None:
    pass
