"""One index story: the runtime events go to `claw`, the SBOM documents to `claw_sbom`.

The `claw_runtime_index` macro default, the example inputs.conf, the Fluent Bit
output, the HEC token examples and every docs page name the same runtime index,
so that a site following any page gets data its searches read.
"""
import glob
import os
import re

from claw_ta import conffile as conf
from tests import paths

RUNTIME_INDEX, SBOM_INDEX = "claw", "claw_sbom"
# index=X, index = X, indexes=X, Event_Index X, "index": "X" (the mentions the pages make)
MENTION = re.compile(r'(?:\bindex(?:es)?\s*=\s*|\bEvent_Index\s+|"index"\s*:\s*")([A-Za-z0-9_$*-]+)')


def _texts():
    files = glob.glob(os.path.join(paths.REPO, "docs", "*.md")) + [os.path.join(paths.REPO, "README.md")]
    files += glob.glob(os.path.join(paths.APP, "README", "**", "*"), recursive=True)
    files += glob.glob(os.path.join(paths.APP_DEFAULT, "*.conf")) + [os.path.join(paths.APP, "README.txt")]
    for path in sorted(files):
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as handle:
                yield os.path.relpath(path, paths.REPO), handle.read()


def test_the_macros_name_the_two_indexes():
    macros = conf.app_conf("macros")
    assert macros["claw_runtime_index"]["definition"].strip() == "index=%s sourcetype=claw:runtime" % RUNTIME_INDEX
    assert macros["claw_sbom_index"]["definition"].strip() == SBOM_INDEX  # the dedicated (trusted) SBOM index
    # The rebuild reads the dedicated index (by name or through claw_sbom_index), and at most the
    # places documents get posted to by mistake (the runtime index, main), as untrusted (docs/sbom.md).
    rebuild = macros["claw_runtime_sbom_index"]["definition"].strip()
    assert ("index=`claw_sbom_index`" in rebuild or "index=%s " % SBOM_INDEX in rebuild) \
        and rebuild.endswith("sourcetype=claw:sbom")
    assert set(re.findall(r"index=(\w+)", rebuild)) <= {SBOM_INDEX, RUNTIME_INDEX, "main"}


def test_example_inputs_and_fluent_bit_write_to_the_runtime_index():
    inputs = conf.app_conf("inputs")
    assert inputs and {stanza["index"] for stanza in inputs.values()} == {RUNTIME_INDEX}
    with open(os.path.join(paths.APP, "README", "fluent-bit", "fluent-bit.conf"), encoding="utf-8") as handle:
        assert re.findall(r"Event_Index\s+(\S+)", handle.read()) == [RUNTIME_INDEX]


def test_every_page_names_the_same_indexes():
    seen = {}
    for name, text in _texts():
        for line in text.splitlines():
            for index in MENTION.findall(line):
                if index in ("summary", "_internal", "*"):  # the risk summary, Splunk's own logs, index=* (lint)
                    continue
                if "[indexAndForward]" in line:  # outputs.conf's index = true/false, not an index name
                    continue
                if "sourcetype=" in line and "claw:" not in line:  # another product's data (an EDR example)
                    continue
                if "`claw_sbom_index`" in line:  # the rebuild's read list: the dedicated index and the
                    continue                     # mistaken places (test_the_macros_name_the_two_indexes)
                expected = SBOM_INDEX if "claw:sbom" in line or "sbom" in index else RUNTIME_INDEX
                assert index == expected, "%s: %r names index %s, not %s" % (name, line.strip(), index, expected)
                seen[index] = seen.get(index, 0) + 1
    assert seen.get(RUNTIME_INDEX, 0) >= 5 and seen.get(SBOM_INDEX, 0) >= 2, seen
