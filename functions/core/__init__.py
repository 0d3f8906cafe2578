"""The ground every layer stands on, each module one concern: `models` (the domain
values), `errors` (each with its status and the error envelope's code), `config` (every
setting), `logs` (one JSON line a request), `limits` (the arithmetic of rate limits and
quotas), `cursor` (signed pagination cursors), `api_keys` (the key format), `version` (the
package's one semantic version)."""
