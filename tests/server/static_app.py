"""StaticFiles served by uvicorn in tests/server/test_staticfiles_server.py.

``STATIC_DIR`` names the folder the test filled.
"""

from __future__ import annotations

import os

from microweb.staticfiles import StaticFiles

app = StaticFiles(directory=os.environ["STATIC_DIR"], html=True)
