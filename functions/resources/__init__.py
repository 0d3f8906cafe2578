"""The resources partners may reach, declared once (`resources.toml`) and generated into
everything that must agree: validation models, Firestore rules, indexes, OpenAPI.

`declaration` reads and checks the file; `kinds` writes each field kind in Python, the
rules language and JSON Schema side by side; `validation` builds the pydantic models;
`rules` and `indexes` build the Firestore rules block and composite indexes.
"""
