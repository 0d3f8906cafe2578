"""Local tooling: the emulator stack, demo data and emulator helpers (never deployed)."""
