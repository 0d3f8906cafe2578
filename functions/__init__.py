"""The partner API: Firebase HTTPS functions that open an app's data to business partners.

Read top-down, from the edge inward:

- `http/`: the HTTP edge. `views` declares each exported function as an endpoint of the
  `pipeline` (request id, method, authenticate, authorize, limits, parse, operation,
  serialize, audit); `parsing` turns requests into typed values, `serializers` turns
  domain values into wire shapes, `responses` builds answers and the error envelope.
- `auth/`: who is calling. The `gate` tries a list of authenticators (`api_key_auth`,
  `id_tokens`);
  `callers` holds the caller and the claim rules; `sessions` shares user lookups.
- `resources/`: the owner's declaration (`resources.toml`) and what is generated from it:
  the field `kinds` (one class a kind, with its check in each language), the
  `validation` models, the `rules` block and the `indexes`.
- `records`: the business rules, free of HTTP and of Firestore; `models` the domain
  values; `cursor` the signed pagination tokens; `limits` the rate limits and daily
  quotas that instances share through leases.
- `store/`: Firestore, the only package that talks to it, one unit of work per change
  (the audit record of a write is committed with it).
- `wiring`: the parts every serving process shares (authenticators, the limits gate over
  Firestore leases, the failed-credential guard), composed once for the pipeline.
- `errors`, `config`, `logs`, `firebase_app`: one concern each.
- `openapi`: the contract document, built from the declaration (never from the parser).
- `endpoints`: the gate as a decorator (`partner_endpoint`) for the owner's own
  endpoints; `catalog` records them (their scopes, their models), `owner` is what one
  does within a call (tenant reads, the unit of work, replay); `examples/` holds one.
- `changes`: changes of records as events; `triggers` the generated Firestore triggers
  and the delivery functions; `webhooks` partners' endpoints, `delivery` one signed
  attempt, `outbound` calls to partners' URLs (checked and pinned), `signatures`
  Standard Webhooks, `webhook_models` their wire shapes.
- `admin/`: what owners do to run partners (`operator`), and the command-line tool around
  it (`cli`), run as `python -m functions.partners`.

The layers, from the edge down, are held by `tests/unit/test_layers.py`: each module
imports only its own layer and those below; only `store/` (and the tool's client factory,
`admin/clients`) uses Firestore's client; nothing under the HTTP edge imports the web.
"""

import warnings

# google-api-core announces, on import, the end of its support for Python 3.11 (October
# 2027; the functions run on python311, the newest runtime these machines can test). The
# notice is not actionable per process, so exactly that notice is silenced, nothing else.
warnings.filterwarnings("ignore", message="You are using a Python version", category=FutureWarning)
