"""Calls to services beyond Firestore: `outbound` (partners' webhook URLs, checked and
pinned), `signatures` (Standard Webhooks), `tasks` (Cloud Tasks queues) and
`firebase_app` (the firebase-admin app they and Auth share)."""
