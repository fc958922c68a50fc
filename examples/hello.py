"""The smallest microweb app: one response object served as an ASGI app.

Run it with ``uvicorn examples.hello:app`` and open http://127.0.0.1:8000/.
"""

from microweb.responses import PlainTextResponse

# Every microweb response is itself an ASGI app, so one object can answer
# every request. (The App with its router arrives in the next release.)
app = PlainTextResponse("Hello, world!\n")
