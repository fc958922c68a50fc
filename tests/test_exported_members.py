"""The public surface SPEC.md names, pinned: adding or removing a name is a decision."""

from __future__ import annotations

import importlib

import pytest

PUBLIC = {
    "microweb": {
        "App",
        "BackgroundTask",
        "BackgroundTasks",
        "EventSourceResponse",
        "FileResponse",
        "HTMLResponse",
        "HTTPException",
        "JSONResponse",
        "ORJSONResponse",
        "PlainTextResponse",
        "RedirectResponse",
        "Request",
        "Response",
        "Router",
        "ServerSentEvent",
        "StreamingResponse",
        "UJSONResponse",
        "UploadFile",
        "__version__",
        "safe_path",
    },
    "microweb.routing": {"Host", "Mount", "Route", "RouteOptions", "Router", "WebSocketRoute"},
    "microweb.applications": {"App"},
    "microweb.responses": {
        "EventSourceResponse",
        "FileResponse",
        "HTMLResponse",
        "JSONResponse",
        "ORJSONResponse",
        "PlainTextResponse",
        "RedirectResponse",
        "Response",
        "ServerSentEvent",
        "StreamingResponse",
        "UJSONResponse",
        "safe_path",
    },
    "microweb.background": {"BackgroundTask", "BackgroundTasks"},
    "microweb.requests": {"ClientDisconnect", "Request"},
    "microweb.exceptions": {"HTTPException", "RequestValidationError", "WebSocketException"},
    "microweb.params": {"Body", "Cookie", "Depends", "File", "Form", "Header", "Path", "Query"},
    "microweb.datastructures": {
        "URL",
        "Address",
        "FormData",
        "Headers",
        "MutableHeaders",
        "QueryParams",
        "State",
        "UploadFile",
    },
    "microweb.testclient": {"TestClient", "WebSocketDenialResponse"},
    "microweb.websockets": {
        "WebSocket",
        "WebSocketClose",
        "WebSocketDisconnect",
        "WebSocketState",
    },
    "microweb.middleware": {
        "CORSMiddleware",
        "CompressionMiddleware",
        "GZipMiddleware",
        "HTTPSRedirectMiddleware",
        "Middleware",
        "SessionMiddleware",
        "TrustedHostMiddleware",
    },
    "microweb.middleware.cors": {"CORSMiddleware"},
    "microweb.middleware.compression": {"CompressionMiddleware", "negotiate"},
    "microweb.middleware.gzip": {"GZipMiddleware"},
    "microweb.middleware.trustedhost": {"TrustedHostMiddleware"},
    "microweb.middleware.httpsredirect": {"HTTPSRedirectMiddleware"},
    "microweb.middleware.sessions": {"SessionMiddleware"},
    "microweb.staticfiles": {"StaticFiles"},
    "microweb.security": {
        "APIKeyCookie",
        "APIKeyHeader",
        "APIKeyQuery",
        "HTTPAuthorizationCredentials",
        "HTTPBasic",
        "HTTPBasicCredentials",
        "HTTPBearer",
        "HTTPDigest",
        "OAuth2PasswordBearer",
        "OAuth2PasswordRequestForm",
        "OAuth2PasswordRequestFormStrict",
        "Security",
    },
    "microweb.templating": {"Jinja2Templates"},
    "microweb.openapi": {"SWAGGER_CSS_URL", "SWAGGER_JS_URL", "get_openapi", "swagger_ui_html"},
    "microweb.openapi.docs": {"SWAGGER_CSS_URL", "SWAGGER_JS_URL", "swagger_ui_html"},
    "microweb.concurrency": {"iterate_in_threadpool", "run_in_threadpool"},
    "microweb.types": {"ASGIApp", "Message", "Receive", "Scope", "Send"},
    "microweb.encoders": {"jsonable_encoder"},
}


@pytest.mark.parametrize("module_name", sorted(PUBLIC))
def test_all_is_pinned_and_importable(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert set(module.__all__) == PUBLIC[module_name]
    for name in module.__all__:
        assert hasattr(module, name), f"{module_name}.{name} is in __all__ but missing"


def test_status_constants() -> None:
    from microweb import status

    assert status.HTTP_200_OK == 200
    assert status.HTTP_404_NOT_FOUND == 404
    assert status.HTTP_413_CONTENT_TOO_LARGE == status.HTTP_413_REQUEST_ENTITY_TOO_LARGE == 413
    assert status.HTTP_422_UNPROCESSABLE_CONTENT == 422
    assert all(name.startswith("HTTP_") for name in status.__all__)
    for name in status.__all__:
        code = getattr(status, name)
        assert name.startswith(f"HTTP_{code}_")


def test_package_ships_py_typed() -> None:
    from importlib.resources import files

    assert files("microweb").joinpath("py.typed").is_file()
