"""A large CycloneDX JSON document read one top-level component at a time.

json.loads builds the whole tree before the parser sees it: about 5 times the
document's size for an SBOM (dicts and strings), so a 21 MB document peaked
near 180 MB. Above STREAM_ABOVE bytes the top-level object is read key by key
(``JSONDecoder.raw_decode``): ``components`` is decoded one element at a time
and reduced to its entries at once (claw_ta.sbom.cyclonedx.component_entries,
the same rules and order as for a list), ``dependencies`` is decoded element
by element and dropped (nothing reads it), every other key as usual. Anything
that is not a top-level CycloneDX object (``bomFormat``), or is not well-formed
JSON, gives None: the caller parses it the usual way, with the usual errors.
"""
import json
import re

from claw_ta.sbom import cyclonedx
from claw_ta.sbom.model import SbomError

STREAM_ABOVE = 4 << 20
_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


class _NotForMe(Exception):
    """Not a top-level CycloneDX object this reader handles: parse it the usual way."""


def _ws(text, pos):
    return _WS.match(text, pos).end()


def _elements(text, pos, end):
    """Decode the array at ``pos`` element by element; ``end[0]`` is set past its ``]``."""
    if text[pos] != "[":
        raise _NotForMe()
    pos = _ws(text, pos + 1)
    if text[pos] == "]":
        end[0] = pos + 1
        return
    while True:
        value, pos = _DECODER.raw_decode(text, pos)
        yield value
        pos = _ws(text, pos)
        if text[pos] == ",":
            pos = _ws(text, pos + 1)
        elif text[pos] == "]":
            end[0] = pos + 1
            return
        else:
            raise _NotForMe()


def parse(text, name):
    """The CycloneDX document of JSON ``text`` (str, starting with ``{``), or None (parse it the usual way).

    SbomError for what the usual parse refuses too (depth, count)."""
    try:
        return _parse(text, name)
    except SbomError:
        raise
    except (_NotForMe, ValueError, TypeError, AttributeError, IndexError, RecursionError):
        return None


def _parse(text, name):
    top, found = {}, None
    pos = _ws(text, 1)
    if text[pos] == "}":
        return None
    while True:
        key, pos = _DECODER.raw_decode(text, pos)
        if not isinstance(key, str) or key in top or key == "components" and found is not None:
            raise _NotForMe()  # not an object key, or a key given twice (json.loads keeps the last)
        pos = _ws(text, pos)
        if text[pos] != ":":
            raise _NotForMe()
        pos = _ws(text, pos + 1)
        end = [None]
        if key == "components" and text[pos] == "[":
            found = cyclonedx.component_entries(_elements(text, pos, end), cyclonedx._json_component)
            pos = end[0]
            top[key] = None
        elif key == "dependencies" and text[pos] == "[":
            for _ in _elements(text, pos, end):
                pass
            pos = end[0]
            top[key] = None
        else:
            top[key], pos = _DECODER.raw_decode(text, pos)
        pos = _ws(text, pos)
        if text[pos] == ",":
            pos = _ws(text, pos + 1)
        elif text[pos] == "}":
            break
        else:
            raise _NotForMe()
    if _ws(text, pos + 1) != len(text) or top.get("bomFormat") != "CycloneDX" or found is None:
        raise _NotForMe()
    meta = top.get("metadata") or {}
    subject = meta.get("component") if isinstance(meta, dict) else None
    ref = str(top.get("serialNumber") or name)
    return cyclonedx.finish("cyclonedx", ref, cyclonedx._json_component(subject) if isinstance(subject, dict)
                            else None, *found)
