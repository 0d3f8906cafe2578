"""Webhooks: partners' `endpoints` (where events go, their secrets), and the `delivery`
of each event to them, one signed attempt at a time, in two task queue lanes."""
