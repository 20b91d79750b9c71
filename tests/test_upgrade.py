"""An upgrade over an edited install loses nothing, and the new defaults arrive.

Version N is the package `claw-ta package` builds; version N+1 is the same app
with a bumped version and new rows in the shipped ``*_default.csv`` files. N is
installed into a Splunk-like ``etc/apps``, the site then edits every table
(``local/`` files, lookups created on first use, KV store records in a stand-in
folder outside the app, as splunkd keeps them), and N+1 is installed over it
the ways Splunk does (no Splunk here: emulated, and the emulation is checked
against the documentation below):

- Splunk Web "Install app from file" with "Upgrade app" (and ``splunk install
  app -update 1``): the package is extracted over ``etc/apps/<app>``; the files
  it contains replace the installed ones, files it does not contain stay
  ("When your app is upgraded, all files in the app (except local files) will
  be replaced": https://www.oreilly.com/library/view/implementing-splunk-7/9781788836289/e7ba6e87-f6dd-47ff-80a6-5262799be9c1.xhtml).
- Deployment server: "Without the setting, all locally-generated content will
  be deleted or overwritten"; paths listed in ``excludeFromUpdate`` are kept:
  https://help.splunk.com/splunk-enterprise/administer/update-your-deployment/9.2/deploy-apps/protect-content-during-app-updates
  Emulated as: the app folder is replaced by the package except those paths.
- SHC deployer: ``-preserve-lookups`` / ``deployer_lookups_push_mode`` decide
  whether lookup files the *bundle contains* ("stubs") overwrite the members'
  populated ones: https://help.splunk.com/splunk-enterprise/administer/distributed-search/9.3/update-search-head-cluster-members/use-the-deployer-to-distribute-apps-and-configuration-updates
  app.conf spec, ``[shclustering] deployer_lookups_push_mode``:
  ``always_preserve`` (the default) keeps the members' copy of every lookup
  file the bundle contains, ``always_overwrite`` replaces them,
  ``preserve_lookups`` follows the command's ``-preserve-lookups``:
  https://help.splunk.com/en/data-management/splunk-enterprise-admin-manual/10.0/10.0.0-configuration-file-reference/app.conf
  Emulated as: every file of the bundle replaces the member's, except lookup
  files the member already has when the app's mode preserves them; files the
  bundle does not contain (runtime tables, ``local/``) stay. The package
  contains no site or generated table, so no mode can overwrite one; the
  shipped defaults reach the members only because the app sets
  ``always_overwrite``.
- KV store data is not a file of the app: none of the three touches it. The
  test checks that N+1 still defines every collection the site's records are in.
"""
import io
import os
import re
import shutil
import tarfile
import tempfile

import pytest

from claw_ta_tools import lookups as lk
from claw_ta_tools import package
from claw_ta_tools.lookups import DS_EXCLUDE_FROM_UPDATE

from claw_ta import conffile as conf
from tests import paths

APP = "TA-claw-runtime"
SITE_FILES = {
    "local/macros.conf": "[claw_min_slsa_level]\ndefinition = 3\n",
    "local/savedsearches.conf": "[Claw - Unlisted Library Load - Rule]\ndisabled = 0\n",
    "metadata/local.meta": "[savedsearches/Claw%20-%20Unlisted%20Library%20Load%20-%20Rule]\nowner = admin\n",
    # site tables that stay CSV, created on first use (Lookup Editor / outputlookup)
    "lookups/claw_host_tiers.csv": "host,tier\nnode-fe-1,frontend\nnode-be-1,backend\n",
    # generated tables, written by saved searches / claw-ta sbom-index
    "lookups/claw_tier_baseline.csv": "image_digest,tiers,host_count,event_count,rate_median,rate_mad,"
                                      "first_seen,last_seen,updated,hosts\nsha256:%s,frontend,2,40,1.5,0.5,"
                                      "1763596800,1763640000,1763640000,node-fe-1|frontend|20|10|1763640000\n"
                                      % ("a" * 64),
    "lookups/claw_sbom_libraries.csv": "sbom_id,library_path,library_digest,package_name,package_version,purl\n"
                                       "sbom-1,/usr/lib/libssl.so.3,sha256:%s,openssl,3.0.13,pkg:deb/openssl@3.0.13\n"
                                       % ("b" * 64),
    "lookups/claw_sbom_subjects.csv": "subject_digest,subject_kind,evidence,sbom_id,sbom_ref,sbom_format,"
                                      "platform_digests\nsha256:%s,image,sbom,sbom-1,ref,cyclonedx,\n" % ("c" * 64),
}
# KV store stand-in: $SPLUNK_DB/kvstore is splunkd's, not the app's.
KV_RECORDS = {
    "claw_allowlist": [{"_key": "k1", "detection_id": "claw_unlisted_library_load",
                        "library_path": "/tmp/snappy-*-libsnappyjava.so", "library_digest": "sha256:" + "d" * 64,
                        "expires": "2027-06-30", "reason": "DATA-881", "created_by": "alice",
                        "created_at": "2026-11-20T10:00:00Z", "proposal_key": "p1"}],
    "claw_namespace_env": [{"_key": "n1", "namespace": "dev-payments", "environment": "prod"},
                           {"_key": "n2", "namespace": "perf-*", "environment": "nonprod"}],
    "claw_image_env": [{"_key": "i1", "image_ref": "registry.example.com/debug/*", "environment": "prod"}],
    "claw_policy_proposals": [{"_key": "p1", "status": "approved", "detection_id": "claw_unlisted_library_load"}],
}
NEW_DEFAULTS = {"lookups/claw_namespace_env_default.csv": "uat-*,nonprod\n",
                "lookups/claw_image_env_default.csv": "*/uat/*,nonprod\n"}


