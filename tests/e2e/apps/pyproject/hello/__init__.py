"""A Flask app installed from its pyproject.toml."""

import sys

from flask import Flask

app = Flask(__name__)


@app.get("/")
def index() -> str:
    """Say hello and which Python runs the app."""
    return f"hello from pyproject (Python {sys.version.split()[0]})"
