"""claw_ta_tools.lookups: Splunk WILDCARD matching, first-row-wins lookups, site tables over shipped defaults."""
import os

from claw_ta_tools import lookups as lk


def test_wildcard_star_matches_any_run_and_the_rest_is_literal():
    assert lk.wildcard_match("dev-*", "dev-frank")
    assert lk.wildcard_match("dev-*", "dev-")
    assert not lk.wildcard_match("dev-*", "prod-dev-x")
    assert lk.wildcard_match("*/staging/*", "registry.example.com/staging/app:1")
    assert lk.wildcard_match("/tmp/a.so", "/tmp/a.so")
    assert not lk.wildcard_match("/tmp/a.so", "/tmp/aXso")  # '.' is literal, not a regex dot
    assert not lk.wildcard_match("/tmp/[ab].so", "/tmp/a.so")
    assert lk.wildcard_match("/tmp/[ab].so", "/tmp/[ab].so")
    assert not lk.wildcard_match("Dev-*", "dev-x")
    assert lk.wildcard_match("Dev-*", "dev-x", case_sensitive=False)
    assert not lk.wildcard_match("*", None)


def test_lookup_first_matching_row_in_file_order_wins(tmp_path):
    path = tmp_path / "env.csv"
    path.write_text("namespace,environment\ndev-*,nonprod\ndev-payments,prod\n*,prod\n")
    table = lk.Lookup(lk.read_csv(str(path)), "namespace")
    assert table.get("dev-payments", "environment") == "nonprod"
    assert table.get("payments", "environment") == "prod"
    assert table.get(None, "environment", "unknown") == "unknown"
    only = lk.Lookup(lk.read_csv(str(path))[:1], "namespace")
    assert only.get("payments", "environment", "unknown") == "unknown"


def test_read_csv_of_a_missing_file_is_empty_and_bom_is_ignored(tmp_path):
    assert lk.read_csv(str(tmp_path / "nope.csv")) == []
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfhost,tier\nnode-1 , web\n")
    assert lk.read_csv(str(path)) == [{"host": "node-1", "tier": "web"}]


def test_site_rows_come_before_the_shipped_defaults_and_an_override_replaces_both(tmp_path):
    defaults = lk.read_csv(lk.lookup_path("claw_namespace_env_default.csv"))
    assert defaults[-1] == {"namespace": "*", "environment": "prod"}
    assert lk.layered_rows("claw_namespace_env.csv") == defaults  # no site file shipped
    table = lk.Lookup(lk.layered_rows("claw_namespace_env.csv"), "namespace")
    assert table.get("dev-a", "environment") == "nonprod" and table.get("payments", "environment") == "prod"
    (tmp_path / "claw_namespace_env.csv").write_text("namespace,environment\ndev-*,prod\n")
    override = lk.layered_rows("claw_namespace_env.csv", [str(tmp_path)])
    assert override == [{"namespace": "dev-*", "environment": "prod"}]


def test_no_site_or_generated_table_is_shipped():
    from claw_ta_tools import package
    shipped = {os.path.basename(p) for p in package.iter_app_files() if p.startswith("lookups" + os.sep)}
    assert not shipped & set(lk.STATE_FILES)
    assert {"claw_namespace_env_default.csv", "claw_image_env_default.csv"} <= shipped
    assert lk.default_name("claw_image_env.csv") == "claw_image_env_default.csv"
