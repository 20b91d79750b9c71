"""Loopback stand-ins for the claw_policy_feedback tests.

- ``make_pki(folder)``: a test CA, a server certificate for 127.0.0.1 signed
  by it, and a rogue CA with its own 127.0.0.1 certificate (generated with
  ``cryptography`` at run time; nothing private is committed).
- ``PolicyEngine``: an HTTPS (or HTTP) policy engine on 127.0.0.1 whose next
  answers are scripted (status, headers, delay). It applies a proposal once
  per Idempotency-Key, even when the client gave up waiting for the answer.
- ``FakeSplunkd``: splunkd's ``storage/passwords`` entity endpoint, the
  ``authentication/current-context`` endpoint, and the KV store
  ``storage/collections/data`` endpoints of any collection (get by key, query
  by ``_key``, insert (409 when the key exists), delete by key, batch_save),
  with one session key per user.
- ``run_action``: runs ``bin/claw_policy_feedback.py --execute`` exactly as
  splunkd does: payload JSON on stdin, results in a gzip CSV.
"""
import csv
import datetime
import gzip
import http.server
import ipaddress
import json
import os
import ssl
import subprocess
import threading
import time
import urllib.parse

from tests import paths

SCRIPT = os.path.join(paths.built_bin(), "claw_policy_feedback.py")  # the app as it ships
SESSION_KEY = "SESSIONKEY-7f3a9c-do-not-log"
TOKEN = "TOKEN-4d2b8e1f-secret-bearer"


def _cert(subject_cn, issuer_name, issuer_key, key, is_ca, sans=None):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer_name or name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=2))
               .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True))
    if is_ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
            critical=True)
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    else:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        builder = builder.add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                                        critical=False)
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    return builder.sign(issuer_key, hashes.SHA256()), name


