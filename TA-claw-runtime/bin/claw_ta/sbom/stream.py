"""The record loop of ``| clawsbomcheck`` over splunkd's CSV, without per-record dicts.

splunkd sends each chunk as CSV with a ``__mv_<field>`` twin column per field.
A plain splunklib command turns every row into an OrderedDict (decoding every
multivalue) and writes it back field by field in Python; that is most of its
cost. Here the row is read with ``csv.reader``, only the five fields the
matcher needs are looked at, and the row goes out unchanged (its ``__mv_``
columns verbatim) with the status columns set: the same bytes splunklib's
record writer would produce for those values, in the same column order.
"""
import csv
import io
import re

from claw_ta.sbom.matcher import STATUS_FIELDS

# Splunk sends fields larger than csv's default 128 KiB limit; never fail on them.
csv.field_size_limit(2 ** 31 - 1)

_MV_VALUE = re.compile(r"\$((?:\$\$|[^$])*)\$(?:;|$)")


def first_value(plain, mv):
    """The first value of a field: ``mv`` is its ``__mv_`` twin (``$a$;$b$``) or ""."""
    if mv:
        match = _MV_VALUE.match(mv)
        if match:
            return match.group(1).replace("$$", "$")
    return plain


class CsvDialect(csv.Dialect):
    """splunklib's CsvDialect (internals.CsvDialect), repeated to stay splunklib-free."""
    delimiter = ","
    quotechar = '"'
    doublequote = True
    skipinitialspace = False
    lineterminator = "\r\n"
    quoting = csv.QUOTE_MINIMAL


def annotate(text, check_values, writerow, path_field="library_path", digest_field="library_digest"):
    """Read splunkd CSV ``text``, write each row with the status columns; return the row count.

    ``check_values(event_type, subject_digest, image_digest, path, digest)`` is
    :meth:`SbomIndex.check_values`; ``writerow`` a ``csv.writer(...).writerow``.
    """
    reader = csv.reader(io.StringIO(text, newline=""), dialect=CsvDialect)
    header = next(reader, None)
    if not header:
        return 0
    width = len(header)
    pos = {}
    for i, name in enumerate(header):
        pos.setdefault(name, i)
    out_header = list(header)
    targets = []
    clear_mv = []  # __mv_ twins of status columns the input already had
    for name in STATUS_FIELDS:
        if name in pos:
            targets.append((pos[name], pos.get("__mv_" + name, -1)))
            if targets[-1][1] >= 0:
                clear_mv.append(targets[-1][1])
        else:
            out_header.extend((name, "__mv_" + name))
            targets.append((len(out_header) - 2, len(out_header) - 1))
    pad = [""] * (len(out_header) - width)
    writerow(out_header)
    inputs = []
    for name in ("event_type", "subject_digest", "image_digest", path_field, digest_field):
        inputs.append((pos.get(name, -1), pos.get("__mv_" + name, -1)))
    (et, et_mv), (sd, sd_mv), (im, im_mv), (lp, lp_mv), (ld, ld_mv) = inputs
    has_mv = any(mv >= 0 for _, mv in inputs)
    (s0, _), (s1, _), (s2, _), (s3, _) = targets
    count = 0
    for row in reader:
        if len(row) < width:
            row.extend([""] * (width - len(row)))
        if pad:
            row.extend(pad)
        etype = row[et] if et >= 0 else ""
        if et_mv >= 0 and row[et_mv]:
            etype = first_value(etype, row[et_mv])
        if etype == "library_load":
            if has_mv:
                values = [first_value(row[p], row[m] if m >= 0 else "") if p >= 0 else None
                          for p, m in inputs[1:]]
            else:
                values = [row[p] if p >= 0 else None for p, _ in inputs[1:]]
            row[s0], row[s1], row[s2], row[s3] = check_values(
                etype, values[0], values[1], values[2], values[3])
            for m in clear_mv:
                row[m] = ""
        writerow(row)
        count += 1
    return count
