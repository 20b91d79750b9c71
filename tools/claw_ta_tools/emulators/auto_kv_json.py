"""Splunk's automatic JSON extraction (KV_MODE = json) with its extraction cutoff.

limits.conf spec, ``[spath] extraction_cutoff`` (default 5000): "For
'extract-all' spath extraction mode, this setting applies extraction only to
the first <integer> number of bytes. This setting applies both the auto kv
extraction and the spath command":
https://help.splunk.com/en/data-management/splunk-enterprise-admin-manual/9.4/configuration-file-reference/9.4.0-configuration-file-reference/limits.conf
Modelled as: a value becomes a field when it ends within the first
``cutoff`` bytes of the event (the spec does not say whether a value the
limit cuts comes out in part; this model leaves it out). Field names are
flattened as KV_MODE=json names them (nested keys joined with ``.``, arrays
as ``{}``; repeated names become multivalue).
"""
import json
import re

JSON_EXTRACTION_CUTOFF = 5000
_WS = re.compile(r"[ \t\n\r]*")
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null")


def auto_json_fields(raw, cutoff=JSON_EXTRACTION_CUTOFF):
    """The fields KV_MODE=json gives ``raw``: flattened names, only values that end within ``cutoff`` bytes.

    A document that is not whole JSON gives none (as before this model).
    """
    try:
        obj = json.loads(raw)
    except ValueError:
        return {}
    if not isinstance(obj, dict):
        return {}
    limit = len(raw.encode("utf-8")[:cutoff].decode("utf-8", errors="ignore"))
    out = {}
    try:
        _walk(raw, 0, "", limit, out)
    except RecursionError:
        pass
    return out


def _add(out, name, value):
    if name in out:
        existing = out[name]
        out[name] = (existing if isinstance(existing, list) else [existing]) + [value]
    else:
        out[name] = value


def _walk(text, pos, prefix, limit, out):
    """Walk one JSON value at ``pos``; scalars ending at or before ``limit`` (chars) go to ``out``. Returns the end."""
    pos = _WS.match(text, pos).end()
    char = text[pos]
    if char == "{" or char == "[":
        close, pos = ("}" if char == "{" else "]"), _WS.match(text, pos + 1).end()
        if text[pos] == close:
            return pos + 1
        while True:
            if close == "}":
                key, pos = json.decoder.scanstring(text, _WS.match(text, pos).end() + 1)
                pos = _WS.match(text, pos).end() + 1  # the ':'
                name = key if not prefix else prefix + "." + key
            else:
                name = prefix + "{}"
            pos = _WS.match(text, _walk(text, pos, name, limit, out)).end()
            if text[pos] == close:
                return pos + 1
            pos += 1  # the ','
    if char == '"':
        value, end = json.decoder.scanstring(text, pos + 1)
    else:
        end = _SCALAR.match(text, pos).end()
        value = text[pos:end]
        if value == "null":
            return end
    if end <= limit:
        _add(out, prefix, value)
    return end
