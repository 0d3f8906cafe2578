"""The HTTP edge: the only layer that knows requests, headers and wire shapes.

`shell` serves every function, the console included (request id, method, the catch-all,
security headers, one log line); `pipeline` runs each partner call through its named
stages; `routes` holds each function's routing table as data; `parsing` turns bodies,
query strings and headers (If-Match, Idempotency-Key, cursors, bearer credentials) into
typed values; `serializers` turns domain values into the wire shapes and their headers
(ETag); `responses` builds JSON responses, the error envelope, security and CORS headers;
`views` declares the package's endpoints and routing tables, `webhooks` the partners'
webhook routes, and `docs` renders the API reference page.
"""
