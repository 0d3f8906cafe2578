"""The HTTP edge: the only layer that knows requests, headers and wire shapes.

`pipeline` runs every exported function through its named stages; `parsing` turns
bodies, query strings and headers (If-Match, Idempotency-Key, cursors, bearer
credentials) into typed values; `serializers` turns domain values into the wire shapes
and their headers (ETag); `responses` builds JSON responses, the error envelope, security
and CORS headers; `views` declares each exported function, `webhooks` the partners'
webhook routes, and `docs` renders the API reference page.
"""
