"""Reading SBOM files and texts into documents: the parse entry point.

:func:`parse_text` decides the format from the content (JSON, JSON Lines, XML;
UTF-8 or UTF-16) and hands it to the format's parser; :func:`discover` and
:func:`read_file` find and read SBOM files with the size limit applied first.
"""
import json
import os

from claw_ta.sbom import cyclonedx, intoto, safexml, spdx
from claw_ta.sbom.model import MAX_BYTES, SbomError

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


def _load_json(text):
    try:
        return json.loads(text)
    except RecursionError:
        raise SbomError("JSON nested too deeply to parse")
    except ValueError as error:
        raise SbomError("not valid JSON: %s" % error)


def _parse_json_object(doc, name):
    if not isinstance(doc, dict):
        raise SbomError("JSON document is not an object")
    doc = intoto.unwrap(doc)
    if doc.get("bomFormat") == "CycloneDX":
        return cyclonedx.parse_json(doc, name)
    if str(doc.get("spdxVersion", "")).startswith("SPDX-"):
        return spdx.parse(doc, name)
    if intoto.is_link(doc):
        return intoto.parse_link(doc, name)
    if intoto.is_statement(doc):
        return intoto.parse_statement(doc, name)
    raise SbomError("JSON is neither CycloneDX (bomFormat), SPDX (spdxVersion), "
                    "an in-toto link nor an in-toto statement")


def parse_text(data, name):
    """Documents in ``data`` (bytes or str) named ``name``; raises SbomError with the reason.

    JSON Lines (``*.intoto.jsonl``) give one document per line.
    """
    if isinstance(data, bytes):
        if len(data) > MAX_BYTES:
            raise SbomError("document is over the %d-byte limit (MAX_BYTES)" % MAX_BYTES)
        head = data.lstrip()[:1]
        if head == b"<" or data[:3] == b"\xef\xbb\xbf" and data[3:].lstrip()[:1] == b"<" \
                or data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return [cyclonedx.parse_xml(safexml.parse(data), name)]
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise SbomError("not UTF-8 text: %s" % error)
    elif len(data) > MAX_BYTES:
        raise SbomError("document is over the %d-byte limit (MAX_BYTES)" % MAX_BYTES)
    stripped = data.lstrip("\ufeff \t\r\n")
    if not stripped:
        raise SbomError("empty document")
    if stripped[0] == "<":
        return [cyclonedx.parse_xml(safexml.parse(stripped), name)]
    if stripped[0] not in "{[":
        raise SbomError("neither JSON nor XML")
    try:
        return [_parse_json_object(_load_json(stripped), name)]
    except SbomError as whole:
        lines = [line for line in stripped.splitlines() if line.strip()]
        if len(lines) < 2 or "Extra data" not in str(whole):
            raise
        docs = []
        for number, line in enumerate(lines, 1):
            try:
                docs.append(_parse_json_object(_load_json(line), name))
            except SbomError as error:
                raise SbomError("line %d: %s" % (number, error))
        return docs
