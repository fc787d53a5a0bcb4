"""Where the app's data folders are: inside the package when installed from a wheel (the build
maps them in), beside it in a source checkout."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    packaged = PACKAGE_DIR / name
    return packaged if packaged.is_dir() else PACKAGE_DIR.parent / name


TEMPLATES_DIR = data_dir("templates")
STATIC_DIR = data_dir("static")
MIGRATIONS_DIR = data_dir("migrations")
