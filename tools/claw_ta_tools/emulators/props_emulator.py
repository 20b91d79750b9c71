"""Runs the add-on's props.conf / transforms.conf on sample data, as Splunk would.

No Splunk here, so this applies the app's own settings with Python's ``re``
(the PCRE constructs props.conf uses are all ones ``re`` shares; named groups
are translated): index time (LINE_BREAKER over raw chunks with
LINE_BREAKER_LOOKBEHIND, TRUNCATE in bytes, TIME_PREFIX/TIME_FORMAT with
failures reported, SEDCMD, TRANSFORMS: sourcetype renames and INGEST_EVAL; the
HEC event endpoint) and search time (KV_MODE=json up to limits.conf
``[spath] extraction_cutoff``, EXTRACT ... in <field>, FIELDALIAS, EVAL through ``claw_ta_tools.emulators.spl_eval``, automatic
CSV LOOKUPs). The settings are read from the conf files, never restated here.
"""
import csv
import json
import os
import re
import time

from claw_ta import conffile as conf
from claw_ta_tools.emulators import spl_eval
from claw_ta_tools.emulators.auto_kv_json import JSON_EXTRACTION_CUTOFF, auto_json_fields  # noqa: F401
from claw_ta import LOOKUPS_DIR

PROPS = conf.app_conf("props")
TRANSFORMS = conf.app_conf("transforms")


def pcre(pattern):
    """PCRE -> Python re: named groups ``(?<name>`` become ``(?P<name>`` (str or bytes)."""
    if isinstance(pattern, bytes):
        return re.compile(re.sub(rb"\(\?<(?=[A-Za-z_])", b"(?P<", pattern))
    return re.compile(re.sub(r"\(\?<(?=[A-Za-z_])", "(?P<", pattern))


# Splunk reads a monitored file in raw chunks; 64 KiB is the size this
# emulator uses (tests may pass another, e.g. to put a boundary mid-line).
CHUNK_BYTES = 65536


def break_lines(stanza, data, chunk_bytes=CHUNK_BYTES):
    """Events from a raw stream with the stanza's LINE_BREAKER (first group = the break).

    As Splunk does (props.conf spec, LINE_BREAKER and LINE_BREAKER_LOOKBEHIND,
    https://docs.splunk.com/Documentation/Splunk/latest/Admin/propsconf), the
    stream arrives in raw chunks; the data not yet broken is kept and the next
    chunk appended, and the regex is applied again only from
    LINE_BREAKER_LOOKBEHIND bytes (default 100) before the end of the previous
    chunk: a break whose match starts earlier is never found. Bytes, not
    characters, as are TRUNCATE (bytes, rounded down to a whole UTF-8
    character) and the look-behind.
    """
    breaker = pcre(stanza.get("LINE_BREAKER", r"([\r\n]+)").encode("utf-8"))
    lookbehind = int(stanza.get("LINE_BREAKER_LOOKBEHIND", "100"))
    raw = data.encode("utf-8")
    events, leftover = [], b""
    for offset in range(0, len(raw), chunk_bytes):
        buffer = leftover + raw[offset:offset + chunk_bytes]
        start, pos = 0, max(0, len(leftover) - lookbehind)
        for match in breaker.finditer(buffer, pos):
            if match.end(1) == len(buffer) and offset + chunk_bytes < len(raw):
                break  # the break may go on in the next chunk: decide then
            events.append(buffer[start:match.start(1)])
            start = match.end(1)
        leftover = buffer[start:]
    if leftover:
        events.append(leftover)
    truncate = int(stanza.get("TRUNCATE", "10000"))
    out = []
    for event in events:
        if truncate and len(event) > truncate:
            event = event[:truncate]
        text = event.decode("utf-8", errors="ignore")  # a cut multi-byte character is dropped
        if text.strip():
            out.append(text)
    return out


class TimeFailed(object):
    """_time when the stanza's timestamp settings did not find the time.

    Splunk then falls back to automatic recognition or the previous event's
    time (props.conf spec, TIME_FORMAT): a value the add-on did not choose,
    so the emulator says so instead of returning a plausible number.
    """

    def __init__(self, reason):
        self.reason = reason

    def __repr__(self):
        return "TimeFailed(%r)" % self.reason


