"""Where things are, for tests and benchmarks."""
import glob
import os

TESTS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(TESTS)
APP = os.path.join(REPO, "TA-claw-runtime")
APP_BIN = os.path.join(APP, "bin")
APP_DEFAULT = os.path.join(APP, "default")
APP_LOOKUPS = os.path.join(APP, "lookups")
TOOLS = os.path.join(REPO, "tools")  # claw_ta_tools: the CLI, generators, emulators (not shipped)
DATA = os.path.join(TESTS, "data")
SCENARIOS = os.path.join(REPO, "scenarios")
# ../shared beside the clone (the input contracts and real SBOMs); may be absent.
SHARED = os.environ.get("CLAW_SHARED_DIR") or os.path.join(os.path.dirname(REPO), "shared")


def source_env(**extra):
    """os.environ with the runtime package and the tools importable from the source tree."""
    env = dict(os.environ, **extra)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (APP_BIN, TOOLS, env.get("PYTHONPATH")) if p)
    return env


def built_app():
    """The app as it ships (splunklib installed into bin/), built once per test run.

    Tests that run a command script, the alert action or the REST handler run it
    from here, so they test what ships (splunklib is not in the source tree).
    """
    from claw_ta_tools.package import built_app as build
    return build()


def built_bin():
    return os.path.join(built_app(), "bin")


def splunk_pythons():
    """{"3.9": path, "3.13": path}: the interpreters Splunk runs commands with.

    Taken from CLAW_PY39 / CLAW_PY313 if set, else from pyenv's versions folder.
    A version that is not installed is left out (its tests skip, saying so).
    """
    found = {}
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    for label, env in (("3.9", "CLAW_PY39"), ("3.13", "CLAW_PY313")):
        path = os.environ.get(env)
        if not path:
            candidates = sorted(glob.glob(os.path.join(root, "versions", label + ".*", "bin", "python" + label)))
            path = candidates[-1] if candidates else None
        if path and os.path.exists(path):
            found[label] = path
    return found
