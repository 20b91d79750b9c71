"""A scenario directory (docs/scenario-format.md) as the replay reads it,
and the tunable macro values the replay uses."""
import json
import os
import re

from claw_ta import APP_DIR, conffile
from claw_ta.detections import definitions as defs
from claw_ta_tools.normalize import parse_time_ns, ns_to_time, read_events
from claw_ta_tools.sensor import MACROS as SENSOR_MACROS, SensorRule


class ScenarioError(ValueError):
    """A scenario directory that cannot be replayed (the message names the file)."""


def read_macro_definitions(app_dir=APP_DIR, names=None):
    """``{stanza: definition}`` of macros.conf, default/ then local/ (local wins)."""
    found = {}
    for folder in ("default", "local"):
        path = os.path.join(app_dir, folder, "macros.conf")
        if not os.path.exists(path):
            continue
        for stanza, keys in conffile.parse(path).items():
            if (names is None or stanza in names) and "definition" in keys:
                found[stanza] = (path, keys["definition"])
    return found


def read_macro_params(app_dir=APP_DIR):
    """Effective values of the tunable macros: definitions, then default/ and local/macros.conf."""
    params = dict((name, value) for name, value, _ in defs.PARAMS)
    for stanza, (path, text) in read_macro_definitions(app_dir, params).items():
        try:
            params[stanza] = float(text)
        except ValueError:
            raise ScenarioError("%s: [%s] definition %r is not a number" % (path, stanza, text))
    return params


TIER_TRUSTED_MACRO = "claw_tier_trusted_namespaces"
_TRUSTED_OPTION = re.compile(r'(?:^|\s)trusted_namespaces\s*=\s*(?:"([^"]*)"|(\S*))')


def read_tier_trusted_namespaces(app_dir=APP_DIR):
    """The site's ``trusted_namespaces`` for the tier baseline (a frozenset; ``*`` trusts all).

    The effective ``claw_tier_trusted_namespaces`` macro (default/ then local/
    macros.conf), whose definition is the command option
    ``trusted_namespaces="a,b"`` that `claw_tier_baseline_detect` passes to
    ``clawtierbaseline``; a definition without the option trusts none.
    """
    from claw_ta.tiers import parse_namespaces
    found = read_macro_definitions(app_dir, (TIER_TRUSTED_MACRO,)).get(TIER_TRUSTED_MACRO)
    if found is None:
        return frozenset()
    path, text = found
    match = _TRUSTED_OPTION.search(text)
    if match is None:
        return frozenset()
    try:
        return parse_namespaces(match.group(1) if match.group(1) is not None else match.group(2))
    except ValueError as error:
        raise ScenarioError("%s: [%s] %s" % (path, TIER_TRUSTED_MACRO, error))


TIER_NODE_LABEL_MACRO = "claw_tier_node_label"
_NODE_LABEL_OPTION = re.compile(r'node_tier_label\s*=\s*(?:"([^"]*)"|(\S+))')


def read_tier_node_label(app_dir=APP_DIR):
    """The site's ``node_tier_label`` (the node label naming a node's tier; default ``tier``).

    The effective ``claw_tier_node_label`` macro, whose definition is the
    command option ``node_tier_label="..."``.
    """
    from claw_ta.tiers import check_params
    found = read_macro_definitions(app_dir, (TIER_NODE_LABEL_MACRO,)).get(TIER_NODE_LABEL_MACRO)
    if found is None:
        return "tier"
    path, text = found
    match = _NODE_LABEL_OPTION.search(text)
    if match is None:
        return "tier"
    value = match.group(1) if match.group(1) is not None else match.group(2)
    try:
        return check_params({"node_tier_label": value})["node_tier_label"]
    except ValueError as error:
        raise ScenarioError("%s: [%s] %s" % (path, TIER_NODE_LABEL_MACRO, error))


def read_sensor_rule(app_dir=APP_DIR):
    """The `claw_runtime_sensor` rule with the site's values (claw_ta_tools.sensor)."""
    found = read_macro_definitions(app_dir, SENSOR_MACROS)
    return SensorRule.from_macros(dict((k, text) for k, (_, text) in found.items()))


class Scenario(object):
    """A scenario directory: window, event files, SBOMs, lookup overrides, expected alerts."""

    def __init__(self, path):
        self.path = os.path.abspath(path)
        self.name = os.path.basename(self.path.rstrip(os.sep))
        meta_path = os.path.join(self.path, "scenario.json")
        try:
            with open(meta_path, encoding="utf-8") as handle:
                self.meta = json.load(handle)
        except (OSError, ValueError) as error:
            raise ScenarioError("%s: cannot read scenario.json: %s" % (self.path, error))
        if not isinstance(self.meta, dict):
            raise ScenarioError("%s: not a JSON object" % meta_path)
        try:
            self.detect_from_ns = parse_time_ns(str(self.meta["detect_from"]))
            self.detect_to_ns = parse_time_ns(str(self.meta["detect_to"]))
        except (KeyError, ValueError, IndexError) as error:
            raise ScenarioError("%s: detect_from / detect_to must be RFC 3339 times (%s)" % (meta_path, error))
        self.detect_from = ns_to_time(self.detect_from_ns)
        self.detect_to = ns_to_time(self.detect_to_ns)
        if self.detect_to_ns <= self.detect_from_ns:
            raise ScenarioError("%s: detect_to is not after detect_from" % meta_path)
        events_dir = os.path.join(self.path, "events")
        self.event_files = sorted(
            os.path.join(events_dir, n) for n in (os.listdir(events_dir) if os.path.isdir(events_dir) else ())
            if n.endswith((".jsonl", ".cri.log")) and os.path.isfile(os.path.join(events_dir, n)))
        sbom_dir = os.path.join(self.path, "sboms")
        self.sbom_dir = sbom_dir if os.path.isdir(sbom_dir) else None
        lookup_dir = os.path.join(self.path, "lookups")
        self.lookup_dirs = (lookup_dir,) if os.path.isdir(lookup_dir) else ()

    def events(self, warn=None, cim=False):
        """Normalized events of every events file (without CIM fields unless ``cim``)."""
        for path in self.event_files:
            yield from read_events(path, cim=cim)

    def expected(self):
        """Expected alerts (list of dicts); [] when there is no expected.jsonl (a benign scenario)."""
        path = os.path.join(self.path, "expected.jsonl")
        if not os.path.exists(path):
            return []
        out = []
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    obj = json.loads(line)
                except ValueError as error:
                    raise ScenarioError("%s:%d: not JSON: %s" % (path, number, error))
                if not isinstance(obj, dict) or "detection_id" not in obj:
                    raise ScenarioError("%s:%d: an expected alert is an object with a detection_id"
                                        % (path, number))
                out.append(obj)
        return out
