"""The owner's console: partners, users, keys, limits, suspension, usage, the audit trail
and webhooks, from a browser (`app` routes and renders, `session` carries the owner's
session cookie, `charts` draws usage). Every action is a `functions.operations.Operator`
method, as in the command-line tool."""
