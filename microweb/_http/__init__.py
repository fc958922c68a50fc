"""The HTTP grammar microweb speaks, each rule written once under the RFC text it implements.

Pure functions and constants: no I/O, no ASGI, and no import from the rest
of microweb, so every rule is easy to test and to fuzz on its own. One
module per area; import a rule from its module:

- ``fields``: header names (RFC 9110 §5.6.2 token) and values (§5.5), ``encode_header``;
- ``dates``: HTTP-dates (RFC 9110 §5.6.7);
- ``cookies``: ``set-cookie`` and ``cookie`` (RFC 6265);
- ``conditional``: entity tags and conditional requests (RFC 9110 §8.8.3, §13);
- ``ranges``: byte ranges and ``multipart/byteranges`` (RFC 9110 §14);
- ``disposition``: ``content-disposition`` (RFC 6266, RFC 8187);
- ``auth``: ``authorization`` and its challenges (RFC 9110 §11), Basic (RFC 7617);
- ``urls``: the characters a URL keeps unquoted (RFC 3986) and the query string.
"""
