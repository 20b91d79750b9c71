"""Every module of the app imports and compiles under the Pythons Splunk runs (3.9, 3.13).

Run against the app as it ships (tests.paths.built_app: splunklib installed into bin/).
"""
import os
import subprocess

from tests import paths

SCRIPT = r"""
import importlib, os, pkgutil, sys, warnings
warnings.simplefilter("error", SyntaxWarning)
sys.path.insert(0, sys.argv[1])
import claw_ta
names = [m.name for m in pkgutil.walk_packages(claw_ta.__path__, "claw_ta.")]
for name in names:
    importlib.import_module(name)
for script in sorted(os.listdir(sys.argv[1])):
    if script.endswith(".py"):
        with open(os.path.join(sys.argv[1], script), encoding="utf-8") as handle:
            compile(handle.read(), script, "exec")
print(len(names))
"""


def test_every_app_module_imports(splunk_python, built_app):
    proc = subprocess.run([splunk_python, "-c", SCRIPT, os.path.join(built_app, "bin")], capture_output=True, text=True,
                          cwd=paths.REPO, env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout.strip()) >= 20  # the package's modules, all found
