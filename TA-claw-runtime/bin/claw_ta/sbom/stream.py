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
import shutil
import tempfile

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


class BoundedReader(io.RawIOBase):
    """The next ``length`` bytes of a binary stream (one chunk's body), read as needed."""

    def __init__(self, raw, length):
        io.RawIOBase.__init__(self)
        self._raw = raw
        self.left = length

    def readable(self):
        return True

    def readinto(self, buffer):
        if self.left <= 0:
            return 0
        data = self._raw.read(min(len(buffer), self.left))
        if not data:
            self.left = 0
            return 0
        buffer[:len(data)] = data
        self.left -= len(data)
        return len(data)

    def drain(self):
        """Skip what was not read, so the next chunk header is where the reader is."""
        while self.left > 0:
            data = self._raw.read(min(self.left, 1 << 20))
            if not data:
                break
            self.left -= len(data)


class Sink(object):
    """Text output gathered as UTF-8 byte blocks of about 1 MB (no buffer doubling).

    Beyond ``spill`` bytes the blocks go to an anonymous temporary file, so a
    50,000-record chunk does not hold its whole output in memory.
    """

    SPILL = 48 * 1024 * 1024

    def __init__(self, spill=None):
        self.blocks = []
        self.length = 0
        self.file = None
        self._spill = self.SPILL if spill is None else spill
        self._parts = []
        self._pending = 0

    def write(self, text):
        self._parts.append(text)
        self._pending += len(text)
        if self._pending > 1 << 20:
            self.flush()

    def flush(self):
        if self._parts:
            block = "".join(self._parts).encode("utf-8")
            self._parts = []
            self._pending = 0
            self.length += len(block)
            if self.file is not None:
                self.file.write(block)
                return
            self.blocks.append(block)
            if self.length > self._spill:
                self.file = tempfile.TemporaryFile()
                for block in self.blocks:
                    self.file.write(block)
                self.blocks = []

    def write_to(self, ofile):
        """Write the whole output (after :meth:`flush`) to the binary stream ``ofile``."""
        for block in self.blocks:
            ofile.write(block)
        if self.file is not None:
            self.file.seek(0)
            shutil.copyfileobj(self.file, ofile, 1 << 20)
            self.file.close()
            self.file = None


def annotate_stream(raw, length, check_values, path_field="library_path", digest_field="library_digest"):
    """(records, Sink with the output CSV) for a chunk body of ``length`` bytes on ``raw``.

    The input is decoded as it is read (never held whole); the output is UTF-8
    CSV in splunklib's dialect.
    """
    bounded = BoundedReader(raw, length)
    text_in = io.TextIOWrapper(io.BufferedReader(bounded, 1 << 20), encoding="utf-8",
                               errors="replace", newline="")
    sink = Sink()
    count = annotate(text_in, check_values, sink, path_field, digest_field)
    sink.flush()
    bounded.drain()
    return count, sink


def _quote(value):
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _terminated(lines, captured):
    """Yield ``lines``, keeping the text of the record being read in ``captured``."""
    for line in lines:
        captured.append(line)
        yield line


def annotate(text, check_values, out, path_field="library_path", digest_field="library_digest"):
    """Read splunkd CSV ``text`` (str or text stream), write each record with the status columns.

    ``check_values(event_type, subject_digest, image_digest, path, digest)`` is
    :meth:`SbomIndex.check_values`; ``out`` has a ``write(str)`` method.
    A well-formed record goes out as the text it came in as, plus the status
    columns (so its other fields are byte-for-byte what splunkd sent); a
    ragged record, or input that already has status columns, is re-written
    with ``csv.writer``. Returns the number of records written.
    """
    if isinstance(text, str):
        text = io.StringIO(text, newline="")
    captured = []
    reader = csv.reader(_terminated(text, captured), dialect=CsvDialect)
    writerow = csv.writer(out, dialect=CsvDialect).writerow
    header = next(reader, None)
    del captured[:]
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
    appended = not any(name in pos for name in STATUS_FIELDS)
    pad = [""] * (len(out_header) - width)
    writerow(out_header)
    inputs = []
    for name in ("event_type", "subject_digest", "image_digest", path_field, digest_field):
        inputs.append((pos.get(name, -1), pos.get("__mv_" + name, -1)))
    (et, et_mv) = inputs[0]
    has_mv = any(mv >= 0 for _, mv in inputs)
    (s0, _), (s1, _), (s2, _), (s3, _) = targets
    blank = ("", "", "", "")
    suffixes = {blank: "," * (2 * len(STATUS_FIELDS)) + "\r\n"}
    write = out.write
    count = 0
    for row in reader:
        record = captured[0] if len(captured) == 1 else "".join(captured)
        del captured[:]
        count += 1
        exact = len(row) == width  # its text can go out as it came in
        etype = row[et] if 0 <= et < len(row) else ""
        if et_mv >= 0 and et_mv < len(row) and row[et_mv]:
            etype = first_value(etype, row[et_mv])
        if etype == "library_load":
            if len(row) < width:
                row.extend([""] * (width - len(row)))
            if has_mv:
                values = [first_value(row[p], row[m] if m >= 0 else "") if p >= 0 else None
                          for p, m in inputs[1:]]
            else:
                values = [row[p] if p >= 0 else None for p, _ in inputs[1:]]
            result = check_values(etype, values[0], values[1], values[2], values[3])
        else:
            result = blank
        if appended and exact:
            suffix = suffixes.get(result)
            if suffix is None:
                suffix = suffixes[result] = "".join("," + _quote(v) + "," for v in result) + "\r\n"
            if record.endswith("\n"):
                record = record[:-2] if record.endswith("\r\n") else record[:-1]
            elif record.endswith("\r"):
                record = record[:-1]
            write(record)
            write(suffix)
            continue
        if len(row) < width:
            row.extend([""] * (width - len(row)))
        elif len(row) > width:
            del row[width:]  # as splunklib does (zip with the header)
        if pad:
            row.extend(pad)
        if result is not blank:
            row[s0], row[s1], row[s2], row[s3] = result
            for m in clear_mv:
                row[m] = ""
        writerow(row)
    return count
