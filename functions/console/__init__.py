"""The owner's console: partners, users, keys, limits, suspension, usage, the audit trail
and webhooks, from a browser (`app` routes and renders, `session` signs owners in,
`charts` draws usage). Every action is an `admin.Operator` method, as in the CLI."""