def make_pki(folder):
    """Write the PEM files; return {ca, cert, key, rogue_ca, rogue_cert, rogue_key, wronghost_cert, wronghost_key}."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    def write(name, data):
        path = os.path.join(folder, name)
        with open(path, "wb") as handle:
            handle.write(data)
        return path

    def key_pem(key):
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())

    out, cas = {}, {}
    loopback = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    for prefix, cn in (("", "Claw test CA"), ("rogue_", "Rogue CA")):
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert, ca_name = _cert(cn, None, ca_key, ca_key, True)
        cas[prefix] = (ca_name, ca_key)
        out[prefix + "ca"] = write(prefix + "ca.pem", ca_cert.public_bytes(serialization.Encoding.PEM))
    # prefix -> (signing CA, names): trusted, rogue CA, and trusted CA but another host name
    for prefix, ca, sans in (("", "", loopback), ("rogue_", "rogue_", loopback),
                             ("wronghost_", "", [x509.DNSName("policy.example.com")])):
        ca_name, ca_key = cas[ca]
        key = ec.generate_private_key(ec.SECP256R1())
        cert, _ = _cert("claw-test-server", ca_name, ca_key, key, False, sans)
        out[prefix + "cert"] = write(prefix + "server.pem", cert.public_bytes(serialization.Encoding.PEM))
        out[prefix + "key"] = write(prefix + "server.key", key_pem(key))
    return out


class _Server(object):
    """A threaded HTTP(S) server on 127.0.0.1:<ephemeral>, stopped by stop()."""

    def __init__(self, handler_cls, cert=None, key=None):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_cls)
        self.httpd.daemon_threads = True
        self.httpd.owner = self
        self.scheme = "http"
        if cert:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
            self.scheme = "https"
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05})
        self.thread.daemon = True
        self.thread.start()

    @property
    def url(self):
        return "%s://127.0.0.1:%d" % (self.scheme, self.httpd.server_address[1])

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep pytest output clean
        pass

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def answer(self, status, payload=b"", headers=None):
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
        try:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass  # the client timed out and left


class _EngineHandler(_Handler):
    def do_POST(self):
        engine = self.server.owner
        raw = self.body()
        with engine.lock:
            engine.requests.append({"time": time.monotonic(), "headers": dict(self.headers.items()),
                                    "body": raw, "path": self.path})
            step = engine.script.pop(0) if engine.script else {"status": 200}
            key = self.headers.get("Idempotency-Key", "")
            applied_now = False
            if step.get("apply", step["status"] < 300):
                if key not in engine.applied:
                    engine.applied[key] = json.loads(raw.decode("utf-8"))
                    engine.apply_count[key] = engine.apply_count.get(key, 0) + 1
                    applied_now = True
        if step.get("delay"):
            time.sleep(step["delay"])
        status = step["status"]
        if status < 300 and not applied_now:
            status = 200  # replay of a key already applied: acknowledged, not applied again
        self.answer(status, {"applied": applied_now}, step.get("headers"))


class PolicyEngine(_Server):
    """script: list of {"status": int, "headers": {...}, "delay": s, "apply": bool} answers, in order."""

    def __init__(self, cert=None, key=None, script=None):
        self.requests, self.applied, self.apply_count = [], {}, {}
        self.script = list(script or [])
        _Server.__init__(self, _EngineHandler, cert, key)


APP_NS = "/servicesNS/nobody/TA-claw-runtime/"
KV_PREFIX = APP_NS + "storage/collections/data/"


class _SplunkdHandler(_Handler):
    def _begin(self, method):
        """Record the call; False when it was answered already (auth failure or a scripted error)."""
        fake = self.server.owner
        parts = urllib.parse.urlsplit(self.path)
        token = (self.headers.get("Authorization") or "")[len("Splunk "):]
        with fake.lock:
            fake.calls.append((method, parts.path))
            fake.tokens_used.append((method, parts.path, token))
            failing = fake.fail_next.pop(0) if fake.fail_next else None
        if token not in fake.users:
            self.answer(401, {"messages": [{"type": "ERROR", "text": "call not properly authenticated"}]})
            return None
        if not failing and any(parts.path.startswith(KV_PREFIX + name) for name in fake.down_collections):
            failing = 503
        if failing:
            self.answer(failing, {"messages": []})
            return None
        return parts, token

    def do_GET(self):
        fake = self.server.owner
        begun = self._begin("GET")
        if not begun:
            return
        parts, token = begun
        query = urllib.parse.parse_qs(parts.query)
        if parts.path.startswith(APP_NS + "storage/passwords/"):
            entity = urllib.parse.unquote(parts.path[len(APP_NS + "storage/passwords/"):])
            realm, user, _ = entity.split(":")
            secret = fake.passwords.get((realm, user))
            if secret is None:
                return self.answer(404, {"messages": [{"type": "ERROR", "text": "Could not find object"}]})
            return self.answer(200, {"entry": [{"name": entity, "content": {
                "realm": realm, "username": user, "clear_password": secret}}]})
        if parts.path == APP_NS + "authentication/current-context":
            user, capabilities = fake.users[token]
            return self.answer(200, {"entry": [{"name": "context", "content": {
                "username": user, "capabilities": list(capabilities)}}]})
        if parts.path.startswith(KV_PREFIX):
            name, _, key = parts.path[len(KV_PREFIX):].partition("/")
            table = fake.collections.get(name, {})  # a read creates nothing
            if key and fake.get_barrier and fake.get_barrier[0] == name:
                barrier = fake.get_barrier[1]
                try:  # hold this read until every racer has made it (two members reading at once), once
                    barrier.wait()
                except threading.BrokenBarrierError:
                    pass
                fake.get_barrier = None
            if key:
                with fake.lock:
                    record = table.get(urllib.parse.unquote(key))
                if record is None:
                    return self.answer(404, {"messages": [{"type": "ERROR", "text": "Could not find object."}]})
                return self.answer(200, dict(record))
            wanted = json.loads(query.get("query", ["{}"])[0])
            with fake.lock:
                if "$or" in wanted:
                    keys = [c["_key"] for c in wanted["$or"]]
                    found = [dict(table[k]) for k in keys if k in table]
                else:  # field equality, as the KV store's query parameter matches {"field": value, ...}
                    found = [dict(r) for r in table.values() if all(r.get(f) == v for f, v in wanted.items())]
            if fake.after_read:
                fake.after_read(name)
            return self.answer(200, found)
        self.answer(404, {"messages": []})

    def do_POST(self):
        fake = self.server.owner
        raw = self.body()
        begun = self._begin("POST")
        if not begun:
            return
        parts, token = begun
        if parts.path.startswith(KV_PREFIX) and "/" not in parts.path[len(KV_PREFIX):]:
            # insert: the KV store refuses a _key that exists ("Duplicate keys are not allowed",
            # https://docs.splunk.com/Documentation/Splunk/6.2.3/RESTREF/RESTkvstore)
            name = parts.path[len(KV_PREFIX):]
            record = json.loads(raw.decode("utf-8"))
            with fake.lock:
                table = fake.collection(name)
                if record.get("_key") in table:
                    exists = True
                else:
                    exists = False
                    table[record["_key"]] = record
                    fake.writes.append((name, record["_key"], token))
            if exists:
                return self.answer(409, {"messages": [{"type": "ERROR", "text": "A document with the same key "
                                                       "already exists"}]})
            if fake.after_insert:
                fake.after_insert(name, record["_key"])
            return self.answer(201, {"_key": record["_key"]})
        if parts.path.startswith(KV_PREFIX) and parts.path.endswith("/batch_save"):
            name = parts.path[len(KV_PREFIX):-len("/batch_save")]
            records = json.loads(raw.decode("utf-8"))
            with fake.lock:
                table = fake.collection(name)
                for record in records:
                    table[record["_key"]] = record
                    fake.saves[record["_key"]] = fake.saves.get(record["_key"], 0) + 1
                    fake.writes.append((name, record["_key"], token))
            return self.answer(200, [r["_key"] for r in records])
        self.answer(404, {"messages": []})


    def do_DELETE(self):
        fake = self.server.owner
        begun = self._begin("DELETE")
        if not begun:
            return
        parts, token = begun
        if parts.path.startswith(KV_PREFIX):
            name, _, key = parts.path[len(KV_PREFIX):].partition("/")
            with fake.lock:
                table = fake.collections.get(name, {})
                found = table.pop(urllib.parse.unquote(key), None)
                if found is not None:
                    fake.writes.append((name, urllib.parse.unquote(key), token))
            if found is None:
                return self.answer(404, {"messages": [{"type": "ERROR", "text": "Could not find object."}]})
            return self.answer(200, b"")
        self.answer(404, {"messages": []})


ALL_CAPABILITIES = ("claw_review", "claw_admin", "edit_own_objects", "list_storage_passwords", "search")


class FakeSplunkd(_Server):
    """splunkd's storage/passwords, authentication/current-context and KV store endpoints.

    ``users``: session key -> (user name, capabilities); ``kv`` is the
    proposals collection, ``collection(name)`` any other; ``after_read`` is
    called after every KV query (to act between a reader's read and write).
    """

    def __init__(self, cert, key, passwords=None, users=None):
        self.passwords = dict(passwords or {})
        self.users = dict(users or {SESSION_KEY: ("admin", ALL_CAPABILITIES)})
        self.collections = {"claw_policy_proposals": {}}
        self.kv = self.collections["claw_policy_proposals"]
        self.saves, self.calls, self.fail_next, self.tokens_used, self.writes = {}, [], [], [], []
        self.after_read = None
        self.after_insert = None  # called after every successful insert (name, key): to act in between
        self.down_collections = ()  # KV store collections that answer 503 to everything
        self.get_barrier = None  # (collection, threading.Barrier): the first reads by key wait for each other
        _Server.__init__(self, _SplunkdHandler, cert, key)

    def collection(self, name):
        return self.collections.setdefault(name, {})


def write_results(path, rows):
    """A splunkd results file: gzip CSV, header = union of the rows' fields."""
    fields = []
    for row in rows:
        fields.extend(k for k in row if k not in fields)
    with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path


def action_payload(results, splunkd_url, configuration, sid="scheduler__admin_c2VhcmNo_at_1"):
    """The JSON splunkd writes to the alert script's stdin (payload_format = json)."""
    return {
        "app": "TA-claw-runtime", "owner": "nobody", "results_file": results,
        "results_link": "https://splunk.example.com/app/search?sid=" + sid,
        "server_host": "sh1", "server_uri": splunkd_url, "session_key": SESSION_KEY,
        "sid": sid, "search_name": "Claw - Unlisted Library Load", "configuration": configuration,
    }


def _action_env(splunk_home):
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["SPLUNK_HOME"] = splunk_home
    return env


def run_action(python, splunk_home, splunkd_url, results, configuration, timeout=120, sid="scheduler__admin_c2VhcmNo_at_1"):
    """Run the alert script as splunkd does; returns the CompletedProcess."""
    payload = action_payload(results, splunkd_url, configuration, sid)
    return subprocess.run([python, SCRIPT, "--execute"], input=json.dumps(payload).encode("utf-8"),
                          capture_output=True, timeout=timeout, env=_action_env(splunk_home), cwd=splunk_home)


def start_action(python, splunk_home, splunkd_url, results, configuration):
    """Start the alert script as splunkd does and return the running Popen (payload already sent)."""
    proc = subprocess.Popen([python, SCRIPT, "--execute"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=_action_env(splunk_home), cwd=splunk_home)
    proc.stdin.write(json.dumps(action_payload(results, splunkd_url, configuration)).encode("utf-8"))
    proc.stdin.close()
    return proc


def log_text(splunk_home):
    path = os.path.join(splunk_home, "var", "log", "splunk", "claw_policy_feedback.log")
    with open(path, encoding="utf-8") as handle:
        return handle.read()
