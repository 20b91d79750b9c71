"""A large CycloneDX or SPDX 2 JSON document read one array element at a time.

json.loads builds the whole tree before a parser sees it: about 5 times the
document's size for an SBOM (dicts and strings), so a 21 MB document peaked
near 180 MB. Above STREAM_ABOVE bytes the top-level object is read key by key
(``JSONDecoder.raw_decode``) and its big arrays element by element:

- CycloneDX: ``components`` is reduced to its entries one top-level component
  at a time (claw_ta.sbom.cyclonedx.component_entries: the same rules and
  order as for a list); ``dependencies`` is decoded and dropped (nothing reads it);
- SPDX 2: each element of ``files``, ``packages`` and ``relationships`` keeps
  only the keys claw_ta.sbom.spdx reads (``SPDX_KEYS``: keep it in step with
  that module; a test compares both ways on every document at hand), then the
  document goes to claw_ta.sbom.spdx as usual.

Every other key is decoded as usual. Anything that is not such a top-level
object, or not well-formed JSON, gives None: the caller parses it the usual
way, with the usual errors.
"""
import json
import re
import sys

from claw_ta.sbom import cyclonedx, spdx
from claw_ta.sbom.model import SbomError
from claw_ta.sbom.subjects import file_digest

STREAM_ABOVE = 4 << 20
_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
_ELEMENT_KEYS = ("SPDXID", "fileName", "checksums", "name", "versionInfo", "externalRefs",
                 "primaryPackagePurpose", "hasFiles", "attributionTexts")
SPDX_KEYS = {"files": _ELEMENT_KEYS, "packages": _ELEMENT_KEYS,
             "relationships": ("spdxElementId", "relationshipType", "relatedSpdxElement", "comment")}


class _NotForMe(Exception):
    """Not a top-level document this reader handles: parse it the usual way."""


def _ws(text, pos):
    return _WS.match(text, pos).end()


def _elements(text, pos, end):
    """Decode the array at ``pos`` element by element; ``end[0]`` is set past its ``]``."""
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


def _scan(text, arrays):
    """The top-level object of ``text`` with each array under a key of ``arrays`` given to
    ``arrays[key](elements)`` as it is decoded (its result stored under the key)."""
    top = {}
    pos = _ws(text, 1)
    if text[pos] == "}":
        raise _NotForMe()
    while True:
        key, pos = _DECODER.raw_decode(text, pos)
        if not isinstance(key, str) or key in top:
            raise _NotForMe()  # not an object key, or a key given twice (json.loads keeps the last)
        pos = _ws(text, pos)
        if text[pos] != ":":
            raise _NotForMe()
        pos = _ws(text, pos + 1)
        if key in arrays and text[pos] == "[":
            end = [None]
            top[key] = arrays[key](_elements(text, pos, end))
            pos = end[0]
        else:
            top[key], pos = _DECODER.raw_decode(text, pos)
        pos = _ws(text, pos)
        if text[pos] == ",":
            pos = _ws(text, pos + 1)
        elif text[pos] == "}":
            break
        else:
            raise _NotForMe()
    if _ws(text, pos + 1) != len(text):
        raise _NotForMe()
    return top


# Keys of a wrapper (DSSE envelope, Sigstore bundle, in-toto link or statement): such an object is
# unwrapped and judged by claw_ta.sbom.parse, never read here.
_WRAPPERS = ("payloadType", "payload", "dsseEnvelope", "mediaType", "signed", "signatures", "_type",
             "predicate", "predicateType", "subject", "Data")


def parse(text, name):
    """The document of JSON ``text`` (str, starting with ``{``), or None (parse it the usual way).

    SbomError for what the usual parse refuses too (depth, count, a component that is no object).
    The document is unsigned (``signature_form`` "", as claw_ta.sbom.parse gives a plain document)."""
    for marker, reader in (('"bomFormat"', _cyclonedx), ('"spdxVersion"', _spdx)):
        if marker in text:
            try:
                doc = reader(text, name)
            except SbomError:
                raise
            except (_NotForMe, ValueError, TypeError, AttributeError, IndexError, KeyError, RecursionError):
                continue
            doc.signature_form = ""
            doc.payload_sha256 = ""
            return doc
    return None


def _check_top(top):
    if any(key in top for key in _WRAPPERS):
        raise _NotForMe()


def _drain(elements):
    for _ in elements:
        pass


def _cyclonedx(text, name):
    top = _scan(text, {"components": lambda elements: cyclonedx.component_entries(
        elements, cyclonedx._json_component), "dependencies": _drain})
    _check_top(top)
    found = top.get("components")
    if top.get("bomFormat") != "CycloneDX" or not isinstance(found, tuple):
        raise _NotForMe()
    meta = top.get("metadata") or {}
    subject = meta.get("component") if isinstance(meta, dict) else None
    ref = str(top.get("serialNumber") or name)
    return cyclonedx.finish("cyclonedx", ref, cyclonedx._json_component(subject) if isinstance(subject, dict)
                            else None, *found)


def _prune(keys):
    def prune(elements):
        return [_pruned(e, keys) if isinstance(e, dict) else e for e in elements]
    return prune


def _pruned(element, keys):
    kept = dict((k, element[k]) for k in keys if k in element)
    checksums = kept.get("checksums")
    if isinstance(checksums, list):  # each {"algorithm", "checksumValue"} as a pair (a dict is 4 times larger)
        pairs = [spdx.ChecksumPair((sys.intern(c["algorithm"]) if isinstance(c.get("algorithm"), str)
                                    else c.get("algorithm"), c.get("checksumValue"))) if isinstance(c, dict) else c
                 for c in checksums]
        sha256 = [p for p in pairs if isinstance(p, spdx.ChecksumPair) and file_digest([p])[0]]
        kept["checksums"] = sha256[:1] or pairs  # a usable SHA-256 is all the readers take then
    return kept


def _spdx(text, name):
    top = _scan(text, dict((key, _prune(keys)) for key, keys in SPDX_KEYS.items()))
    _check_top(top)
    if not str(top.get("spdxVersion", "")).startswith("SPDX-"):
        raise _NotForMe()
    return spdx.parse(top, name)
