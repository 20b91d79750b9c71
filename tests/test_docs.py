"""The documentation: every page linked from the README, every link resolving inside the
repository, no reference to places outside it, and the detection tables in step with the
definitions they are generated from."""
import glob
import os
import re
import subprocess

from claw_ta_tools.detections import docs_table, generate
from tests import paths

DOCS = os.path.join(paths.REPO, "docs")
README = os.path.join(paths.REPO, "README.md")
PAGES = sorted(glob.glob(os.path.join(DOCS, "*.md")))
LINK = re.compile(r"\]\(([^)\s]+)\)")
# Files of other work in progress that still name issues by number (listed in the hand-over).
OUTSIDE = re.compile(r"/work/|\bissues? #?\d+\b|shared/(?:claw-runtime-log-format|scenario-format)\.md", re.I)


def relative_links(path):
    """(target, resolved path) of every relative link in a Markdown file (anchors dropped)."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    found = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("#"):
            continue
        found.append((target, os.path.normpath(os.path.join(os.path.dirname(path), target.split("#")[0]))))
    return found


def test_every_relative_link_resolves_inside_the_repository():
    broken = []
    for path in [README, os.path.join(paths.SCENARIOS, "README.md")] + PAGES:
        for target, resolved in relative_links(path):
            inside = resolved.startswith(paths.REPO + os.sep)
            if not inside or not os.path.exists(resolved):
                broken.append("%s: %s" % (os.path.relpath(path, paths.REPO), target))
    assert broken == []


def test_the_readme_links_every_docs_page():
    linked = {resolved for _, resolved in relative_links(README)}
    assert [p for p in PAGES if p not in linked] == []
    assert {"scenario-format.md", "log-format.md", "tuning.md"} <= {os.path.basename(p) for p in PAGES}


def _lines():
    """(repository path, line number, line) of the project's own text files."""
    files = subprocess.run(["git", "ls-files", "README.md", "docs", "schemas", "benchmarks", "tests",
                            "scenarios/*.py", "scenarios/README.md", "TA-claw-runtime"],
                           cwd=paths.REPO, capture_output=True, text=True, check=True).stdout.split()
    for rel in files:
        if rel == "tests/test_docs.py" or "/splunklib/" in rel:  # the patterns themselves; third-party code
            continue
        if not rel.endswith((".py", ".md", ".json", ".conf", ".txt", ".spec", ".html")):
            continue
        with open(os.path.join(paths.REPO, rel), encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, 1):
                yield rel, number, line


def test_no_reference_points_outside_the_repository():
    found = ["%s:%d: %s" % (rel, number, line.strip()[:120]) for rel, number, line in _lines()
             if OUTSIDE.search(line)]
    assert found == []


def test_every_docs_page_named_in_code_or_conf_exists():
    found = ["%s:%d: %s" % (rel, number, name) for rel, number, line in _lines()
             for name in re.findall(r"\bdocs/([a-z0-9-]+\.md)\b", line)
             if not os.path.exists(os.path.join(DOCS, name))]
    assert found == []


def test_the_detection_tables_are_generated_from_the_definitions():
    with open(os.path.join(DOCS, "detections.md"), encoding="utf-8") as handle:
        text = handle.read()
    block = generate.current_block(text, docs_table.BEGIN, docs_table.END)
    assert block == docs_table.docs_block(), "docs/detections.md is stale: run python -m claw_ta_tools.detections.generate"
    assert generate.main(["--check"]) == 0
