"""Roles and permissions: the add-on creates only its own roles, and the stored token is not readable by all.

Splunk documentation relied on:
- authorize.conf spec: a ``[role_<name>]`` stanza defines that role (a
  stanza for a role that does not exist creates it):
  https://help.splunk.com/en/data-management/splunk-enterprise-admin-manual/10.0/10.0.0-configuration-file-reference/authorize.conf
  ``sc_admin`` is Splunk Cloud Platform's administrator role; it does not exist
  on Splunk Enterprise, where ``[role_sc_admin]`` would create a role of that
  name holding ``claw_review``.
- default.meta: an object type stanza (``[passwords]``, the credentials of
  storage/passwords, stored in passwords.conf) overrides the app-wide ``[]``
  access and export:
  https://help.splunk.com/en/data-management/splunk-enterprise-admin-manual/10.0/10.0.0-configuration-file-reference/default.meta.conf
"""
import os
import re

from claw_ta import conffile as conf
from tests import paths

BUILT_IN_ROLES = {"admin", "power", "user", "can_delete"}  # Splunk Enterprise and Cloud alike
OWN_ROLES = {"claw_reviewer", "claw_admin"}


def _meta():
    return conf.parse(os.path.join(paths.APP, "metadata", "default.meta"))


def test_authorize_conf_defines_only_the_add_ons_roles_and_built_in_ones():
    roles = conf.parse(os.path.join(paths.APP_DEFAULT, "authorize.conf"))
    names = set(name[len("role_"):] for name in roles if name.startswith("role_"))
    assert names - BUILT_IN_ROLES == OWN_ROLES
    assert "role_sc_admin" not in roles


def test_the_docs_say_how_cloud_admins_get_the_review_capability():
    with open(os.path.join(paths.REPO, "docs", "policy-feedback.md"), encoding="utf-8") as handle:
        text = handle.read()
    assert "Splunk Cloud Platform" in text and "sc_admin" in text and "claw_admin" in text


def _access(value):
    found = {}
    for kind, roles in re.findall(r"(read|write)\s*:\s*\[([^\]]*)\]", value):
        found[kind] = set(r.strip() for r in roles.split(",") if r.strip())
    return found


def test_stored_credentials_are_readable_by_admins_only_and_not_exported():
    meta = _meta()
    assert "passwords" in meta, "without a [passwords] stanza the stored token inherits [] (read: *)"
    access = _access(meta["passwords"]["access"])
    assert "*" not in access["read"] and access["read"] <= {"admin", "sc_admin"}
    assert access["write"] <= {"admin", "sc_admin"}
    assert meta["passwords"].get("export") == "none"


def test_the_app_wide_default_is_still_readable_by_everyone():
    """The check above can fail: the app-wide stanza is what a credential would inherit."""
    access = _access(_meta()[""]["access"])
    assert "*" in access["read"]
