"""The tarball holds only what Splunk uses: code reachable from an entry point, conf files Splunk reads.

- Python: every ``.py`` under ``bin/`` is a script named by commands.conf
  (``filename``), alert_actions.conf (a custom alert action runs
  ``bin/<stanza>.py`` unless ``alert.execute.cmd`` says otherwise) or
  restmap.conf (``script``), or a module such a script imports, directly or
  through other modules (found from the import statements), or part of
  splunklib (third-party, installed whole from app-requirements.txt into
  ``bin/sdk/<python>/``, one copy per Splunk Python: claw_ta/sdk.py).
  https://dev.splunk.com/enterprise/docs/devtools/customsearchcommands/customsearchcommandsonsplunkcloud
  (commands.conf ``filename``), https://dev.splunk.com/enterprise/docs/devtools/customalertactions/configappcaa
  (the script in ``bin/`` named after the stanza), restmap.conf ``script``:
  https://docs.splunk.com/Documentation/Splunk/latest/Admin/Restmapconf
- Conf files: every ``default/*.conf`` is one of Splunk's configuration files
  (https://help.splunk.com/data-management/splunk-enterprise-admin-manual/9.1/administer-splunk-enterprise-with-configuration-files/list-of-configuration-files).
- Everything else is a kind of file Splunk reads (metadata, views, nav, alert
  forms, icons, lookups named in transforms.conf, appserver/static files a view
  loads, README/ spec files and documentation) or the app's documentation
  (README.md, docs/*.md, README.txt, LICENSE.txt, app.manifest).
"""
import ast
import os
import re
import tarfile

import pytest

from claw_ta_tools import package
from claw_ta import conffile as conf

SPLUNK_CONF_FILES = {
    "alert_actions", "app", "authorize", "collections", "commands", "eventtypes", "inputs", "macros",
    "props", "restmap", "savedsearches", "searchbnf", "tags", "transforms", "web", "indexes",
    "datamodels", "fields", "limits", "server", "workflow_actions", "ui-prefs", "visualizations",
}
DOCUMENTATION = {"README.md", "README.txt", "LICENSE.txt", "app.manifest", "THIRD-PARTY-NOTICES.txt"}
THIRD_PARTY = ("splunklib", "sdk")  # module names not followed; bin/ folders not checked


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The app extracted from the tarball `claw-ta package` writes."""
    out = tmp_path_factory.mktemp("contents")
    archive = package.build(str(out / "dist"))
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(str(out), filter="data")
        else:
            tar.extractall(str(out))
    return str(out / "TA-claw-runtime")


def files(app):
    found = []
    for root, _dirs, names in os.walk(app):
        found += [os.path.relpath(os.path.join(root, n), app).replace(os.sep, "/") for n in names]
    return sorted(found)


def entry_scripts(app):
    """bin/ scripts Splunk runs, from the app's own conf files."""
    default = os.path.join(app, "default")
    scripts = set()
    for stanza in conf.parse(os.path.join(default, "commands.conf")).values():
        if "filename" in stanza:
            scripts.add(stanza["filename"])
    for name, stanza in conf.parse(os.path.join(default, "alert_actions.conf")).items():
        if name != "default" and stanza.get("is_custom") == "1":
            scripts.add(stanza.get("alert.execute.cmd", name + ".py"))
    for stanza in conf.parse(os.path.join(default, "restmap.conf")).values():
        if "script" in stanza:
            scripts.add(stanza["script"])
    return sorted(scripts)


def module_file(bin_dir, name):
    base = os.path.join(bin_dir, *name.split("."))
    for path in (base + ".py", os.path.join(base, "__init__.py")):
        if os.path.isfile(path):
            return path
    return None


def imported_names(path, package_name):
    """Every module name an import statement in ``path`` can load (parents included)."""
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), path)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package_name.split(".")[:len(package_name.split(".")) - node.level + 1]
                base = ".".join(p for p in parts + [node.module or ""] if p)
            names.add(base)
            names.update(base + "." + a.name for a in node.names)
    out = set()
    for name in names:
        parts = name.split(".")
        out.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return out


