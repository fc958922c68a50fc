"""OpenAPI 3.1: the document of an app's routes and the Swagger UI page showing it.

SPEC.md "OpenAPI". ``App.openapi()`` builds the document on first use and
keeps it; ``App(openapi_url=..., docs_url=...)`` serves it and the page.
Nothing here is imported by ``import microweb`` or runs per request.
"""

from __future__ import annotations

from microweb.openapi._document import get_openapi
from microweb.openapi.docs import SWAGGER_CSS_URL, SWAGGER_JS_URL, swagger_ui_html

__all__ = ["SWAGGER_CSS_URL", "SWAGGER_JS_URL", "get_openapi", "swagger_ui_html"]
