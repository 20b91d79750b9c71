"""Where code goes: the app's runtime package, the tools package, tests, benchmarks, scenario data.

- scenarios/ holds data only (the generators are claw_ta_tools.scenarios);
- benchmarks import nothing from tests/ (the emulators they drive are claw_ta_tools.emulators);
- one conf reader (claw_ta.conffile): no other module parses .conf files.
"""
import ast
import os
import re

from tests import paths

OWN_PYTHON_ROOTS = ("TA-claw-runtime/bin", "tools", "tests", "benchmarks")


def python_files(*roots):
    for root in roots:
        for folder, dirs, files in os.walk(os.path.join(paths.REPO, root)):
            dirs[:] = [d for d in dirs if d not in ("__pycache__", "splunklib", "sdk")]
            for name in files:
                if name.endswith(".py"):
                    yield os.path.join(folder, name)


def imports(path):
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_scenarios_folder_holds_data_only():
    top = [n for n in os.listdir(paths.SCENARIOS) if os.path.isfile(os.path.join(paths.SCENARIOS, n))]
    assert top == ["README.md"]
    code = [p for p in paths_under(paths.SCENARIOS) if p.endswith(".py")]
    assert code == []


def paths_under(root):
    for folder, _dirs, files in os.walk(root):
        for name in files:
            yield os.path.join(folder, name)


def test_benchmarks_import_nothing_from_tests():
    found = [(os.path.basename(p), m) for p in python_files("benchmarks") for m in imports(p)
             if m == "tests" or m.startswith("tests.")]
    assert found == []


def test_the_tools_and_the_app_import_nothing_from_tests_or_benchmarks():
    found = [(os.path.relpath(p, paths.REPO), m) for p in python_files("TA-claw-runtime/bin", "tools")
             for m in imports(p) if m.split(".")[0] in ("tests", "benchmarks")]
    assert found == []


def test_the_app_does_not_import_the_tools():
    found = [(os.path.relpath(p, paths.REPO), m) for p in python_files("TA-claw-runtime/bin")
             for m in imports(p) if m.split(".")[0] == "claw_ta_tools"]
    assert found == []


CONF_PARSING = re.compile(r"configparser|startswith\(\s*['\"]\\?\[['\"]\s*\)")


def test_one_conf_reader():
    """Only claw_ta/conffile.py parses .conf files (stanza lines); everything else calls it."""
    readers = []
    for path in list(python_files(*OWN_PYTHON_ROOTS)) + [os.path.join(paths.REPO, "setup.py")]:
        rel = os.path.relpath(path, paths.REPO)
        if rel in ("TA-claw-runtime/bin/claw_ta/conffile.py", "tests/test_layout.py"):
            continue
        with open(path, encoding="utf-8") as handle:
            if CONF_PARSING.search(handle.read()):
                readers.append(rel)
    assert readers == []


def test_the_conf_pattern_finds_a_hand_written_reader():
    assert CONF_PARSING.search('        if line.startswith("["):')
    assert CONF_PARSING.search("import configparser")