def reachable(bin_dir, scripts):
    """bin/-relative paths of every module the scripts import, transitively (third-party not followed)."""
    seen, todo = set(), [(os.path.join(bin_dir, s), "") for s in scripts]
    while todo:
        path, package_name = todo.pop()
        rel = os.path.relpath(path, bin_dir).replace(os.sep, "/")
        if rel in seen:
            continue
        seen.add(rel)
        for name in imported_names(path, package_name):
            if name.split(".")[0] in THIRD_PARTY:
                continue
            found = module_file(bin_dir, name)
            if found:
                pkg = name if found.endswith("__init__.py") else name.rpartition(".")[0]
                todo.append((found, pkg))
    return seen


def test_the_entry_points_are_the_five_scripts(app):
    assert entry_scripts(app) == ["claw_policy_feedback.py", "claw_review.py", "clawsbomcheck.py",
                                  "clawsbomindex.py", "clawtierbaseline.py"]


def test_every_python_file_is_reachable_from_an_entry_point(app):
    bin_dir = os.path.join(app, "bin")
    used = reachable(bin_dir, entry_scripts(app))
    shipped = [f[len("bin/"):] for f in files(app) if f.startswith("bin/")]
    unused = [f for f in shipped if f not in used and f.split("/")[0] not in THIRD_PARTY]
    assert unused == [], "in the package but imported by no command, alert action or REST handler"
    assert [f for f in shipped if not f.endswith(".py")] == []
    assert len(used) >= 30  # the scripts and the runtime modules they import


def test_the_reachability_check_can_fail(tmp_path):
    """A module nothing imports is reported; one imported through a package's __init__ is not."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "run.py").write_text("from pkg import used\nimport json\n")
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "used.py").write_text("from . import helper\n")
    (tmp_path / "pkg" / "helper.py").write_text("")
    (tmp_path / "pkg" / "orphan.py").write_text("")
    assert reachable(str(tmp_path), ["run.py"]) == {"run.py", "pkg/__init__.py", "pkg/used.py", "pkg/helper.py"}


def test_the_offline_tools_do_not_ship(app):
    shipped = files(app)
    for tool in ("cli.py", "package.py", "engine.py", "generate.py", "replay_cli.py", "evaluate_cli.py"):
        assert not [f for f in shipped if f.endswith("/" + tool)], tool
    assert not [f for f in shipped if "claw_ta_tools" in f or f.startswith("scenarios/")]


def test_every_file_is_one_splunk_reads_or_documentation(app):
    transforms = conf.parse(os.path.join(app, "default", "transforms.conf"))
    lookups = {s["filename"] for s in transforms.values() if "filename" in s}
    views = ""
    for root, _dirs, names in os.walk(os.path.join(app, "default", "data")):
        for name in names:
            with open(os.path.join(root, name), encoding="utf-8") as handle:
                views += handle.read()
    unknown = []
    for rel in files(app):
        top, _, rest = rel.partition("/")
        if rel in DOCUMENTATION or top in ("bin", "README") or re.match(r"docs/[\w-]+\.md$", rel):
            continue
        if top == "default":
            if re.match(r"[\w-]+\.conf$", rest):
                ok = rest[:-5] in SPLUNK_CONF_FILES
            else:
                ok = re.match(r"data/ui/(views|nav|alerts)/[\w-]+\.(xml|html)$", rest) is not None
        elif top == "metadata":
            ok = rest == "default.meta"
        elif top == "static":
            ok = re.match(r"appIcon(Alt)?(_2x)?\.png$", rest) is not None
        elif top == "lookups":
            ok = rest in lookups
        elif top == "appserver":
            ok = rest.startswith("static/") and os.path.basename(rest) in views
        else:
            ok = False
        if not ok:
            unknown.append(rel)
    assert unknown == []
