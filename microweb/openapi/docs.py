"""The docs page: Swagger UI showing an app's OpenAPI document.

``App(docs_url="/docs")`` serves it; Swagger UI's script and style sheet come
from ``docs_js_url`` and ``docs_css_url`` (jsDelivr's ``swagger-ui-dist@5`` by
default), so a site without Internet access can serve the two files itself
(``StaticFiles``) and point the App at them.
"""

from __future__ import annotations

import html
import json

__all__ = ["SWAGGER_CSS_URL", "SWAGGER_JS_URL", "swagger_ui_html"]

#: Swagger UI 5's bundle and style sheet on jsDelivr: ``App``'s defaults.
SWAGGER_JS_URL = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"
SWAGGER_CSS_URL = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css"


def _script_value(value: str) -> str:
    """``value`` as a JavaScript string literal that cannot end the ``<script>`` element."""
    return (
        json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    )


def swagger_ui_html(
    *,
    openapi_url: str,
    title: str,
    js_url: str = SWAGGER_JS_URL,
    css_url: str = SWAGGER_CSS_URL,
) -> str:
    """The HTML of a Swagger UI page for the document at ``openapi_url``.

    ``title`` (the page's title) and the URLs are escaped: any text is safe.
    """
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="stylesheet" href="{html.escape(css_url)}">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{html.escape(js_url)}"></script>
<script>
window.ui = SwaggerUIBundle({{
  url: {_script_value(openapi_url)},
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  layout: "BaseLayout",
}});
</script>
</body>
</html>
"""
