"""Shared, splunklib-free logic of TA-claw-runtime.

Everything the search commands, the alert action and the ``claw-ta`` CLI have
in common lives here, so that the offline replay runs the same code Splunk
runs. Nothing in this package imports splunklib or any third-party module.
"""
import os
import re

APP_NAME = "TA-claw-runtime"
BIN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APP_DIR = os.path.dirname(BIN_DIR)
LOOKUPS_DIR = os.path.join(APP_DIR, "lookups")
DEFAULT_DIR = os.path.join(APP_DIR, "default")


def app_version():
    """The add-on version: ``[launcher] version`` in default/app.conf (the one place it is set)."""
    section = None
    with open(os.path.join(DEFAULT_DIR, "app.conf"), encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if line.startswith("["):
                section = line.strip("[]")
            elif section == "launcher" and re.match(r"version\s*=", line):
                return line.split("=", 1)[1].strip()
    raise RuntimeError("no [launcher] version in default/app.conf")