def _build(tmp_path, label, new_defaults=False):
    """A package of the app as it is (N), or with a bumped version and new default rows (N+1)."""
    src = tmp_path / ("src-" + label) / APP
    shutil.copytree(paths.APP, str(src), ignore=shutil.ignore_patterns("local", "__pycache__", "*.pyc"))
    if new_defaults:
        app_conf = src / "default" / "app.conf"
        app_conf.write_text(re.sub(r"(?m)^version = .*$", "version = 99.0.0", app_conf.read_text()))
        for rel, rows in NEW_DEFAULTS.items():
            path = src / rel
            text = path.read_text()
            lines = text.splitlines(True)
            # before the catch-all row, where a maintainer would add it
            catch_all = [i for i, line in enumerate(lines) if line.startswith("*,")]
            at = catch_all[0] if catch_all else len(lines)
            path.write_text("".join(lines[:at]) + rows + "".join(lines[at:]))
    return package.build(str(tmp_path / ("dist-" + label)), app_dir=str(src))


def _extract_over(archive, apps):
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            assert member.name.split("/")[0] == APP and ".." not in member.name.split("/")
            target = os.path.join(apps, *member.name.split("/"))
            if member.isdir():
                os.makedirs(target, exist_ok=True)
            else:
                with open(target, "wb") as handle:
                    handle.write(tar.extractfile(member).read())


def _deployment_server(archive, apps, exclude):
    """Replace the app except the excludeFromUpdate paths ($app_root$/...)."""
    root = os.path.join(apps, APP)
    kept = {}
    for entry in exclude:
        rel = entry.replace("$app_root$/", "")
        full = os.path.join(root, rel)
        for base, _, names in os.walk(full) if os.path.isdir(full) else [(os.path.dirname(full), (), [rel])]:
            for name in names:
                path = os.path.join(base, os.path.basename(name))
                if os.path.isfile(path):
                    kept[os.path.relpath(path, root)] = open(path, "rb").read()
    shutil.rmtree(root)
    _extract_over(archive, apps)
    for rel, data in kept.items():
        os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
        with open(os.path.join(root, rel), "wb") as handle:
            handle.write(data)


def _push_mode(archive):
    """The bundle's own ``[shclustering] deployer_lookups_push_mode`` (app.conf spec default: always_preserve)."""
    with tarfile.open(archive) as tar:
        text = tar.extractfile(APP + "/default/app.conf").read().decode("utf-8")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "app.conf")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        return conf.parse(path).get("shclustering", {}).get("deployer_lookups_push_mode", "always_preserve")


def _deployer_push(archive, members, preserve_lookups_flag=False):
    """``splunk apply shcluster-bundle`` of the package to each member's etc/apps (see the module doc)."""
    mode = _push_mode(archive)
    preserve = {"always_preserve": True, "always_overwrite": False,
                "preserve_lookups": preserve_lookups_flag}[mode]
    with tarfile.open(archive) as tar:
        entries = [(m.name, tar.extractfile(m).read()) for m in tar.getmembers() if m.isfile()]
    for apps in members:
        for name, data in entries:
            target = os.path.join(apps, *name.split("/"))
            if preserve and name.split("/")[1] == "lookups" and os.path.exists(target):
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as handle:
                handle.write(data)