def extract_time(stanza, event, now=None):
    """_time from TIME_PREFIX + TIME_FORMAT within MAX_TIMESTAMP_LOOKAHEAD.

    None for ``DATETIME_CONFIG = CURRENT`` (index time by design); a
    ``TimeFailed`` when the prefix or the format does not match, or when the
    time is more than MAX_DAYS_AGO (default 2000) days before or MAX_DAYS_HENCE
    (default 2) days after ``now`` (the index time; default: the clock), which
    Splunk does not accept as the event's time (props.conf spec).
    """
    if stanza.get("DATETIME_CONFIG") == "CURRENT":
        return None
    if "TIME_PREFIX" not in stanza or "TIME_FORMAT" not in stanza:
        return TimeFailed("no TIME_PREFIX / TIME_FORMAT: automatic recognition")
    prefix = pcre(stanza["TIME_PREFIX"]).search(event)
    if not prefix:
        return TimeFailed("TIME_PREFIX not found")
    window = event[prefix.end():prefix.end() + int(stanza.get("MAX_TIMESTAMP_LOOKAHEAD", "128"))]
    seconds = spl_eval.strptime(window, stanza["TIME_FORMAT"])
    if seconds is None:
        return TimeFailed("TIME_FORMAT %r does not match %r" % (stanza["TIME_FORMAT"], window))
    now = time.time() if now is None else now
    ago, hence = days_bounds(stanza)
    if not now - ago * 86400 <= seconds <= now + hence * 86400:
        return TimeFailed("%r is outside MAX_DAYS_AGO / MAX_DAYS_HENCE" % window)
    return seconds


def days_bounds(stanza):
    """(MAX_DAYS_AGO, MAX_DAYS_HENCE) of a stanza, Splunk's defaults where unset."""
    return int(stanza.get("MAX_DAYS_AGO", "2000")), int(stanza.get("MAX_DAYS_HENCE", "2"))


def commas_outside(text, start=0):
    """(positions of the commas outside strings and nested parentheses, end) from ``start`` on.

    It stops at a closing parenthesis that closes nothing opened after ``start`` (``end`` is its
    index), else at the end of the text.
    """
    depth, quote, i, commas = 0, False, start, []
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == '"':
                quote = False
        elif char == '"':
            quote = True
        elif char == "(":
            depth += 1
        elif char == ")":
            if not depth:
                return commas, i
            depth -= 1
        elif char == "," and not depth:
            commas.append(i)
        i += 1
    return commas, i


def split_assignments(text):
    """``a=x, b:=y`` -> [("a", "x"), ("b", "y")]: the commas and ``=`` outside strings and parentheses."""
    commas, _ = commas_outside(text)
    bounds = [-1] + commas + [len(text)]
    parts = [text[bounds[n] + 1:bounds[n + 1]] for n in range(len(bounds) - 1)]
    out = []
    for part in parts:
        match = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*:?=(?!=)", part)
        if not match:
            raise SyntaxError("not an assignment: %r" % part)
        out.append((match.group(1), part[match.end():]))
    return out


def ingest_eval(transform, fields):
    """An INGEST_EVAL: ``field=expression`` assignments, comma-separated, evaluated left to right.

    Each assignment sees what the ones before it wrote (``:=`` replaces a value);
    a field assigned null() is removed, so a temporary field is not indexed
    (https://help.splunk.com/splunk-enterprise/get-started/get-data-in/9.0/configure-indexed-field-extraction/process-events-with-ingest-time-eval).
    """
    for name, expression in split_assignments(transform["INGEST_EVAL"]):
        value = spl_eval.compile_expression(expression)(fields)
        if value is None:
            fields.pop(name, None)
        else:
            fields[name] = value


