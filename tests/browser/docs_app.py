"""examples/api.py with Swagger UI's assets served by the app itself (no Internet).

``SWAGGER_UI_DIR`` names a folder holding the ``swagger-ui-dist`` package's
files, which the test set-up fetched with npm.
"""

from __future__ import annotations

import os

from examples.api import app
from microweb.staticfiles import StaticFiles

app.mount("/swagger-ui", StaticFiles(directory=os.environ["SWAGGER_UI_DIR"]), name="swagger-ui")
app.docs_js_url = "/swagger-ui/swagger-ui-bundle.js"
app.docs_css_url = "/swagger-ui/swagger-ui.css"
