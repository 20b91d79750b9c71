"""Safe XML parsing with the standard library only.

A document type declaration is refused before the parser sees the text: with
no DTD there are no entities, so neither external entities (XXE) nor entity
expansion bombs (billion laughs) can exist. Depth and element count are
bounded while parsing, before the tree is complete.
"""
import codecs
import re
import xml.etree.ElementTree as ET

from claw_ta.sbom.model import MAX_DEPTH, MAX_XML_ELEMENTS, SbomError

_DECLARATION = re.compile(r"<!\s*(DOCTYPE|ENTITY|ELEMENT|ATTLIST)", re.I)
_ENCODING = re.compile(br"^<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)[\"']")


def decode(data):
    """Text of an XML document from bytes, honouring a BOM or the declared encoding."""
    if isinstance(data, str):
        return data
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                      (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            return data.decode(name)
    match = _ENCODING.match(data.lstrip()[:200])
    encoding = match.group(1).decode("ascii") if match else "utf-8"
    try:
        return data.decode(encoding)
    except (LookupError, UnicodeDecodeError) as error:
        raise SbomError("XML is not valid %s: %s" % (encoding, error))


def parse(data, max_depth=MAX_DEPTH, max_elements=MAX_XML_ELEMENTS):
    """Root element of ``data`` (bytes or str), namespaces stripped from tags."""
    text = decode(data)
    found = _DECLARATION.search(text)
    if found:
        raise SbomError("XML with a <!%s> declaration refused (entities are never expanded "
                        "or resolved)" % found.group(1).upper())
    parser = ET.XMLPullParser(events=("start", "end"))
    depth = 0
    count = 0
    root = None
    step = 1 << 20
    try:
        for offset in range(0, len(text), step):
            parser.feed(text[offset:offset + step])
            for event, elem in parser.read_events():
                if event == "start":
                    depth += 1
                    count += 1
                    if root is None:
                        root = elem
                    if depth > max_depth:
                        raise SbomError("XML nested deeper than %d elements (limit MAX_DEPTH)" % max_depth)
                    if count > max_elements:
                        raise SbomError("XML has more than %d elements (limit)" % max_elements)
                else:
                    depth -= 1
                    tag = elem.tag
                    if tag[:1] == "{":
                        elem.tag = tag[tag.index("}") + 1:]
        parser.close()
    except ET.ParseError as error:
        raise SbomError("not well-formed XML: %s" % error)
    if root is None:
        raise SbomError("empty XML document")
    return root
