"""The edge, the only layer that sees requests and triggers: `http/` (the pipeline every
partner function runs through, its views, parsing and responses), `console/` (the
owner's console), `decorator` (`partner_endpoint`, the public decorator), `triggers`
(the Firestore triggers and task queue functions), `wiring` (the parts a serving
process shares, composed once) and `owner_endpoints` (where the owner's endpoints come
from)."""
