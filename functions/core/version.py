"""The package's one semantic version (MAJOR.MINOR.PATCH).

It is the OpenAPI document's `info.version`, pyproject's version and CHANGELOG.md's latest
release; a test holds them together, and fails when the contract breaks for partners
(`contract/released.json` against `openapi.json`) while MAJOR stays where it was.
"""

VERSION = "1.0.0"
