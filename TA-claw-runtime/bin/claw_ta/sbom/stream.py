"""The record loop of ``| clawsbomcheck`` over splunkd's CSV, without per-record dicts.

splunkd sends each chunk as CSV with a ``__mv_<field>`` twin column per field.
A plain splunklib command turns every row into an OrderedDict (decoding every
multivalue) and writes it back field by field in Python; that is most of its
cost. Here the body is cut into pieces of whole records (a line end outside
quotes), each piece is parsed with ``csv.reader`` over its list of lines (no
Python code per line), only the fields the matcher needs are looked at, and a
well-formed record goes out as the text it came in as plus the status
columns: the same bytes splunklib's record writer would produce for those
values, in the same column order. Verdicts are cached per key as the text
appended to the record (two generations: hot keys survive a turnover).
"""
import csv
import gc
import io
import re
import shutil
import tempfile

from claw_ta.sbom.matcher import EMPTY as EMPTY_STATUS, STATUS_FIELDS

# Splunk sends fields larger than csv's default 128 KiB limit; never fail on them.
csv.field_size_limit(2 ** 31 - 1)

_SPECIAL = re.compile(r'[,"\r\n]').search  # a CSV field that must be quoted
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
                try:
                    self.file = tempfile.TemporaryFile()
                except OSError:  # no writable temporary folder: keep the blocks in memory
                    self._spill = float("inf")
                    return
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


PIECE = 4 << 20        # bytes of body parsed at a time (whole records)
CACHE_SIZE = 50000     # suffixes per generation


def all_values(plain, mv):
    """Every value of a field: ``mv`` is its ``__mv_`` twin (``$a$;$b$``) or ""."""
    if mv:
        values = [m.group(1).replace("$$", "$") for m in _MV_VALUE.finditer(mv)]
        if values:
            return values
    return plain


def _pieces(raw, length, piece=PIECE):
    """Decoded text of a chunk body of ``length`` bytes, in pieces that end between records.

    Linear in ``length`` whatever the content: every byte read is scanned for
    quotes and line ends once (:func:`record_end` over each block as it is
    read; the quote parity of the bytes held is carried, not recounted), and a
    record longer than ``piece`` is held as a list of blocks joined once.
    """
    left = length
    held, odd = [], False  # blocks read since the last record end; an odd number of quotes in them
    while left > 0:
        data = raw.read(min(piece, left))
        if not data:
            break
        left -= len(data)
        if left <= 0:
            held.append(data)
            break
        cut = record_end(data, odd)
        if cut < 0:
            held.append(data)
            odd ^= data.count(b'"') % 2 == 1
            continue
        held.append(data[:cut + 1])
        yield b"".join(held).decode("utf-8", "replace")
        rest = data[cut + 1:]
        held, odd = [rest], rest.count(b'"') % 2 == 1
    text = b"".join(held)
    if text:
        yield text.decode("utf-8", "replace")


def record_end(data, odd=False):
    """Index of the last line end of ``data`` outside a quoted field, or -1.

    ``odd``: the text before ``data`` left a quoted field open. Walks back from
    the end over disjoint stretches (each byte counted once): a line end inside
    quotes sends the search to the quote that opened the field, so the line
    ends inside a quoted field cost nothing each.
    """
    before = data.count(b'"') + (1 if odd else 0)  # quotes before ``end``
    end = len(data)
    cut = data.rfind(b"\n")
    while cut >= 0:
        before -= data.count(b'"', cut, end)
        end = cut
        if before % 2 == 0:
            return cut
        opening = data.rfind(b'"', 0, cut)
        if opening < 0:
            return -1  # the field was opened before ``data``
        before -= data.count(b'"', opening, end)
        end = opening
        cut = data.rfind(b"\n", 0, opening)
    return -1


