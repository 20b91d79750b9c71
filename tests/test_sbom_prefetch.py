"""A chunk's new subjects are read from the SBOM tables in one sorted pass per table, and that
changes no verdict.

``SbomIndex.prefetch`` (called by the record loop with each piece's subject and image
digests) reads the subjects rows, the rows of the platform manifests an image index
names, and the documents' lists with ``SortedTable.prefetch``: keys in order,
neighbouring stretches read with one ``pread``. Checked against the index
that reads each key when asked, on randomized documents with hostile paths,
hand-edited rows and image indexes.
"""
import io
import os
import random

import pytest

from claw_ta.sbom import matcher, sortedcsv
from claw_ta.sbom.index import Tables
from claw_ta.sbom.matcher import SbomIndex
from claw_ta.sbom.model import SbomDocument
from claw_ta.sbom.stream import Annotator, Sink
from tests.test_sbom_list_cache import HOSTILE, documents, hand_edit, sha


def build(tmp_path, rnd, count=60, edit=False, trusted=False):
    docs, subjects = documents(rnd, count)
    if trusted:  # every document decides (documents() gives some an untrusted level, whose lists are never read)
        for doc in docs:
            doc.trust = "channel"
    indexes = []
    for n in range(0, min(len(subjects), 12), 3):  # image indexes naming three platform manifests each
        index_hex = sha("index%d" % n)
        docs.append(SbomDocument("oci-index", "idx:%d" % n, [index_hex], [], children=subjects[n:n + 3],
                                 subject_kinds={index_hex: "index"}))
        indexes.append(index_hex)
    tables = Tables()
    for doc in docs:
        tables.add(doc)
    s_path, l_path = str(tmp_path / "s.csv"), str(tmp_path / "l.csv")
    tables.write(s_path, l_path)
    if edit:
        hand_edit(l_path, str(tmp_path / "eager.csv"))
    return s_path, l_path, subjects + indexes


def loads(rnd, digests, count):
    for _ in range(count):
        subject = "sha256:" + rnd.choice(digests + [sha("unknown")])
        image = rnd.choice(("", "sha256:" + rnd.choice(digests), subject.upper()))
        path = rnd.choice(("/usr/lib/lib%d.so.%d" % (rnd.randint(0, 12), rnd.randint(0, 2)),
                           rnd.choice(HOSTILE), "", "/tmp/evil.so"))
        digest = rnd.choice(("sha256:" + sha("lib%d" % rnd.randint(0, 12)), "", "md5:abc", sha("evil")))
        yield ("library_load", subject, image, path, digest)


@pytest.mark.parametrize("edit,pread", [(False, True), (True, True), (False, False)])
@pytest.mark.parametrize("seed", range(3))
def test_prefetched_tables_decide_as_reads_one_by_one(tmp_path, monkeypatch, seed, edit, pread):
    rnd = random.Random(seed)
    monkeypatch.setattr(matcher, "PREFETCH_MIN", 1)
    monkeypatch.setattr(sortedcsv, "PREFETCH_READ", 2000)  # several reads per table, some keys past a read
    s_path, l_path, digests = build(tmp_path, rnd, edit=edit)
    lazy, eager = SbomIndex.load(s_path, l_path), SbomIndex.load(s_path, l_path)
    if not pread:  # a platform without os.pread: the stretches are searched in the map itself
        for table in (eager._subjects_table, eager._libraries_table):
            os.close(table._fd)
            table._fd = None
    events = list(loads(rnd, digests, 3000))
    for start in range(0, len(events), 250):  # pieces: each prefetched, then decided
        piece = events[start:start + 250]
        eager.prefetch(set(e[1] for e in piece) | set(e[2] for e in piece))
        for event in piece:
            assert eager.decide(*event) == lazy.decide(*event), event
    assert eager.rejected == lazy.rejected


def test_many_keys_are_read_in_one_pass(tmp_path, monkeypatch):
    """Before: one pread per subject and one per document (two table reads per new subject)."""
    rnd = random.Random(5)
    monkeypatch.setattr(matcher, "PREFETCH_MIN", 1)
    s_path, l_path, digests = build(tmp_path, rnd, count=200, trusted=True)
    reads = []
    real = os.pread
    monkeypatch.setattr(sortedcsv.os, "pread", lambda fd, n, at: reads.append(n) or real(fd, n, at))
    index = SbomIndex.load(s_path, l_path)
    chosen = ["sha256:" + d for d in digests[:150]]
    reads.clear()
    index.prefetch(chosen)
    rounds = len(reads)
    assert rounds <= 3  # subjects, the index's platform manifests, the lists: one read each
    for digest in chosen:
        index.decide("library_load", digest, "", "/usr/lib/lib1.so.0", "sha256:" + sha("lib1"))
    assert len(reads) == rounds  # every verdict from what was read
    one_by_one = SbomIndex.load(s_path, l_path)
    reads.clear()
    for digest in chosen:
        one_by_one.decide("library_load", digest, "", "/usr/lib/lib1.so.0", "sha256:" + sha("lib1"))
    assert len(reads) >= 150  # the same verdicts read key by key: at least one read per new subject


def test_a_few_new_subjects_are_left_to_the_reads_one_by_one(tmp_path, monkeypatch):
    s_path, l_path, digests = build(tmp_path, random.Random(6))
    index = SbomIndex.load(s_path, l_path)
    calls = []
    monkeypatch.setattr(index._subjects_table, "prefetch", lambda keys: calls.append(list(keys)))
    index.prefetch(["sha256:" + d for d in digests[:matcher.PREFETCH_MIN - 1]])
    assert calls == []
    index.prefetch(["sha256:" + d for d in digests[:matcher.PREFETCH_MIN]])
    assert len(calls) == 1


def test_the_record_loop_prefetches_each_piece_digests():
    seen = []
    annotator = Annotator(lambda *a: matcher.EMPTY, prefetch=lambda digests: seen.append(set(digests)))
    text = ("event_type,subject_digest,image_digest,library_path,x,__mv_event_type,__mv_subject_digest,"
            "__mv_image_digest,__mv_library_path,__mv_x\n"
            "library_load,sha256:aa,sha256:bb,/lib/a.so,1,,,,,\n"
            "library_load,sha256:cc,,/lib/b.so,2,,,,,\n")
    sink = Sink()
    assert annotator.chunk(io.BytesIO(text.encode()), len(text), sink) == 2
    assert seen == [{"sha256:aa", "sha256:bb", "sha256:cc", ""}]
