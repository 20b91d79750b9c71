"""splunkd's CSV dialect for SCP v2 chunk bodies (see tools/claw_ta_tools/emulators/scp_driver.py, which re-exports these).

Plain columns first, then one ``__mv_<field>`` twin per column; lines end
with ``\\n``; a value (or column name) with a character outside
``[A-Za-z0-9]`` is quoted, an empty one is not; ``_chunked_idx`` is the last
plain column when splunkd sends it. Sources: the docstring of tools/claw_ta_tools/emulators/scp_driver.py.
"""
import csv
import io
import re

CHUNKED_IDX = "_chunked_idx"
_PLAIN = re.compile(r"[A-Za-z0-9]*\Z")


def _mv_encode(values):
    return ";".join("$" + str(v).replace("$", "$$") + "$" for v in values)


def quote_value(text):
    """A CSV cell as splunkd writes it: quoted unless it is empty or only [A-Za-z0-9]."""
    if _PLAIN.match(text):
        return text
    return '"' + text.replace('"', '""') + '"'


def header_line(fieldnames):
    """The header splunkd sends for ``fieldnames``: plain columns, then every ``__mv_`` twin."""
    names = list(fieldnames) + ["__mv_" + name for name in fieldnames]
    return ",".join(quote_value(name) for name in names) + "\n"


def field_order(records):
    fieldnames, seen = [], set()
    for rec in records:
        for key in rec:
            if key not in seen:
                seen.add(key)
                fieldnames.append(key)
    return fieldnames


def records_to_csv(records, fieldnames=None, chunked_idx=False, header_only=None):
    """CSV body as splunkd sends it (see the module docstring).

    ``chunked_idx``: add ``_chunked_idx`` (0, 1, ...) as the last plain column.
    ``header_only``: the column names to send when ``records`` is empty (a
    header-only chunk); without them an empty record list is an empty body.
    """
    if not records:
        if not header_only:
            return b""
        return header_line(header_only).encode("utf-8")
    if fieldnames is None:
        fieldnames = field_order(records)
    fieldnames = [f for f in fieldnames if f != CHUNKED_IDX] + ([CHUNKED_IDX] if chunked_idx else [])
    lines = [header_line(fieldnames)]
    for i, rec in enumerate(records):
        plain, multi = [], []
        for name in fieldnames:
            value = i if name == CHUNKED_IDX else rec.get(name)
            if value is None:
                plain.append("")
                multi.append("")
            elif isinstance(value, (list, tuple)):
                if len(value) == 1:
                    plain.append(quote_value(str(value[0])))
                    multi.append("")
                else:
                    plain.append(quote_value("\n".join(str(v) for v in value)))
                    multi.append(quote_value(_mv_encode(value)))
            else:
                plain.append(quote_value(str(value)))
                multi.append("")
        lines.append(",".join(plain + multi) + "\n")
    return "".join(lines).encode("utf-8")


def _decode_mv(text):
    values = []
    i = 0
    while i < len(text):
        if text[i] != "$":
            raise ValueError("bad multivalue encoding: %r" % text)
        j = i + 1
        buf = []
        while True:
            if text[j] == "$":
                if j + 1 < len(text) and text[j + 1] == "$":
                    buf.append("$")
                    j += 2
                    continue
                break
            buf.append(text[j])
            j += 1
        values.append("".join(buf))
        i = j + 2  # skip closing $ and ;
    return values


def csv_to_records(body):
    """Records from a CSV body the command wrote, multivalues decoded to lists."""
    if not body:
        return []
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        return []
    records = []
    for row in reader:
        rec = {}
        for name, value in zip(header, row):
            if name.startswith("__mv_"):
                if value:
                    rec[name[5:]] = _decode_mv(value)
            elif name not in rec and value != "":
                rec[name] = value
        records.append(rec)
    return records