class Annotator(object):
    """The record loop for one command run (its header handling and verdict cache).

    ``check_values(event_type, subject_digest, image_digest, path, digest)`` is
    :meth:`SbomIndex.check_values` (path/digest lists for multivalues);
    ``decide`` the same for single values without a cache of its own
    (:meth:`SbomIndex.decide`: this loop caches), by default ``check_values``.
    ``nuls`` counts the records whose NUL bytes were replaced (Python 3.9's
    csv refuses them). ``prefetch(digests)`` (:meth:`SbomIndex.prefetch`), if
    given, gets each piece's subject and image digests before its records are
    decided, so that the tables are read once for all the subjects it names.
    """

    def __init__(self, check_values, path_field="library_path", digest_field="library_digest", decide=None,
                 platform_field="claw_node_platform", prefetch=None):
        self.check = check_values
        self.decide = decide or check_values
        self.prefetch = prefetch
        self.fields = ("event_type", "subject_digest", "image_digest", path_field, digest_field, platform_field)
        self.nuls = 0
        self._hot = {}
        self._cold = {}
        self._suffixes = {}  # verdict -> the text appended to a record (few distinct verdicts)

    def chunk(self, raw, length, out):
        """Annotate one chunk body of ``length`` bytes read from ``raw``; returns the record count."""
        return self.text(_pieces(raw, length), out)

    def text(self, pieces, out):
        """Annotate CSV ``pieces`` (str, or an iterable of str holding whole records)."""
        if isinstance(pieces, str):
            pieces = [pieces]
        # No reference cycles are made here; the cyclic GC would only rescan
        # the index and caches (millions of objects) at every threshold.
        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._text(pieces, out)
        finally:
            if enabled:
                gc.enable()

    def _text(self, pieces, out):
        state = None
        count = 0
        for text in pieces:
            if "\0" in text:
                self.nuls += sum(1 for line in text.splitlines() if "\0" in line)
                text = text.replace("\0", "\ufffd")
            lines = io.StringIO(text, newline="").readlines()
            if state is None:
                if not lines:
                    continue
                header = next(csv.reader([lines[0]], dialect=CsvDialect), [])
                if not header:
                    return 0
                state = _Header(header, self.fields)
                out.write(state.out_line)
                lines = lines[1:]
            count += self._records(lines, state, out)
        return count

    def _records(self, lines, state, out):
        reader = csv.reader(lines, dialect=CsvDialect)
        rewritten = io.StringIO()  # the general path's csv.writer output, one row at a time
        writerow = csv.writer(rewritten, dialect=CsvDialect).writerow
        parts = []
        write = parts.append  # one str.join and one out.write per piece, no call per record
        width, et, et_mv, a, b, c, d = state.width, state.et, state.et_mv, state.a, state.b, state.c, state.d
        mv = state.mv
        p = state.p  # the node's platform, when the chunk has the field (else -1)
        fast = state.appended
        spare = state.spare
        blank = state.blank
        hot, cold = self._hot, self._cold
        suffixes = self._suffixes
        check, decide = self.check, self.decide
        done = 0
        count = 0
        # The rows with the line each ends on (zip reads the row, then the reader's line count).
        rows = list(zip(reader, iter(lambda: reader.line_num, None)))
        if self.prefetch is not None and rows:
            at = [i for i in (a, b) if i < width]  # subject_digest, image_digest
            self.prefetch(set(row[i] for row, _ in rows if len(row) >= width for i in at))
        for row, end in rows:
            count += 1
            record = lines[done] if end == done + 1 else "".join(lines[done:end])
            done = end
            exact = len(row) == width
            if exact and fast:
                if record[-1:] == "\n":  # the record's own text, without its line end
                    record = record[:-2] if record[-2:-1] == "\r" else record[:-1]
                if spare:
                    row.append("")  # the spare column missing fields are read from
                if row[et] != "library_load" and (et_mv < 0 or not row[et_mv]):
                    write(record + blank)
                    continue
                if mv is None or not (row[mv[0]] or row[mv[1]] or row[mv[2]] or row[mv[3]] or row[mv[4]]):
                    key = (row[a], row[b], row[c], row[d]) if p < 0 else (row[a], row[b], row[c], row[d], row[p])
                    suffix = hot.get(key)
                    if suffix is None:
                        suffix = cold.get(key)
                        if suffix is None:
                            result = decide(row[et], *key)
                            suffix = suffixes.get(result)
                            if suffix is None:
                                if len(suffixes) >= CACHE_SIZE:
                                    suffixes.clear()
                                suffix = suffixes[result] = _suffix(result)
                        if len(hot) >= CACHE_SIZE:
                            self._cold = cold = hot
                            self._hot = hot = {}
                        hot[key] = suffix
                    write(record + suffix)
                    continue
            result = state.check_row(row, check)
            if fast and exact:
                write(record + _suffix(result))
                continue
            writerow(state.rewrite(row, result))
            write(rewritten.getvalue())
            rewritten.seek(0)
            rewritten.truncate()
        out.write("".join(parts))
        return count


