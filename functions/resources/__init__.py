"""The resources partners may reach, declared once (`resources.toml`) and generated into
everything that must agree: validation models, Firestore rules, indexes, OpenAPI.

`declaration` reads and checks the file; `kinds` holds one class a field kind with every
face of it (the Python check, the rules expression, the JSON Schema, the filter value and
its schema, the message); `validation` builds the pydantic models;
`rules` and `indexes` build the Firestore rules block and composite indexes.
"""
