"""bin/claw_review.py run as a process the way splunkd runs a persistent REST handler.

A driver process (tests/support/feedback_appserver.py, which follows the
packet format of Splunk's persistconn package) loads the script, and the test
speaks the packet protocol to it on stdin/stdout, several requests in one
process, with the request objects splunkd builds (restmap.conf:
passPayload, passSession, passSystemAuth, passHttpHeaders, passHttpCookies;
format: https://github.com/splunk/splunk-app-examples custom_endpoints/README.md,
restmap.conf spec: https://help.splunk.com/en/data-management/splunk-enterprise-admin-manual/10.0/10.0.0-configuration-file-reference/restmap.conf).
Runs under each Python splunkd may start the driver with.
"""
import json
import os
import subprocess

import pytest

from claw_ta import conffile as conf
from tests import paths
from tests.support import feedback_review as fr
from tests.support import feedback_servers as fs
from tests.support.feedback_fixtures import pki  # noqa: F401 (fixture)

DRIVER = os.path.join(paths.TESTS, "support", "feedback_appserver.py")
SCRIPT = os.path.join(paths.built_bin(), "claw_review.py")  # the app as it ships


@pytest.fixture
def splunkd(pki):
    server = fs.FakeSplunkd(pki["cert"], pki["key"], users=fr.USERS)
    yield server
    server.stop()


def packet(request, command=None):
    def string(data):
        data = data.encode("utf-8") if isinstance(data, str) else data
        return b"%d\n" % len(data) + data
    command = command or [SCRIPT]
    body = b"\n" + bytes([0x01 | 0x02 | 0x04]) + b"%d\n" % len(command)
    body += b"".join(string(c) for c in command) + string("") + string(json.dumps(request))
    return body


def read_reply(stream):
    length = stream.readline()
    assert length.strip().isdigit(), length
    return stream.read(int(length))