def _suffix(result):
    """The status columns and their empty __mv_ twins: ``,v1,,v2,,v3,,v4,\\r\\n``."""
    return "," + ",,".join(map(_quote, result)) + ",\r\n"


class _Header(object):
    """Where the fields are in one chunk's columns, and the output header."""

    def __init__(self, header, fields):
        self.width = len(header)
        pos = {}
        for i, name in enumerate(header):
            pos.setdefault(name, i)
        out_header = list(header)
        self.targets, self.clear_mv = [], []
        for name in STATUS_FIELDS:
            if name in pos:
                self.targets.append(pos[name])
                if pos.get("__mv_" + name, -1) >= 0:
                    self.clear_mv.append(pos["__mv_" + name])
            else:
                out_header.extend((name, "__mv_" + name))
                self.targets.append(len(out_header) - 2)
        self.appended = not any(name in pos for name in STATUS_FIELDS)
        self.pad = [""] * (len(out_header) - self.width)
        out = io.StringIO()
        csv.writer(out, dialect=CsvDialect).writerow(out_header)
        self.out_line = out.getvalue()
        self.blank = _suffix(EMPTY_STATUS)
        # Missing fields read from a spare column holding "" (index width); the node's platform,
        # optional, only where the chunk has it (no spare column, no key element otherwise).
        self.p = pos.get(fields[5], -1)
        self.inputs = [(pos.get(n, self.width), pos.get("__mv_" + n, -1)) for n in fields[:5]]
        self.platform = (self.p, pos.get("__mv_" + fields[5], -1))
        (self.et, self.et_mv), (self.a, _), (self.b, _), (self.c, _), (self.d, _) = self.inputs
        mvs = [m for _, m in self.inputs]
        self.mv = tuple(m if m >= 0 else self.width for m in mvs) if any(m >= 0 for m in mvs) else None
        self.spare = self.width in (self.et, self.a, self.b, self.c, self.d) + (self.mv or ())

    def check_row(self, row, check):
        """The status of a row of any shape (short rows padded, multivalues expanded)."""
        values = []
        for p, m in self.inputs:
            plain = row[p] if p < len(row) else ""
            values.append(all_values(plain, row[m] if 0 <= m < len(row) else ""))
        etype = values[0][0] if isinstance(values[0], list) else values[0]
        if etype != "library_load":
            return EMPTY_STATUS
        first = [v[0] if isinstance(v, list) else v for v in values[1:3]]
        p, m = self.platform
        platform = "" if p < 0 or p >= len(row) else first_value(row[p], row[m] if 0 <= m < len(row) else "")
        return check(etype, first[0], first[1], values[3], values[4], platform)

    def rewrite(self, row, result):
        if len(row) < self.width:
            row.extend([""] * (self.width - len(row)))
        elif len(row) > self.width:
            del row[self.width:]  # as splunklib does (zip with the header)
        row.extend(self.pad)
        if result is not EMPTY_STATUS:
            for at, value in zip(self.targets, result):
                row[at] = value
            for m in self.clear_mv:
                row[m] = ""
        return row


def _quote(value):
    if _SPECIAL(value):
        return '"' + value.replace('"', '""') + '"'
    return value


def annotate(text, check_values, out, path_field="library_path", digest_field="library_digest"):
    """Annotate splunkd CSV ``text`` (str) into ``out`` (has ``write(str)``); returns the record count."""
    return Annotator(check_values, path_field, digest_field).text(text, out)
