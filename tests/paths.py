"""Where things are, for tests; importing it makes claw_ta and claw_ta_tools importable from the source tree."""
import os
import sys

TESTS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(TESTS)
APP = os.path.join(REPO, "TA-claw-runtime")
APP_BIN = os.path.join(APP, "bin")
APP_DEFAULT = os.path.join(APP, "default")
APP_LOOKUPS = os.path.join(APP, "lookups")
TOOLS = os.path.join(REPO, "tools")  # claw_ta_tools: the CLI, generators, emulators (not shipped)
sys.path[:0] = [p for p in (APP_BIN, TOOLS) if p not in sys.path]

from claw_ta_tools.emulators.interpreters import splunk_pythons  # noqa: E402,F401  (paths.splunk_pythons)
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
