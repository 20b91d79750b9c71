"""A stand-in for Splunk Web's splunkd proxy (``/<locale>/splunkd/__raw/<path>``), on loopback HTTP.

What it does, as Splunk documents it:

- a POST through Splunk Web must pass Splunk Web's CSRF check: the
  ``@expose_page`` decorator verifies POSTs (``verify_session``), an XHR
  carrying its token in a header
  (http://dev.splunk.com/view/SP-CAAAD8K, http://dev.splunk.com/view/SP-CAAAEAQ);
  the token is the ``splunkweb_csrf_token_<port>`` cookie's value, which
  ``splunkUtil.getFormKey()`` returns to the page's script. A POST without it
  never reaches splunkd.
- the request then goes to splunkd with the user's session
  (``Authorization: Splunk <session key>``).

What it forwards besides is not documented, so ``forward`` chooses:
``"all"`` (every header and cookie), ``"header"`` (the X-Splunk-Form-Key
header, no cookies), ``"cookies"`` (the cookies, not that header), ``"none"``
(neither). The tests run each.

"splunkd" here is the review handler itself: the proxy builds the request
object splunkd gives a persistent handler (restmap.conf passHttpHeaders,
passHttpCookies, passSession, passSystemAuth, passPayload) and calls
``claw_ta.review.endpoint.handle``, which talks to the KV store stand-in.
"""
import http.cookies
import http.server
import json
import threading
import urllib.parse

from claw_ta.review import endpoint

PREFIX = "/en-US/splunkd/__raw/services/claw/review"


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _answer(self, status, payload):
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _cookies(self):
        jar = http.cookies.SimpleCookie()
        jar.load(self.headers.get("Cookie") or "")
        return {name: morsel.value for name, morsel in jar.items()}

    def _forward(self, method):
        proxy = self.server.owner
        parts = urllib.parse.urlsplit(self.path)
        if parts.path != PREFIX:
            return self._answer(404, {"error": "not found"})
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        cookies = self._cookies()
        session = proxy.sessions.get(cookies.get("splunkd_8000", ""))
        if session is None:
            return self._answer(401, {"error": "not logged in"})
        if method == "POST":  # Splunk Web's own CSRF check
            expected = cookies.get("splunkweb_csrf_token_8000", "")
            if not expected or self.headers.get("X-Splunk-Form-Key", "") != expected:
                proxy.refused += 1
                return self._answer(401, {"error": "Splunk Web: CSRF validation failed"})
        headers = [["Authorization", "Splunk " + session[1]]]
        forwarded = {"all": None, "header": ("content-type", "x-splunk-form-key", "x-requested-with"),
                     "cookies": ("content-type", "x-requested-with"), "none": ("content-type",)}[proxy.forward]
        for name, value in self.headers.items():
            if name.lower() != "cookie" and (forwarded is None or name.lower() in forwarded):
                headers.append([name, value])
        request = {"method": method, "rest_path": "/claw/review", "server": {"rest_uri": proxy.splunkd_url},
                   "query": [list(p) for p in urllib.parse.parse_qsl(parts.query)],
                   "headers": headers,
                   "cookies": [list(p) for p in cookies.items()] if proxy.forward in ("all", "cookies") else [],
                   "session": {"user": session[0], "authtoken": session[1]},
                   "system_authtoken": proxy.system_token, "payload": body.decode("utf-8")}
        proxy.forwarded.append(request)
        reply = endpoint.handle(request)
        self._answer(reply["status"], reply["payload"])

    def do_GET(self):
        self._forward("GET")

    def do_POST(self):
        self._forward("POST")


class SplunkWebProxy(object):
    """``sessions``: splunkd_8000 cookie value -> (user, session key) of the logged-in user."""

    def __init__(self, splunkd_url, sessions, system_token, forward="all"):
        self.splunkd_url, self.sessions, self.system_token, self.forward = splunkd_url, sessions, system_token, forward
        self.forwarded, self.refused = [], 0
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05})
        self.thread.daemon = True
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d%s" % (self.httpd.server_address[1], PREFIX)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)
