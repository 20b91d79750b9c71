"""clawsbomcheck's chunk splitting: pieces end between records, in linear time whatever the content.

Measured by operations (bytes scanned, bytes-method calls), never by time.
"""
import hashlib
import io
import random
import sys

from claw_ta.sbom import stream
from claw_ta.sbom.matcher import SbomIndex
from claw_ta.sbom.stream import Annotator

HEADER = "event_type,__mv_event_type,subject_digest,__mv_subject_digest,library_path,__mv_library_path,x,__mv_x\r\n"


def sha(text):
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def newline_body(newlines, records=3):
    """Records whose quoted field holds ``newlines`` line ends (a multivalue of hard-link names)."""
    field = '"' + "\n".join("/x/n%d" % i for i in range(newlines)) + '"'
    record = "library_load,,%s,,/lib/a.so,,%s,\r\n" % (sha("b"), field)
    return (HEADER + record * records).encode()


def bytes_calls(body, piece):
    """Calls of bytes methods (count, rfind, find) made while splitting ``body`` into pieces."""
    calls = [0]

    def profile(frame, event, arg):
        if event == "c_call" and getattr(arg, "__name__", "") in ("count", "rfind", "find"):
            calls[0] += 1
    sys.setprofile(profile)
    try:
        pieces = list(stream._pieces(io.BytesIO(body), len(body), piece=piece))
    finally:
        sys.setprofile(None)
    assert "".join(pieces).encode() == body
    return calls[0]


def test_line_ends_inside_a_quoted_field_cost_nothing_each():
    # The field crosses the piece boundary: each of its line ends used to cost a scan of the piece.
    small = bytes_calls(newline_body(64), piece=2048)
    large = bytes_calls(newline_body(4096), piece=2048)
    blocks = len(newline_body(4096)) // 2048 + 1
    assert large <= small + 8 * blocks, (small, large)


class Counting(bytes):
    """bytes that count how many bytes count()/rfind() look at."""
    scanned = 0

    def count(self, sub, start=0, end=None):
        end = len(self) if end is None else end
        Counting.scanned += max(0, end - start)
        return bytes.count(self, sub, start, end)

    def rfind(self, sub, start=0, end=None):
        end = len(self) if end is None else end
        found = bytes.rfind(self, sub, start, end)
        Counting.scanned += end - max(start, found)
        return found


def test_record_end_scans_each_byte_a_bounded_number_of_times():
    rng = random.Random(17)
    for _ in range(200):
        data = bytes(rng.choice(b'ab,"\n\n""') for _ in range(rng.randrange(0, 3000)))
        for odd in (False, True):
            Counting.scanned = 0
            cut = stream.record_end(Counting(data), odd)
            assert Counting.scanned <= 3 * len(data) + 3
            # the answer: the last line end with an even number of quotes before it
            parity = [odd]
            for byte in data:
                parity.append(parity[-1] ^ (byte == 34))
            expected = max([i for i, b in enumerate(data) if b == 10 and not parity[i]], default=-1)
            assert cut == expected


def test_pieces_of_random_csv_give_the_same_annotation_as_the_whole():
    rng = random.Random(5)
    index = SbomIndex.from_rows([{"subject_digest": sha("b"), "library_path": "/usr/lib/a.so", "sbom_ref": "r"}])
    for _ in range(30):
        records = []
        for _ in range(rng.randrange(1, 40)):
            field = "".join(rng.choice('ab,\n"') for _ in range(rng.randrange(0, 40)))
            records.append('library_load,,%s,,/lib/a.so,,"%s",\r\n' % (sha("b"), field.replace('"', '""')))
        body = (HEADER + "".join(records)).encode()
        whole, pieces = io.StringIO(), io.StringIO()
        Annotator(index.check_values).text(body.decode(), whole)
        piece = rng.randrange(1, 200)
        count = Annotator(index.check_values).text(stream._pieces(io.BytesIO(body), len(body), piece), pieces)
        assert count == len(records) and pieces.getvalue() == whole.getvalue()


def test_a_record_longer_than_many_pieces_is_read_once():
    body = newline_body(20000, records=1)
    calls = bytes_calls(body, piece=512)
    # a bounded number of calls per block read: nothing re-scans what was held
    assert calls <= 6 * (len(body) // 512 + 2)
