"""Runs the add-on's props.conf / transforms.conf on sample data, as Splunk would.

No Splunk here, so this applies the app's own settings with Python's ``re``
(the PCRE constructs props.conf uses are all ones ``re`` shares; named groups
are translated): index time (LINE_BREAKER, TRUNCATE, TIME_PREFIX/TIME_FORMAT,
SEDCMD, sourcetype-renaming TRANSFORMS) and search time (KV_MODE=json,
EXTRACT ... in <field>, FIELDALIAS, EVAL through ``tests.spl_eval``, automatic
CSV LOOKUPs). The settings are read from the conf files, never restated here.
"""
import calendar
import csv
import json
import os
import re

from tests import conf, paths, spl_eval

PROPS = conf.app_conf("props")
TRANSFORMS = conf.app_conf("transforms")


def pcre(pattern):
    """PCRE -> Python re: named groups ``(?<name>`` become ``(?P<name>``."""
    return re.compile(re.sub(r"\(\?<(?=[A-Za-z_])", "(?P<", pattern))


def break_lines(stanza, data):
    """Events from a raw stream with the stanza's LINE_BREAKER (first group = the break)."""
    breaker = pcre(stanza.get("LINE_BREAKER", r"([\r\n]+)"))
    events, start = [], 0
    for match in breaker.finditer(data):
        events.append(data[start:match.start(1)])
        start = match.end(1)
    if start < len(data):
        events.append(data[start:])
    truncate = int(stanza.get("TRUNCATE", "10000"))
    return [e[:truncate] if truncate else e for e in events if e.strip()]


# The strptime subset TIME_FORMAT uses; %<n>N = up to n subsecond digits.
_TIME_PARTS = {
    "%Y": r"(?P<Y>\d{4})", "%m": r"(?P<m>\d\d)", "%d": r"(?P<d>\d\d)",
    "%H": r"(?P<H>\d\d)", "%M": r"(?P<M>\d\d)", "%S": r"(?P<S>\d\d)",
    "%Z": r"(?P<Z>Z|UTC|[+-]\d\d:?\d\d)", "%z": r"(?P<Z>[+-]\d\d\d\d)",
}


def time_regex(time_format):
    out, i = "", 0
    while i < len(time_format):
        sub = re.match(r"%(\d)N", time_format[i:])
        if sub:
            out += r"(?P<N>\d{1,%s})" % sub.group(1)
            i += len(sub.group(0))
        elif time_format[i:i + 2] in _TIME_PARTS:
            out += _TIME_PARTS[time_format[i:i + 2]]
            i += 2
        else:
            out += re.escape(time_format[i])
            i += 1
    return re.compile(out)


def extract_time(stanza, event):
    """_time from TIME_PREFIX + TIME_FORMAT within MAX_TIMESTAMP_LOOKAHEAD, else None."""
    if stanza.get("DATETIME_CONFIG") == "CURRENT" or "TIME_PREFIX" not in stanza:
        return None  # index time (CURRENT), or Splunk's automatic recognition
    prefix = pcre(stanza["TIME_PREFIX"]).search(event)
    if not prefix:
        return None
    window = event[prefix.end():prefix.end() + int(stanza.get("MAX_TIMESTAMP_LOOKAHEAD", "128"))]
    match = time_regex(stanza["TIME_FORMAT"]).match(window)
    if not match:
        return None
    g = match.groupdict()
    seconds = calendar.timegm((int(g["Y"]), int(g["m"]), int(g["d"]), int(g["H"]), int(g["M"]),
                               int(g["S"]), 0, 0, 0))
    zone = g.get("Z") or "Z"
    if zone not in ("Z", "UTC"):
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        seconds -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return seconds + (float("0." + g["N"]) if g.get("N") else 0.0)


def sed(expression, text):
    """Apply one SEDCMD ``s/regex/replacement/flags``."""
    if not expression.startswith("s/"):
        raise ValueError("unsupported SEDCMD %r" % expression)
    body = expression[2:]
    parts, buf, i = [], "", 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body) and body[i + 1] == "/":
            buf += "/"
            i += 2
            continue
        if body[i] == "/":
            parts.append(buf)
            buf = ""
        else:
            buf += body[i]
        i += 1
    parts.append(buf)
    regex, repl, flags = parts[0], parts[1], parts[2] if len(parts) > 2 else ""
    repl = re.sub(r"\\(\d)", r"\\g<\1>", repl)
    return pcre(regex).sub(repl, text, count=0 if "g" in flags else 1)


