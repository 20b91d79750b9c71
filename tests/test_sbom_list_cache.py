"""The command's per-document list cache (lines copied out of the sorted table, searched with
bytes.find, dropped past LIST_BYTES) decides exactly as the lists read whole into sets (the
replay's path), on randomized documents, hostile paths and multivalue loads."""
import hashlib
import random

import pytest

from claw_ta.sbom import matcher
from claw_ta.sbom.index import Tables
from claw_ta.sbom.matcher import SbomIndex
from claw_ta.sbom.model import Entry, SbomDocument

HOSTILE = ("/usr/lib/a,b.so", '/usr/lib/q"uote.so', "/lib/../etc/x.so", "memfd:evil (deleted)",
           "/proc/self/fd/3", " /usr/lib/sp.so", "[vdso]", "usr/lib//x.so", "/lib64/./y.so",
           "/var/lib/docker/overlay2/abc/merged/usr/lib/z.so", "/usr/lib/libc.musl-x86_64.so.1")


def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def documents(rnd, count):
    docs, subjects = [], []
    for s in range(count):
        entries = []
        for i in range(rnd.randint(1, 12)):
            path = rnd.choice(("/usr/lib/lib%d.so.%d" % (i, s % 3), rnd.choice(HOSTILE), ""))
            digest = rnd.choice((sha("lib%d" % i), sha("lib%d" % i).upper(), ""))
            name = rnd.choice(("", "libssl3", "sha256:" + sha("lib%d" % i), "zlib1g"))
            entries.append(Entry(path, digest, name))
        subject = sha("subject%d" % s)
        docs.append(SbomDocument("cyclonedx", "urn:%d" % s, [subject], entries,
                                 subject_kinds={subject: "manifest"}))
        subjects.append(subject)
    return docs, subjects


@pytest.mark.parametrize("seed", range(4))
def test_list_cache_and_sets_decide_alike(tmp_path, monkeypatch, seed):
    rnd = random.Random(seed)
    docs, subjects = documents(rnd, 40)
    tables = Tables()
    for doc in docs:
        tables.add(doc)
    s_path, l_path = str(tmp_path / "s.csv"), str(tmp_path / "l.csv")
    tables.write(s_path, l_path)
    monkeypatch.setattr(matcher, "LIST_BYTES", 600)  # lists dropped and read again many times
    in_place = SbomIndex.load(s_path, l_path)
    in_memory = SbomIndex.from_documents(docs)
    assert in_place.eager_reasons == []
    dropped = []
    drop = in_place._drop_lists
    monkeypatch.setattr(in_place, "_drop_lists", lambda: dropped.append(1) or drop())
    for _ in range(3000):
        subject = "sha256:" + rnd.choice(subjects + [sha("unknown")])
        paths = [rnd.choice(("/usr/lib/lib%d.so.%d" % (rnd.randint(0, 12), rnd.randint(0, 2)),
                             rnd.choice(HOSTILE), "", "/tmp/evil.so")) for _ in range(rnd.choice((1, 1, 2)))]
        digests = [rnd.choice(("sha256:" + sha("lib%d" % rnd.randint(0, 12)), "", "md5:abc",
                               sha("evil"))) for _ in paths]
        if len(paths) == 1:
            paths, digests = paths[0], digests[0]
        args = ("library_load", "", subject, paths, digests)
        assert in_place.check_values(*args) == in_memory.check_values(*args), args
    assert dropped  # the bound was reached: reloaded lists decide the same
