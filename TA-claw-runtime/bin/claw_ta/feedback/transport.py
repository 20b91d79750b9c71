"""HTTPS requests with urllib + ssl: verification, timeouts, retries, backoff.

- TLS certificates and host names are always verified against the system
  trust store or a configured CA bundle. The only exception is splunkd on a
  loopback address (``https://127.0.0.1:8089``, the ``server_uri`` splunkd hands
  to alert scripts), whose default certificate is self-signed.
- Plain ``http://`` is refused unless the caller explicitly allows it.
- Redirects are never followed (a redirect could carry the bearer token to
  another host or to plain HTTP).
- 429, 408, 5xx, timeouts and connection errors are retried with exponential
  backoff (``Retry-After`` is honoured up to a cap); certificate errors,
  redirects and other 4xx answers are not, since retrying cannot fix them.
"""
import email.utils
import ipaddress
import random
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
import http.client

RETRYABLE_STATUS = frozenset([408, 425, 429, 500, 502, 503, 504])


class DeliveryError(Exception):
    """A request that failed; ``retryable`` says whether trying later may help."""

    def __init__(self, message, retryable, status=None, retry_after=None):
        Exception.__init__(self, message)
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after


class Response(object):
    def __init__(self, status, body, headers):
        self.status = status
        self.body = body
        self.headers = headers


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # urllib then raises HTTPError with the 3xx code


def is_loopback(url):
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url, allow_http=False, name="url"):
    """Raise ValueError naming ``name`` unless url is https (or http when allowed)."""
    parts = urllib.parse.urlsplit(url or "")
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname:
        if allow_http:
            return
        raise ValueError("%s: plain http:// is refused (use https://, or set insecure_http = 1 "
                         "to accept an unencrypted connection)" % name)
    raise ValueError("%s: not an https:// URL" % name)


def tls_context(ca_bundle=None, verify=True):
    if not verify:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    context = ssl.create_default_context(cafile=ca_bundle or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _opener(context, use_env_proxies):
    handlers = [_NoRedirect(), urllib.request.HTTPSHandler(context=context)]
    handlers.append(urllib.request.ProxyHandler() if use_env_proxies else urllib.request.ProxyHandler({}))
    return urllib.request.build_opener(*handlers)


def parse_retry_after(value, now=None):
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def _describe(reason):
    if isinstance(reason, ssl.SSLCertVerificationError):
        return "TLS certificate verification failed: %s" % (reason.verify_message or reason.reason)
    if isinstance(reason, ssl.CertificateError):
        return "TLS certificate does not match the host: %s" % reason
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return "timed out"
    return "%s: %s" % (type(reason).__name__, reason)


def request_once(method, url, body=None, headers=None, timeout=10.0, context=None, use_env_proxies=False):
    """One request; returns Response for 2xx, raises DeliveryError otherwise."""
    req = urllib.request.Request(url, data=body, method=method)
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    opener = _opener(context or tls_context(), use_env_proxies)
    try:
        with opener.open(req, timeout=timeout) as resp:
            return Response(resp.status, resp.read(), dict(resp.headers.items()))
    except urllib.error.HTTPError as err:
        status = err.code
        try:
            err.read()
        except Exception:  # the body of an error answer is never needed
            pass
        finally:
            err.close()
        retry_after = parse_retry_after(err.headers.get("Retry-After") if err.headers else None)
        retryable = status in RETRYABLE_STATUS or 500 <= status < 600
        reason = "redirect refused" if 300 <= status < 400 else (err.reason or "")
        raise DeliveryError("HTTP %d %s" % (status, reason), retryable, status, retry_after)
    except urllib.error.URLError as err:
        reason = err.reason
        permanent = isinstance(reason, (ssl.SSLCertVerificationError, ssl.CertificateError))
        raise DeliveryError(_describe(reason), not permanent)
    except (ssl.SSLCertVerificationError, ssl.CertificateError) as err:
        raise DeliveryError(_describe(err), False)
    except (socket.timeout, TimeoutError, ConnectionError, http.client.HTTPException, OSError) as err:
        raise DeliveryError(_describe(err), True)


class RetryPolicy(object):
    """How often and how long to retry: attempts = 1 + max_retries."""

    def __init__(self, max_retries=3, backoff=2.0, max_backoff=30.0, max_retry_after=60.0,
                 deadline=None, sleep=time.sleep, clock=time.monotonic):
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.deadline = deadline  # absolute clock() value after which no new attempt starts
        self.sleep = sleep
        self.clock = clock

    def delay(self, attempt, retry_after=None):
        """Seconds before retry number ``attempt`` (1-based); None: give up."""
        wait = min(self.max_backoff, self.backoff * (2 ** (attempt - 1)))
        wait = wait * (0.5 + random.random() / 2)  # jitter, so that many alerts do not retry in step
        if retry_after is not None:
            if retry_after > self.max_retry_after:
                return None
            wait = max(wait, retry_after)
        if self.deadline is not None and self.clock() + wait >= self.deadline:
            return None
        return wait


def request_with_retries(method, url, policy, on_retry=None, **kwargs):
    """request_once, retried per ``policy``; raises the last DeliveryError."""
    attempt = 0
    while True:
        try:
            return request_once(method, url, **kwargs)
        except DeliveryError as err:
            attempt += 1
            if not err.retryable or attempt > policy.max_retries:
                raise
            wait = policy.delay(attempt, err.retry_after)
            if wait is None:
                raise
            if on_retry is not None:
                on_retry(attempt, wait, err)
            policy.sleep(wait)
