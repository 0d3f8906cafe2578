"""Where the benchmark keeps its peers and results, and the names its scenarios share."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
NODE_PEER = ROOT / "bench" / "peers" / "node"
PYTHON_PEERS = ROOT / "bench" / "peers" / "python_peers.py"
PARTNER = "bench"
WRITES_COLLECTION = "benchWrites"
PASSWORD = "bench-password-1"
SLOW_RUN_S = 40
MAX_AGE_S = "5"
"""AUTH_REVOCATION_MAX_AGE_S of the opt-in runs: a revoke may take this long to apply."""
MAX_AGE = f"revocation max age {MAX_AGE_S} s"
SOLO_OURS = "ours fetchData page 20, 1 connection"
SOLO_NO_REVOCATION = "ours fetchData page 20, no revocation check, 1 connection"
SOLO_BARE = "floor: bare Python page query, 1 connection"
SOLO_KEY = "ours fetchData page 20 with a key, 1 connection"
KEY_FETCH = "ours fetchData page 20 with a key"
KEY_CREATE = "ours createEntry with a key"
KEY_CREATE_IDEMPOTENT = "ours createEntry with a key and Idempotency-Key"
KEY_FETCH_SDK = "ours fetchData page 20 with a key, SDK path"
KEY_CREATE_SDK = "ours createEntry with a key, SDK path"
"""The same calls with FIRESTORE_FAST_PATH=false: what the fast path (`store/wire.py`) gains."""
PEER_A2_FETCH = "peer A2 (Node, verifyIdToken + role) fetchData, fetch-all"
PEER_A2_CREATE = "peer A2 (Node, verifyIdToken + role) createEntry"
