"""Reading SBOM files and texts into documents: the parse entry point.

:func:`parse_text` decides the format from the content (JSON, JSON Lines, XML;
UTF-8 or UTF-16) and hands it to the format's parser; :func:`discover` and
:func:`read_file` find and read SBOM files with the size limit applied first.
"""
import json
import os
import re

from claw_ta.sbom import cyclonedx, intoto, jsonstream, ociindex, safexml, spdx, spdx3
from claw_ta.sbom.model import MAX_BYTES, SbomError
from claw_ta.sbom.trust import signature_form

# A UTF-16 surrogate: as a JSON escape (``\ud800``) it decodes to a str that no UTF-8 text can hold.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")

SUFFIXES = (".cdx.json", ".cdx.xml", ".spdx.json", ".link", ".intoto.json", ".intoto.jsonl",
            ".json", ".jsonl", ".xml")


def discover(paths):
    """(files, errors): the SBOM files under ``paths`` (files or folders), sorted per folder."""
    files, errors = [], []
    for path in paths:
        if os.path.isdir(path):
            for dirpath, dirnames, filenames in os.walk(path):
                dirnames.sort()
                for filename in sorted(filenames):
                    if filename.lower().endswith(SUFFIXES):
                        files.append(os.path.join(dirpath, filename))
        elif os.path.isfile(path):
            files.append(path)
        else:
            errors.append((path, "no such file or folder"))
    return files, errors


def read_file(path, max_bytes=MAX_BYTES):
    """Bytes of ``path``, refused (SbomError) beyond ``max_bytes`` before reading."""
    size = os.path.getsize(path)
    if size > max_bytes:
        raise SbomError("file is %d bytes, over the %d-byte limit (MAX_BYTES)" % (size, max_bytes))
    with open(path, "rb") as handle:
        return handle.read(max_bytes + 1)


# Memory: json.loads builds the whole tree first. A document of tiny containers ({} {} {} ..., [] [] ...,
# "a" "a" ...) costs 20 to 50 times its size as Python objects, so the tree is estimated from counts
# first (C speed) and a document whose tree would exceed MEMORY_FACTOR times its size is refused
# before it is built. The model (bytes per token, CPython 64-bit): an object 72 (empty dict and its
# slot), an array 64, a value 8 (its slot), a string value 50 plus its text (keys are shared).
MEMORY_FACTOR = 5
CHECK_ABOVE = 1 << 20  # documents smaller than this cannot matter


def json_tree_estimate(text):
    """Bytes json.loads would allocate for ``text`` (str), by the model above."""
    colons = text.count(":")
    strings = text.count('"') // 2
    return (72 * text.count("{") + 64 * text.count("[") + 8 * text.count(",")
            + 50 * max(0, strings - colons) + len(text))


def _check_json_budget(text):
    if len(text) <= CHECK_ABOVE:
        return
    estimate = json_tree_estimate(text)
    if estimate > MEMORY_FACTOR * len(text):
        raise SbomError("refused before parsing: %d bytes of JSON made of %d objects, %d arrays and %d values "
                        "would take about %d MB in memory, over %d times the document (MEMORY_FACTOR); an SBOM "
                        "of that size is mostly strings" % (len(text), text.count("{"), text.count("["),
                                                            text.count(",") + 1, estimate >> 20, MEMORY_FACTOR))


def xml_tree_estimate(text):
    """Bytes ElementTree would allocate for XML ``text`` (bytes or str): about 150 per element."""
    lt, close, pi, decl = ("<", "</", "<?", "<!") if isinstance(text, str) else (b"<", b"</", b"<?", b"<!")
    return 150 * max(0, text.count(lt) - text.count(close) - text.count(pi) - text.count(decl)) + len(text)


def _parse_xml(text, name):
    if len(text) > CHECK_ABOVE and xml_tree_estimate(text) > MEMORY_FACTOR * len(text):
        raise SbomError("refused before parsing: %d bytes of XML made of about %d elements would take about %d MB "
                        "in memory, over %d times the document (MEMORY_FACTOR)"
                        % (len(text), (xml_tree_estimate(text) - len(text)) // 150, xml_tree_estimate(text) >> 20,
                           MEMORY_FACTOR))
    return [cyclonedx.parse_xml(safexml.parse(text), name)]


def _load_json(text):
    _check_json_budget(text)
    try:
        value = json.loads(text)
    except RecursionError:
        raise SbomError("JSON nested too deeply to parse")
    except ValueError as error:
        raise SbomError("not valid JSON: %s" % error)
    if _SURROGATE_ESCAPE.search(text):  # a pair is one character; a lone one cannot be written out
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as error:
            raise SbomError("a string holds a lone UTF-16 surrogate escape (%s): not valid Unicode"
                            % ascii(error.object[error.start:error.end]))
    return value


def _parse_json_object(doc, name, raw=None):
    if not isinstance(doc, dict):
        raise SbomError("JSON document is not an object")
    try:
        return _dispatch(doc, name, raw)
    except (TypeError, AttributeError) as error:  # a list where an object belongs, and the like
        raise SbomError("a field has the wrong JSON type for its format (%s): not a well-formed SBOM"
                        % error)


def _dispatch(doc, name, raw):
    """The document of a JSON object, with what a trust decision needs (claw_ta.sbom.trust).

    ``signature_form``: the signed form the object came in (``sigstore-bundle``,
    ``dsse``, ``in-toto-link``; "" unsigned), for the in-Splunk rebuild, which
    cannot check signatures (``trust.unverified_level``); ``payload_sha256``:
    the digest of the DSSE payload bytes parsed ("" if none), so a signature
    check can tell the indexed document is the signed one.
    """
    form = signature_form(doc) or ""
    if form == "sigstore-bundle" and not isinstance(doc.get("dsseEnvelope"), dict):
        raise SbomError("a Sigstore bundle without a DSSE envelope (a message signature over a separate "
                        "file): it holds no document; index the signed SBOM file itself")
    doc, payload_sha256 = intoto.unwrap_payload(doc)
    out = _dispatch_unwrapped(doc, name, raw)
    out.signature_form = form
    out.payload_sha256 = payload_sha256
    return out