def typing_fields(stanza, sourcetype, event, when, now=None):
    """SEDCMD then TRANSFORMS (sourcetype renames, INGEST_EVAL): every field the typing pipeline leaves.

    ``now`` is the index time (``time()`` in an INGEST_EVAL; default: the clock).
    """
    for key in sorted(k for k in stanza if k.startswith("SEDCMD-")):
        event = sed(stanza[key], event)
    fields = {"_raw": event, "_time": when, "sourcetype": sourcetype}
    if now is not None:
        fields[spl_eval.INDEX_TIME_FIELD] = now
    for key in sorted(k for k in stanza if k.startswith("TRANSFORMS-")):
        for name in stanza[key].split(","):
            transform = TRANSFORMS[name.strip()]
            if "INGEST_EVAL" in transform:
                ingest_eval(transform, fields)
            elif transform.get("DEST_KEY") == "MetaData:Sourcetype" and pcre(transform["REGEX"]).search(fields["_raw"]):
                fields["sourcetype"] = transform["FORMAT"].split("::", 1)[1]
    fields.pop(spl_eval.INDEX_TIME_FIELD, None)
    return fields


def typing(stanza, sourcetype, event, when, now=None):
    """(sourcetype, _raw, _time) after the typing pipeline (``typing_fields``)."""
    fields = typing_fields(stanza, sourcetype, event, when, now)
    return fields["sourcetype"], fields["_raw"], fields["_time"]


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


def index_time(sourcetype, data, chunk_bytes=CHUNK_BYTES, now=None):
    """[(sourcetype, _raw, _time)] as the parsing and typing pipelines leave a monitored file (indexed at ``now``)."""
    stanza = PROPS[sourcetype]
    return [typing(stanza, sourcetype, event, extract_time(stanza, event, now), now)
            for event in break_lines(stanza, data, chunk_bytes)]


def hec_event(event, envelope_time, sourcetype="claw:runtime", now=None):
    """(sourcetype, _raw, _time) of a /services/collector/event payload's ``event``.

    The event endpoint does no line breaking and no timestamp extraction unless
    auto_extract_timestamp=true, and even then the envelope time wins
    (https://help.splunk.com/en/splunk-enterprise/get-data-in/collect-http-event-data/http-event-collector-rest-api-endpoints):
    _time is the envelope ``time``; index-time TRANSFORMS (INGEST_EVAL) still run
    (https://help.splunk.com/splunk-enterprise/get-started/get-data-in/9.0/configure-indexed-field-extraction/process-events-with-ingest-time-eval).
    """
    raw = event if isinstance(event, str) else json.dumps(event, separators=(",", ":"), ensure_ascii=False)
    truncate = int(PROPS[sourcetype].get("TRUNCATE", "10000"))
    if truncate:  # assumed to apply to HEC events as well (checked by tests/live)
        raw = raw.encode("utf-8")[:truncate].decode("utf-8", errors="ignore")
    return typing(PROPS[sourcetype], sourcetype, raw, envelope_time, now)


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
    with open(os.path.join(LOOKUPS_DIR, TRANSFORMS[name]["filename"]), encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def field_alias(fields, value):
    """One FIELDALIAS value: ``<src> AS|ASNEW <dst>`` pairs.

    AS (Splunk 7.2.4 and later) sets the destination to the source's value and
    removes it when the source is absent; ASNEW sets it only when the
    destination does not exist, and never removes it
    (https://help.splunk.com/splunk-enterprise/release-notes-and-updates/release-notes/9.4/known-issues-for-this-release/field-alias-behavior-change,
    https://help.splunk.com/en/splunk-enterprise/manage-knowledge-objects/knowledge-management-manual/10.0/field-aliases).
    """
    for src, mode, dst in re.findall(r'("[^"]+"|\S+)\s+(ASNEW|AS)\s+("[^"]+"|\S+)', value):
        src, dst = src.strip('"'), dst.strip('"')
        source = fields.get(src)
        if mode == "AS":
            if source is None:
                fields.pop(dst, None)
            else:
                fields[dst] = source
        elif source is not None and fields.get(dst) is None:
            fields[dst] = source


DEFAULT_FIELDS = ("host", "source", "sourcetype", "index", "_time", "_raw")


def search_time(raw, sourcetype="claw:runtime", source="", host="", indexed=None,
                json_cutoff=JSON_EXTRACTION_CUTOFF):
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
    if stanza.get("KV_MODE") == "json":  # 2. automatic JSON key/values, up to the extraction cutoff
        for key, value in auto_json_fields(raw, json_cutoff).items():
            if key not in DEFAULT_FIELDS:
                fields[key] = value
    for key, value in stanza.items():  # 3. FIELDALIAS
        if key.startswith("FIELDALIAS-"):
            field_alias(fields, value)
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
