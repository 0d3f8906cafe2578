"""The partner API: Firebase HTTPS functions that open an app's data to business partners.

Each folder is a layer; read top-down, from the edge inward (a module imports only its
own layer and those below, held by `tests/unit/test_layers.py`):

- The root holds entry points only: `partners` (`python -m functions.partners`) and
  `endpoints` (what owners import to write their own endpoints); `examples/` holds one.
- `edge/` and `cli/`: the HTTP functions, the console, the triggers and the command-line
  tool.
- `operations/`: what owners do to run partners, shared by the console and the tool.
- `domain/`: the business rules, free of HTTP and of Firestore's client.
- `auth/`: who is calling.
- `contract/`, `store/`, `outside/`: the contract built from the declaration, Firestore
  (persistence only), and the services beyond it (webhook URLs, Cloud Tasks).
- `resources/`: the owner's declaration (`resources.toml`) and what it generates.
- `core/`: domain values, errors, configuration, logs: the ground.

Only `store/` (and the tools' client factory, `operations.clients`) imports Firestore's
client, only `store/` gRPC, and firebase-admin stays in `outside/`, `auth/` and
`operations/`; nothing under the edge imports the web.
"""

import warnings

# google-api-core announces, on import, the end of its support for Python 3.11 (October
# 2027; the functions run on python311, the newest runtime these machines can test). The
# notice is not actionable per process, so exactly that notice is silenced, nothing else.
warnings.filterwarnings("ignore", message="You are using a Python version", category=FutureWarning)
