"""Operators' tools: the logic of the partners command-line tool (not served by any function)."""