class Driver(object):
    def __init__(self, python, home):
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        env["SPLUNK_HOME"] = home
        self.proc = subprocess.Popen([python, DRIVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env, cwd=home)

    def ask(self, request, command=None):
        self.proc.stdin.write(packet(request, command))
        self.proc.stdin.flush()
        assert read_reply(self.proc.stdout) == b""  # the script loaded
        return json.loads(read_reply(self.proc.stdout).decode("utf-8"))

    def close(self):
        self.proc.stdin.close()
        assert self.proc.wait(20) == 0, self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()


def test_the_handler_answers_several_requests_in_one_process(splunk_python, tmp_path, splunkd):
    key = fr.seed(splunkd, fr.LIBRARY_ROW)
    driver = Driver(splunk_python, str(tmp_path))
    try:
        denied = driver.ask(fr.request(splunkd, body={"key": key}, token=fr.OUTSIDER))
        assert denied["status"] == 403 and "claw_review" in denied["payload"]["error"]
        read = driver.ask(fr.request(splunkd, method="GET", query={"key": key}))
        assert read["status"] == 200 and read["payload"]["decision"] is None and splunkd.writes == []
        body = {"key": key, "decision": "allowlist", "reason": "vendor hook", "expires": fr.day(14),
                "scope": ["library_path"], "seen": read["payload"]["fingerprint"]}
        forged = driver.ask(fr.request(splunkd, body=body, cookies={"splunkweb_csrf_token_8000": fr.CSRF},
                                       headers={"Content-Type": "application/json", "X-Splunk-Form-Key": "1"}))
        assert forged["status"] == 403 and splunkd.writes == []
        form = driver.ask(fr.request(splunkd, body=body, headers={"Content-Type": "text/plain"}))
        assert form["status"] == 415 and splunkd.writes == []
        done = driver.ask(fr.request(splunkd, body=body, cookies={"splunkweb_csrf_token_8000": fr.CSRF},
                                     headers={"Content-Type": "application/json", "X-Splunk-Form-Key": fr.CSRF}))
        assert done["status"] == 200 and done["headers"]["Content-Type"] == "application/json"
        assert done["payload"]["allowlist_row"]["library_path"] == "/tmp/.x/libhook.so"
        again = driver.ask(fr.request(splunkd, method="GET", query={"key": key}))
        assert again["payload"]["complete"] is True and again["payload"]["status"] == "allowlisted"
        broken = driver.ask("not the object splunkd sends")
        assert broken["status"] in (400, 401, 405)
    finally:
        driver.close()
    assert splunkd.collection("claw_allowlist")[key]["created_by"] == "alice"


def test_restmap_web_and_authorize_register_and_protect_the_handler():
    restmap = conf.parse(os.path.join(paths.APP_DEFAULT, "restmap.conf"))["script:claw_review"]
    assert restmap["scripttype"] == "persist" and restmap["script"] == "claw_review.py"
    assert restmap["handler"] == "claw_review.ClawReviewHandler" and restmap["python.version"] == "python3"
    assert restmap["python.required"] == "3.9, 3.13"  # the interpreters this test runs the handler with
    assert restmap["requireAuthentication"] == "true" and restmap["capability"] == "claw_review"
    for name in ("passPayload", "passSession", "passSystemAuth", "passHttpHeaders", "passHttpCookies"):
        assert restmap[name] == "true", name
    with open(SCRIPT, encoding="utf-8") as handle:
        assert "class ClawReviewHandler(PersistentServerConnectionApplication)" in handle.read()
    web = conf.parse(os.path.join(paths.APP_DEFAULT, "web.conf"))["expose:claw_review"]
    assert web["pattern"] == "claw/review" and [m.strip() for m in web["methods"].split(",")] == ["GET", "POST"]
    # the handler relies on Splunk Web checking its form key on the POSTs it proxies: never switched off
    assert web.get("skipCSRFProtection", "0").strip().lower() in ("0", "false")
    roles = conf.parse(os.path.join(paths.APP_DEFAULT, "authorize.conf"))
    assert "capability::claw_review" in roles
    for role in ("role_claw_reviewer", "role_claw_admin", "role_admin"):
        assert roles[role]["claw_review"] == "enabled", role
    assert roles["role_claw_admin"]["importRoles"] == "claw_reviewer"
    assert "capability::claw_admin" in roles  # revokes decisions
    for role in ("role_claw_admin", "role_admin"):
        assert roles[role]["claw_admin"] == "enabled", role
    assert "claw_admin" not in roles["role_claw_reviewer"]


PROBE = """
import json, os, sys
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.append(HERE)  # a polite app: its own folder, after everything else
import splunklib

from splunk.persistconn.application import PersistentServerConnectionApplication


class Probe(PersistentServerConnectionApplication):
    def __init__(self, command_line=None, command_arg=None):
        PersistentServerConnectionApplication.__init__(self)

    def handle(self, in_string):
        return {"status": 200, "payload": {"splunklib": os.path.dirname(splunklib.__file__),
                                           "sys_path": sys.path}}
"""


def test_the_handler_leaves_other_apps_in_its_process_their_own_modules(splunk_python, tmp_path, splunkd):
    """Persistent handlers with the same driver share processes (restmap.conf.spec, cited above): after
    claw_review has loaded, another app's handler in the same process still imports its own splunklib,
    and this app's bin/ is not on sys.path."""
    other = tmp_path / "other_app" / "bin"
    (other / "splunklib").mkdir(parents=True)
    (other / "splunklib" / "__init__.py").write_text("ORIGIN = 'other app'\n", encoding="utf-8")
    (other / "probe.py").write_text(PROBE, encoding="utf-8")
    home = tmp_path / "home"
    home.mkdir()
    key = fr.seed(splunkd, fr.LIBRARY_ROW)
    driver = Driver(splunk_python, str(home))
    try:
        assert driver.ask(fr.request(splunkd, method="GET", query={"key": key}))["status"] == 200
        answer = driver.ask({}, command=[str(other / "probe.py")])["payload"]
        assert answer["splunklib"] == str(other / "splunklib")
        assert os.path.dirname(SCRIPT) not in [os.path.abspath(p) for p in answer["sys_path"] if p]
        # and claw_review keeps working after the other app loaded
        assert driver.ask(fr.request(splunkd, method="GET", query={"key": key}))["status"] == 200
    finally:
        driver.close()