def _site_edits(apps, kvstore):
    root = os.path.join(apps, APP)
    for rel, text in SITE_FILES.items():
        os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
        with open(os.path.join(root, rel), "w", encoding="utf-8") as handle:
            handle.write(text)
    os.makedirs(kvstore, exist_ok=True)
    for collection, records in KV_RECORDS.items():
        with open(os.path.join(kvstore, collection + ".json"), "w", encoding="utf-8") as handle:
            handle.write(repr(records))


def _site_state(apps, kvstore):
    root = os.path.join(apps, APP)
    files = {}
    for rel in SITE_FILES:
        path = os.path.join(root, rel)
        files[rel] = open(path, encoding="utf-8").read() if os.path.exists(path) else None
    kv = dict((name[:-5], open(os.path.join(kvstore, name)).read()) for name in sorted(os.listdir(kvstore)))
    return files, kv


@pytest.fixture
def installed(tmp_path):
    """(apps folder, KV stand-in, package N+1) after installing N and editing every table."""
    apps = str(tmp_path / "etc" / "apps")
    kvstore = str(tmp_path / "var" / "lib" / "splunk" / "kvstore" / APP)
    os.makedirs(apps)
    old, new = _build(tmp_path, "n"), _build(tmp_path, "n1", new_defaults=True)
    _extract_over(old, apps)
    _site_edits(apps, kvstore)
    return apps, kvstore, new


def _check_upgraded(apps, kvstore):
    root = os.path.join(apps, APP)
    files, kv = _site_state(apps, kvstore)
    assert files == SITE_FILES  # every site and generated row, byte for byte
    assert kv == dict((c, repr(r)) for c, r in KV_RECORDS.items())
    assert re.search(r"(?m)^version = 99\.0\.0$", open(os.path.join(root, "default", "app.conf")).read())
    # the new version still defines every collection the site's records live in
    collections = conf.parse(os.path.join(root, "default", "collections.conf"))
    transforms = conf.parse(os.path.join(root, "default", "transforms.conf"))
    for collection in KV_RECORDS:
        assert collection in collections
    for table in ("claw_allowlist", "claw_namespace_env", "claw_image_env"):
        assert transforms[table]["collection"] == table
    # the new defaults arrived, and the site's rows still win over them
    for rel, rows in NEW_DEFAULTS.items():
        assert rows in open(os.path.join(root, rel), encoding="utf-8").read()
    defaults = lk.read_csv(os.path.join(root, "lookups", "claw_namespace_env_default.csv"))
    site = [dict((k, v) for k, v in r.items() if k != "_key") for r in KV_RECORDS["claw_namespace_env"]]
    env = lk.Lookup(site + defaults, "namespace")
    assert env.get("dev-payments", "environment") == "prod"      # site row over the dev-* default
    assert env.get("dev-frank", "environment") == "nonprod"      # old default
    assert env.get("uat-checkout", "environment") == "nonprod"   # new default of N+1
    assert env.get("perf-lab", "environment") == "nonprod"       # site-only row
    assert env.get("payments", "environment") == "prod"          # catch-all default


def test_upgrade_by_extracting_over_the_install_keeps_every_site_row(installed):
    apps, kvstore, new = installed
    _extract_over(new, apps)
    _check_upgraded(apps, kvstore)


def test_deployment_server_with_the_documented_exclusions_keeps_every_site_row(installed):
    apps, kvstore, new = installed
    _deployment_server(new, apps, DS_EXCLUDE_FROM_UPDATE)
    _check_upgraded(apps, kvstore)


@pytest.mark.parametrize("preserve_flag", [False, True])
def test_shc_deployer_push_keeps_every_site_row_and_delivers_the_new_defaults(tmp_path, preserve_flag):
    """Two members: N pushed by the deployer, tables edited on each, N+1 pushed (with or without -preserve-lookups)."""
    members = [str(tmp_path / ("sh%d" % i) / "etc" / "apps") for i in (1, 2)]
    kvstore = str(tmp_path / "kvstore" / APP)  # replicated across members: one store
    old, new = _build(tmp_path, "n"), _build(tmp_path, "n1", new_defaults=True)
    _deployer_push(old, members)
    for apps in members:
        _site_edits(apps, kvstore)
    _deployer_push(new, members, preserve_lookups_flag=preserve_flag)
    for apps in members:
        _check_upgraded(apps, kvstore)