def index_time(sourcetype, data):
    """[(sourcetype, _raw, _time)] as the parsing and typing pipelines leave them."""
    stanza = PROPS[sourcetype]
    events = []
    for event in break_lines(stanza, data):
        when = extract_time(stanza, event)
        final_type = sourcetype
        for key in sorted(k for k in stanza if k.startswith("SEDCMD-")):
            event = sed(stanza[key], event)
        for key in sorted(k for k in stanza if k.startswith("TRANSFORMS-")):
            for name in stanza[key].split(","):
                transform = TRANSFORMS[name.strip()]
                if transform.get("DEST_KEY") == "MetaData:Sourcetype" and pcre(transform["REGEX"]).search(event):
                    final_type = transform["FORMAT"].split("::", 1)[1]
        events.append((final_type, event, when))
    return events


def flatten_json(obj, prefix="", out=None):
    """KV_MODE=json field names: nested keys joined with '.', arrays as '{}'."""
    out = {} if out is None else out
    if isinstance(obj, dict):
        for key, value in obj.items():
            flatten_json(value, prefix + key if not prefix else prefix + "." + key, out)
    elif isinstance(obj, list):
        for value in obj:
            flatten_json(value, prefix + "{}", out)
    elif obj is not None:
        text = ("true" if obj else "false") if isinstance(obj, bool) else str(obj)
        if prefix in out:
            existing = out[prefix]
            out[prefix] = (existing if isinstance(existing, list) else [existing]) + [text]
        else:
            out[prefix] = text
    return out


def _lookup_rows(name):
    with open(os.path.join(paths.APP_LOOKUPS, TRANSFORMS[name]["filename"]), encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


DEFAULT_FIELDS = ("host", "source", "sourcetype", "index", "_time", "_raw")


def search_time(raw, sourcetype="claw:runtime", source="", host="", indexed=None):
    """Fields Splunk's search-time operations give an event of ``sourcetype``."""
    stanza = PROPS[sourcetype]
    fields = {"_raw": raw, "source": source, "sourcetype": sourcetype, "host": host}
    fields.update(indexed or {})
    for key, value in stanza.items():  # 1. inline EXTRACT
        if key.startswith("EXTRACT-"):
            regex, _, field = value.rpartition(" in ")
            if not regex:
                regex, field = value, "_raw"
            match = pcre(regex.strip()).search(fields.get(field.strip()) or "")
            if match:
                fields.update({k: v for k, v in match.groupdict().items() if v is not None})
    if stanza.get("KV_MODE") == "json":  # 2. automatic JSON key/values
        try:
            obj = json.loads(raw)
        except ValueError:
            obj = None
        for key, value in flatten_json(obj).items() if isinstance(obj, dict) else ():
            if key not in DEFAULT_FIELDS:
                fields[key] = value
    for key, value in stanza.items():  # 3. FIELDALIAS
        if key.startswith("FIELDALIAS-"):
            for src, dst in re.findall(r'("[^"]+"|\S+)\s+AS\s+("[^"]+"|\S+)', value):
                if fields.get(src.strip('"')) is not None:
                    fields[dst.strip('"')] = fields[src.strip('"')]
    before = dict(fields)  # 4. EVAL: every calculated field sees the same input
    for key, value in stanza.items():
        if key.startswith("EVAL-"):
            result = spl_eval.compile_expression(value)(before)
            name = key[len("EVAL-"):]
            if result is None or result is False:
                fields.pop(name, None)
            else:
                fields[name] = result
    for key, value in stanza.items():  # 5. automatic lookups
        if key.startswith("LOOKUP-"):
            words = value.replace(",", " ").split()
            table, match_field = words[0], words[1]
            out_index = [w.upper() for w in words].index("OUTPUTNEW") if "OUTPUTNEW" in words else words.index("OUTPUT")
            outputs = words[out_index + 1:]
            for row in _lookup_rows(table):
                if row.get(match_field) == fields.get(match_field):
                    for name in outputs:
                        if fields.get(name) is None and row.get(name):
                            fields[name] = row[name]
                    break
    return fields
