"""The runtime package of TA-claw-runtime: what the app's scripts import.

The search commands, the alert action and the REST handler in ``bin/`` import
it; it ships in the app, and nothing else of the repository's Python does. The
offline tools (``claw_ta_tools`` under ``tools/``: the ``claw-ta`` CLI, replay,
evaluation, generators, emulators) import it too, so that the replay runs the
same detection definitions and SBOM code Splunk runs. Nothing in this package
imports splunklib or any third-party module.
"""
import os

APP_NAME = "TA-claw-runtime"
BIN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APP_DIR = os.path.dirname(BIN_DIR)
LOOKUPS_DIR = os.path.join(APP_DIR, "lookups")
DEFAULT_DIR = os.path.join(APP_DIR, "default")


def app_version(app_dir=APP_DIR):
    """The add-on version: ``[launcher] version`` in default/app.conf (the one place it is set)."""
    from claw_ta.conffile import app_conf
    version = app_conf("app", app_dir).get("launcher", {}).get("version")
    if not version:
        raise RuntimeError("no [launcher] version in %s" % os.path.join(app_dir, "default", "app.conf"))
    return version
