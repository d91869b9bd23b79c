"""Where `cargo build --release` put the coffer binary: cargo's own answer (which follows
CARGO_TARGET_DIR and .cargo/config), else CARGO_TARGET_DIR, else the repository's target/."""

import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def target_dir():
    try:
        out = subprocess.run(["cargo", "metadata", "--no-deps", "--format-version", "1"], cwd=REPO,
                             capture_output=True, text=True, check=True).stdout
        return json.loads(out)["target_directory"]
    except (OSError, subprocess.CalledProcessError, ValueError, KeyError):
        return os.environ.get("CARGO_TARGET_DIR") or os.path.join(REPO, "target")


def release_binary():
    return os.path.join(target_dir(), "release", "coffer")


def checked(path):
    """`path` made absolute, or exit saying how to build it."""
    path = os.path.abspath(path)
    if not os.access(path, os.X_OK):
        sys.exit(f"no coffer binary at {path}: build it with `cargo build --release`, or pass its path")
    return path