def _dispatch_unwrapped(doc, name, raw):
    if doc.get("bomFormat") == "CycloneDX":
        return cyclonedx.parse_json(doc, name)
    if str(doc.get("spdxVersion", "")).startswith("SPDX-"):
        return spdx.parse(doc, name)
    if spdx3.is_spdx3(doc):
        return spdx3.parse(doc, name)
    if intoto.is_link(doc):
        return intoto.parse_link(doc, name)
    if intoto.is_statement(doc):
        return intoto.parse_statement(doc, name)
    if ociindex.is_index(doc):
        return ociindex.parse(doc, name, raw)
    if ociindex.is_manifest(doc):
        raise SbomError("an OCI image manifest, not an SBOM: it lists layers, not libraries "
                        "(an image index document links an index digest to its platform manifests)")
    raise SbomError("JSON is neither CycloneDX (bomFormat), SPDX (spdxVersion or an SPDX 3 @context), "
                    "an in-toto link, an in-toto statement nor an OCI image index")


# Why a document of each format names no subject (an SPDX 2 document says so in a warning).
_NO_SUBJECT = {
    "cyclonedx": "metadata.component has no SHA-256 hash, pkg:oci purl, sha256: version "
                 "or Trivy RepoDigest/ImageID",
    "spdx3": "no root element with a sha256 hash or a pkg:oci purl",
    "in-toto-statement": "no statement subject with a sha256 digest",
    "in-toto-link": "no product with a sha256 digest",
}


def _with_subject(doc):
    """``doc``, or SbomError saying why it names no subject digest."""
    if not doc.subjects:
        reason = spdx.NO_SUBJECT if spdx.NO_SUBJECT in doc.warnings else _NO_SUBJECT.get(
            doc.format, "the document names no subject with a sha256 digest")
        raise SbomError("no SHA-256 subject digest (%s: %s); it cannot be tied to any event"
                        % (doc.format, reason))
    return doc


def _utf16(data):
    """The codec of UTF-16 text (with or without a BOM, as PowerShell's ``>`` writes), else None."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    if len(data) >= 2 and data[1:2] == b"\x00" and data[:1] != b"\x00":
        return "utf-16-le"
    if len(data) >= 2 and data[:1] == b"\x00" and data[1:2] != b"\x00":
        return "utf-16-be"
    return None


def decode_text(data):
    """The text of ``data`` (bytes): UTF-8 (BOM or not) or UTF-16 as :func:`_utf16` tells; SbomError if not."""
    codec = _utf16(data)
    try:
        return data.decode(codec or "utf-8-sig")
    except UnicodeDecodeError as error:
        raise SbomError("not %s text: %s" % ("UTF-16" if codec else "UTF-8", error))


def parse_text(data, name):
    """Documents in ``data`` (bytes or str) named ``name``, each with a subject digest.

    SbomError with the reason when the text is no SBOM or a document names no
    subject (the reason says why: e.g. an SPDX document that describes nothing).
    """
    return [_with_subject(doc) for doc in parse_documents(data, name)]


def parse_documents(data, name):
    """Documents in ``data`` (bytes or str), with or without a subject; SbomError if none can be read.

    UTF-8 or UTF-16 (BOM or not), JSON or XML; JSON Lines (``*.intoto.jsonl``)
    give one document per line.
    """
    raw = data if isinstance(data, bytes) else None
    if len(data) > MAX_BYTES:
        raise SbomError("document is over the %d-byte limit (MAX_BYTES)" % MAX_BYTES)
    if raw is not None:
        if _utf16(raw) is None and raw.lstrip()[:1] == b"<" or raw[:3] == b"\xef\xbb\xbf" \
                and raw[3:].lstrip()[:1] == b"<":
            return _parse_xml(raw, name)
        data = decode_text(raw)
    surrogate = _SURROGATE.search(data)
    if surrogate:
        raise SbomError("the text holds a lone UTF-16 surrogate (%s at character %d): not valid Unicode"
                        % (ascii(surrogate.group()), surrogate.start()))
    stripped = data.lstrip("\ufeff \t\r\n")
    if not stripped:
        raise SbomError("empty document")
    if stripped[0] == "<":
        return _parse_xml(stripped, name)
    if stripped[0] not in "{[":
        raise SbomError("neither JSON nor XML")
    if len(stripped) > jsonstream.STREAM_ABOVE and stripped[0] == "{" and not _SURROGATE_ESCAPE.search(stripped):
        _check_json_budget(stripped)
        doc = jsonstream.parse(stripped, name)  # a large CycloneDX or SPDX document without its whole tree
        if doc is not None:
            return [doc]
    try:
        value = _load_json(stripped)
    except SbomError as whole:
        lines = [line for line in stripped.splitlines() if line.strip()]
        if len(lines) < 2 or "Extra data" not in str(whole):
            raise
        docs = []
        for number, line in enumerate(lines, 1):
            try:
                docs.append(_parse_json_object(_load_json(line), name, line.encode("utf-8")))
            except SbomError as error:
                raise SbomError("line %d: %s" % (number, error))
        return docs
    raw = raw if raw is not None else data.encode("utf-8")
    del data, stripped  # the text is parsed: only the tree and the bytes are needed now
    return [_parse_json_object(value, name, raw)]
