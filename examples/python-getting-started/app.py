"""A small web app to deploy on paas: a greeting page and an env echo."""

from __future__ import annotations

import html
import os

from flask import Flask, Response, jsonify

app = Flask(__name__)


@app.get("/")
def index() -> Response:
    """Greet the visitor and name the dyno that answered."""
    dyno = html.escape(os.environ.get("DYNO", "unknown"))
    page = (
        "<!doctype html>\n"
        "<title>Hello from paas</title>\n"
        f"<h1>Hello from paas</h1>\n<p>Served by dyno {dyno}.</p>\n"
    )
    return Response(page, mimetype="text/html")


@app.get("/env")
def env() -> Response:
    """Echo the process environment, so tests can see config vars arrive."""
    return jsonify(dict(os.environ))
