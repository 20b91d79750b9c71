"""The Python interpreters Splunk runs command scripts with (3.9: Splunk 9.3-10.0; 3.13: 10.1+)."""
import glob
import os


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