def test_the_emulated_deployer_keeps_old_defaults_under_the_spec_default_mode(tmp_path):
    """What the app's push mode is for: without it (always_preserve) the members keep N's defaults."""
    apps = str(tmp_path / "sh1" / "etc" / "apps")
    old, new = _build(tmp_path, "n"), _build(tmp_path, "n1", new_defaults=True)
    _deployer_push(old, [apps])
    with tarfile.open(new) as tar:
        members = [(m, tar.extractfile(m).read() if m.isfile() else None) for m in tar.getmembers()]
    stripped = str(tmp_path / "n1-default-mode.tar.gz")
    with tarfile.open(stripped, "w:gz") as out:
        for member, data in members:
            if member.name == APP + "/default/app.conf":
                data = re.sub(rb"(?ms)^\[shclustering\].*?(?=^\[|\Z)", b"", data)
                member.size = len(data)
            out.addfile(member, io.BytesIO(data) if data is not None else None)
    assert _push_mode(stripped) == "always_preserve"
    _deployer_push(stripped, [apps])
    for rel, rows in NEW_DEFAULTS.items():
        assert rows not in open(os.path.join(apps, APP, rel), encoding="utf-8").read()


def test_the_app_overwrites_its_shipped_lookups_on_every_deployer_push():
    app = conf.app_conf("app")
    assert app["shclustering"]["deployer_lookups_push_mode"] == "always_overwrite"
    shipped = sorted(f for f in os.listdir(paths.APP_LOOKUPS) if f.endswith(".csv"))
    assert not set(shipped) & set(lk.STATE_FILES)  # overwriting can only ever replace shipped defaults


def test_deployment_server_without_exclusions_drops_the_csv_tables_but_not_the_kv_store(installed):
    """Why docs/tuning.md asks for excludeFromUpdate: the CSV tables live in the app folder."""
    apps, kvstore, new = installed
    _deployment_server(new, apps, [])
    files, kv = _site_state(apps, kvstore)
    assert all(value is None for value in files.values())
    assert kv == dict((c, repr(r)) for c, r in KV_RECORDS.items())


def test_the_documented_exclusions_cover_every_file_based_table_and_local():
    rels = set(e.replace("$app_root$/", "") for e in DS_EXCLUDE_FROM_UPDATE)
    assert "local" in rels and "metadata/local.meta" in rels
    for name in lk.STATE_FILES:
        if name not in ("claw_allowlist.csv", "claw_namespace_env.csv", "claw_image_env.csv"):  # KV store
            assert "lookups/" + name in rels, name
    with open(os.path.join(paths.REPO, "docs", "tuning.md"), encoding="utf-8") as handle:
        assert "excludeFromUpdate = " + ", ".join(DS_EXCLUDE_FROM_UPDATE) in handle.read()


def test_no_package_contains_a_site_or_generated_table(tmp_path):
    """The deployer's lookup modes and the Web upgrade only ever overwrite files a package contains."""
    (tmp_path / "src").mkdir()
    src = tmp_path / "src" / APP
    shutil.copytree(paths.APP, str(src), ignore=shutil.ignore_patterns("local", "__pycache__"))
    for name in lk.STATE_FILES:  # a working copy with state left in it (a test run, a replay)
        (src / "lookups" / name).write_text("x,y\n1,2\n")
    with tarfile.open(package.build(str(tmp_path / "dist"), app_dir=str(src))) as tar:
        names = set(tar.getnames())
    assert not names & set("%s/lookups/%s" % (APP, n) for n in lk.STATE_FILES)
    assert "%s/lookups/claw_namespace_env_default.csv" % APP in names


def test_a_fresh_install_works_with_no_site_table(tmp_path):
    """Missing site and generated tables are empty: the replay and the tier command run on defaults."""
    from claw_ta import tiers
    apps = str(tmp_path / "apps")
    _extract_over(_build(tmp_path, "n"), apps)
    lookups = os.path.join(apps, APP, "lookups")
    assert not set(os.listdir(lookups)) & set(lk.STATE_FILES)
    assert tiers.read_baseline_csv(os.path.join(lookups, tiers.BASELINE_LOOKUP)) == []
    assert tiers.load_host_tiers(os.path.join(lookups, tiers.HOST_TIERS_LOOKUP)) == {}
    # the replay of a scenario without lookups/ uses the shipped defaults only
    assert lk.layered_rows("claw_image_env.csv") == lk.read_csv(lk.lookup_path("claw_image_env_default.csv"))
