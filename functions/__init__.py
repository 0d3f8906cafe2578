"""The partner API: Firebase HTTPS functions that open an app's data to business partners.

Read top-down, from the edge inward:

- `http/`: the HTTP edge. `views` declares each exported function as an endpoint of the
  `pipeline` (request id, method, authenticate, authorize, limits, parse, operation,
  serialize, audit); `parsing` turns requests into typed values, `serializers` turns
  domain values into wire shapes, `responses` builds answers and the error envelope.
- `auth/`: who is calling. The `gate` tries a list of authenticators (`id_tokens`);
  `callers` holds the caller and the claim rules; `sessions` shares user lookups.
- `entries`: the business rules, free of HTTP and of Firestore; `models` the domain
  values and their validation; `cursor` the signed pagination tokens.
- `store/`: Firestore, the only package that talks to it, one unit of work per change.
- `errors`, `config`, `logs`, `firebase_app`: one concern each.
- `openapi`: the contract document; `admin/` the partners command-line tool's logic,
  run as `python -m functions.partners`.
"""
