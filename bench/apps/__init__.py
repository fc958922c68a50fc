"""One app per framework, each answering the endpoints of ``bench.endpoints``.

Every module here has ``create_app(extra_routes=1000)``, which returns an ASGI
app; uvicorn serves one with ``--factory bench.apps.<module>:create_app``.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
from collections.abc import Awaitable, Callable
from typing import Any

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]

# name -> (module, the distribution it needs); the order is the tables' order.
APPS: dict[str, tuple[str, str | None]] = {
    "raw": ("bench.apps.raw_app", None),
    "microweb": ("bench.apps.microweb_app", "microweb"),
    "starlette": ("bench.apps.starlette_app", "starlette"),
    "fastapi": ("bench.apps.fastapi_app", "fastapi"),
    "blacksheep": ("bench.apps.blacksheep_app", "blacksheep"),
    "litestar": ("bench.apps.litestar_app", "litestar"),
    "falcon": ("bench.apps.falcon_app", "falcon"),
}


def installed(name: str) -> bool:
    """Whether the framework ``name`` needs is importable here."""
    package = APPS[name][1]
    return package is None or importlib.util.find_spec(package) is not None


def version(name: str) -> str | None:
    """The installed version of ``name``'s framework (None for raw)."""
    package = APPS[name][1]
    return None if package is None else importlib.metadata.version(package)


def factory(name: str) -> str:
    """What uvicorn's ``--factory`` takes for ``name``: ``module:create_app``."""
    return f"{APPS[name][0]}:create_app"


def create(name: str, extra_routes: int | None = None) -> ASGIApp:
    """A fresh app of framework ``name``, with ``extra_routes`` numbered routes."""
    module = importlib.import_module(APPS[name][0])
    if extra_routes is None:
        return module.create_app()  # type: ignore[no-any-return]
    return module.create_app(extra_routes)  # type: ignore[no-any-return]
