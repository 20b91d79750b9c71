"""Splunk .conf files read the way Splunk reads them: the project's one conf reader.

Stanzas in brackets, ``key = value`` lines, ``#`` comment lines, values
continued with a trailing backslash (the next line joined after a newline);
keys before the first stanza belong to ``default``. Keys are kept in file order.
https://docs.splunk.com/Documentation/Splunk/latest/Admin/Howtoeditaconfigurationfile

Used by the app (``claw_ta.app_version``), setup.py (loads this file by path),
the offline tools (the replay's macro values, ``claw_ta_tools``) and the tests.
Standard library only, importing nothing from ``claw_ta``.
"""
import os
from collections import OrderedDict


def parse(path):
    """OrderedDict stanza -> OrderedDict key -> value. Raises ValueError on a bad line."""
    stanzas = OrderedDict()
    current = stanzas.setdefault("default", OrderedDict())
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            current = stanzas.setdefault(stripped[1:-1], OrderedDict())
            continue
        if "=" not in line:
            raise ValueError("%s:%d: not a stanza, comment or key = value: %r" % (path, i, line))
        key, value = line.split("=", 1)
        value = value.strip()
        while value.endswith("\\") and i < len(lines):
            value = value[:-1] + "\n" + lines[i].strip()
            i += 1
        current[key.strip()] = value
    if not stanzas["default"]:
        del stanzas["default"]
    return stanzas


def app_conf(name, app_dir=None):
    """default/<name>.conf of the app (this package's app unless ``app_dir``), parsed."""
    if app_dir is None:
        from claw_ta import APP_DIR as app_dir
    return parse(os.path.join(app_dir, "default", name + ".conf"))
