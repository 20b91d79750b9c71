"""The review endpoint's CSRF check on both paths a POST can take.

1. Through Splunk Web (``/<locale>/splunkd/__raw/services/claw/review``): a
   small proxy (tests/support/splunkweb_proxy.py) does what Splunk Web
   documents: it refuses a POST without the form key (the
   ``splunkweb_csrf_token_<port>`` cookie's value in ``X-Splunk-Form-Key``)
   and forwards the rest with the user's session. Which headers and cookies
   it forwards to splunkd is not documented, so every variant runs: the
   dashboard's POST (with ``splunkUtil.getFormKey()``'s key) is accepted in
   each, and a cross-site POST (the browser adds the cookies, the attacker
   cannot read the key) never writes anything.
2. Straight to splunkd, with a token or with a ``splunkd_8089`` cookie: a
   JSON POST is accepted (a cross-site page cannot send one without a CORS
   preflight), a form-encoded or text/plain POST is refused (415).
"""
import json
import urllib.error
import urllib.request

import pytest

from claw_ta.records import fingerprint
from claw_ta.review import endpoint
from tests.support import feedback_review as fr
from tests.support import feedback_servers as fs
from tests.support.feedback_fixtures import pki  # noqa: F401 (fixture)
from tests.support.splunkweb_proxy import SplunkWebProxy

SESSION_COOKIE = "splunkd-8000-cookie-of-alice"
BROWSER_COOKIES = "splunkd_8000=%s; splunkweb_csrf_token_8000=%s; session_id_8000=abc" % (SESSION_COOKIE, fr.CSRF)


@pytest.fixture
def splunkd(pki):
    server = fs.FakeSplunkd(pki["cert"], pki["key"], users=fr.USERS)
    yield server
    server.stop()


def web(splunkd, forward):
    return SplunkWebProxy(splunkd.url, {SESSION_COOKIE: ("alice", fr.REVIEWER)}, fr.SYSTEM, forward)


def post(url, body, headers):
    data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url + "?output_mode=json", data=data, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read().decode("utf-8"))
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read().decode("utf-8"))


def body_for(splunkd, key):
    return {"key": key, "decision": "allowlist", "reason": "vendor hook", "expires": fr.day(10),
            "seen": fingerprint(json.loads(splunkd.kv[key]["proposal"]))}


@pytest.mark.parametrize("forward", ["all", "header", "cookies", "none"])
def test_the_dashboards_post_through_splunk_web_is_accepted(splunkd, forward):
    key = fr.seed(splunkd, fr.LIBRARY_ROW)
    proxy = web(splunkd, forward)
    try:
        status, answer = post(proxy.url, body_for(splunkd, key), {
            "Cookie": BROWSER_COOKIES, "Content-Type": "application/json", "X-Splunk-Form-Key": fr.CSRF,
            "X-Requested-With": "XMLHttpRequest"})
    finally:
        proxy.stop()
    assert status == 200, answer
    assert splunkd.collection("claw_allowlist")[key]["created_by"] == "alice"
    (forwarded,) = proxy.forwarded
    assert ["Authorization", "Splunk " + fr.REVIEWER] in forwarded["headers"]


@pytest.mark.parametrize("forward", ["all", "header", "cookies", "none"])
@pytest.mark.parametrize("content_type", ["application/json", "application/x-www-form-urlencoded", "text/plain"])
def test_a_cross_site_post_through_splunk_web_writes_nothing(splunkd, forward, content_type):
    """Another site's page makes the browser POST with the user's cookies, but without the form key."""
    key = fr.seed(splunkd, fr.LIBRARY_ROW)
    proxy = web(splunkd, forward)
    try:
        status, _ = post(proxy.url, body_for(splunkd, key), {"Cookie": BROWSER_COOKIES, "Content-Type": content_type})
    finally:
        proxy.stop()
    assert status in (401, 403, 415) and splunkd.writes == []


def test_a_forwarded_form_key_that_does_not_match_the_cookie_is_refused(splunkd):
    """Defence in depth: if both reach the handler, they must agree (a proxy that checks nothing)."""
    key = fr.seed(splunkd, fr.LIBRARY_ROW)
    raw = fr.request(splunkd, body=body_for(splunkd, key),
                     headers={"Content-Type": "application/json", "X-Splunk-Form-Key": "0"},
                     cookies={"splunkweb_csrf_token_8000": fr.CSRF})
    answer = endpoint.handle(raw)
    assert answer["status"] == 403 and splunkd.writes == []


@pytest.mark.parametrize("content_type,status", [("application/json", 200), ("application/json; charset=utf-8", 200),
                                                 ("application/x-www-form-urlencoded", 415), ("text/plain", 415),
                                                 ("multipart/form-data; boundary=z", 415)])
def test_straight_to_splunkd_with_its_session_cookie(splunkd, content_type, status):
    """A client holding a splunkd_8089 cookie (splunkd's own login) and no Splunk Web cookie."""
    key = fr.seed(splunkd, fr.LIBRARY_ROW)
    raw = fr.request(splunkd, body=body_for(splunkd, key), headers={"Content-Type": content_type},
                     cookies={"splunkd_8089": "cookie-session"})
    answer = endpoint.handle(raw)
    assert answer["status"] == status, answer
    assert bool(splunkd.writes) == (status == 200)


def test_the_check_itself_needs_no_splunk_web_credential():
    """check_csrf alone: a JSON POST with a splunkd_8089 cookie, or with Splunk Web's cookies but not
    the header (what a proxy forwarding cookies only would pass on), is not refused."""
    for cookies in ({"splunkd_8089": "s"}, {"splunkd_8000": "s", "splunkweb_csrf_token_8000": fr.CSRF}):
        request = endpoint.Request({"method": "POST", "headers": [["Content-Type", "application/json"]],
                                    "cookies": [list(p) for p in cookies.items()]})
        endpoint.check_csrf(request)  # raises ReviewError when refused
