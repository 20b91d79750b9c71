"""Reading Splunk .conf files the way Splunk does (for tests).

Stanzas in brackets, ``key = value`` lines, ``#`` comment lines, values
continued with a trailing backslash. Keys are kept in file order.
"""
import os
from collections import OrderedDict

from tests import paths


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


def app_conf(name):
    """A default/<name>.conf of the app, parsed."""
    return parse(os.path.join(paths.APP_DEFAULT, name + ".conf"))
