"""The partner API: Firebase HTTPS functions that open an app's data to business partners.

One module per concern: `config` (environment), `errors` (the error tree and its wire
shape), `logs` (structured request logs), `auth` (who is calling), `models` (what may be
sent and stored), `cursor` (pagination tokens), `store` (Firestore), `handlers` (the
business rules), `http` (request and response glue), `api` (the views `main.py` exports),
`openapi` (the contract document) and `partners` (the claims command-line tool).
"""
