"""Local state of the action: one outbox and one applied-keys store per destination.

One folder per destination under ``$SPLUNK_HOME/var/lib/splunk/claw_policy_feedback/``:
``review`` (the KV store of this search head) and ``push-<hash>`` for each
policy engine URL (``hash`` = the first 16 hex digits of the SHA-256 of the
normalised URL; the file ``destination`` in the folder names the URL). A
proposal kept for one engine is never delivered to, or deduplicated against,
another one.

- ``outbox/<key>.json``: every proposal of a run is written here *before*
  delivery starts (write-ahead), and removed only once delivered, so a kill or
  a restart mid-delivery loses nothing. Written atomically (temporary file,
  fsync, rename): a full disk leaves the previous copy intact. An entry that
  is not valid JSON, or valid JSON that is not a well-formed entry, moves to
  ``dead/`` and never blocks the others; so does an entry that failed on
  ``MAX_TRIGGER_ATTEMPTS`` triggers.
- ``applied.keys``: one ``<key> <time>`` line per delivered proposal; a key
  listed there is never sent to this destination again.
- ``lock``: runs for one destination do not overlap (``lock.FileLock``: an OS
  file lock, free at once when the run holding it is killed).
"""
import errno
import hashlib
import json
import os
import re
import time
import urllib.parse

from claw_ta.feedback.lock import FileLock, LockTimeout  # noqa: F401 (LockTimeout: part of this API)
from claw_ta.feedback.proposal import check_proposal

KEY_RE = re.compile(r"^[0-9a-f]{64}$")
MAX_TRIGGER_ATTEMPTS = 50


class StoreFull(OSError):
    """The disk (or quota) is full: nothing was written, nothing already queued was lost."""


def state_root(splunk_home):
    return os.path.join(splunk_home, "var", "lib", "splunk", "claw_policy_feedback")


def normalise_url(url):
    """Scheme and host lower-cased, default port dropped, user info removed."""
    parts = urllib.parse.urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = "[%s]" % host
    port = parts.port
    if port and not ((parts.scheme == "https" and port == 443) or (parts.scheme == "http" and port == 80)):
        host = "%s:%d" % (host, port)
    return urllib.parse.urlunsplit((parts.scheme.lower(), host, parts.path or "/", parts.query, ""))


def destination_id(mode, url=""):
    """``review``, or ``push-<hash of the engine URL>``: one outbox per destination."""
    if mode == "review":
        return "review"
    if mode != "push":
        raise ValueError("mode: %r" % mode)
    if not url:
        raise ValueError("push needs the policy engine URL")
    return "push-" + hashlib.sha256(normalise_url(url).encode("utf-8")).hexdigest()[:16]


def _is_disk_full(err):
    return getattr(err, "errno", None) in (errno.ENOSPC, errno.EDQUOT)


class Store(object):
    def __init__(self, root, destination, label=None):
        self.destination = destination
        self.dir = os.path.join(root, destination)
        self.outbox_dir = os.path.join(self.dir, "outbox")
        self.dead_dir = os.path.join(self.dir, "dead")
        self.applied_path = os.path.join(self.dir, "applied.keys")
        self.lock_path = os.path.join(self.dir, "lock")
        for path in (self.outbox_dir, self.dead_dir):
            os.makedirs(path, exist_ok=True)
        self._lock = FileLock(self.lock_path)
        self.rejected = []  # (file name, reason) of the entries pending() moved to dead/
        if label:
            self._label(label)

    def _label(self, label):
        path = os.path.join(self.dir, "destination")
        try:
            with open(path, encoding="utf-8") as handle:
                if handle.read() == label:
                    return
        except OSError:
            pass
        try:
            self._atomic_text(path, label)
        except OSError:
            pass  # only a label for people; a full disk must not stop delivery

    # -- lock ------------------------------------------------------------------
    def acquire(self, wait=60.0, poll=0.2):
        self._lock.acquire(wait, poll)

    def release(self):
        self._lock.release()

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()

    # -- applied keys ----------------------------------------------------------
    def applied_keys(self):
        keys = set()
        try:
            with open(self.applied_path, encoding="ascii", errors="replace") as handle:
                for line in handle:
                    key = line.split(" ", 1)[0].strip()
                    if KEY_RE.match(key):
                        keys.add(key)
        except OSError as err:
            if err.errno != errno.ENOENT:
                raise
        return keys

    def mark_applied(self, key):
        """Record a delivered key; raises StoreFull when the disk is full."""
        if not KEY_RE.match(key):
            raise ValueError("not an idempotency key: %r" % key)
        try:
            with open(self.applied_path, "a", encoding="ascii") as handle:
                handle.write("%s %d\n" % (key, int(time.time())))
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as err:
            if _is_disk_full(err):
                raise StoreFull(err.errno, "disk full: %s" % self.applied_path)
            raise

    # -- outbox ----------------------------------------------------------------
    def _entry_path(self, key, folder=None):
        if not KEY_RE.match(key):
            raise ValueError("not an idempotency key: %r" % key)
        return os.path.join(folder or self.outbox_dir, key + ".json")

    def _atomic_text(self, path, text):
        tmp = path + ".tmp.%d" % os.getpid()
        try:
            with open(tmp, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except OSError as err:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            if _is_disk_full(err):
                raise StoreFull(err.errno, "disk full: %s" % path)
            raise

    def _write(self, path, entry):
        self._atomic_text(path, json.dumps(entry, ensure_ascii=False, sort_keys=True))

    def _reject(self, name, reason):
        path = os.path.join(self.outbox_dir, name)
        os.replace(path, os.path.join(self.dead_dir, name + ".malformed"))
        self.rejected.append((name, reason))

    def pending(self):
        """Outbox entries, oldest first: dicts with proposal, attempts, last_error, queued.

        An entry that cannot be read, is not JSON, or is JSON but not a
        well-formed entry (see ``check_entry``) moves to ``dead/`` and is
        listed in ``self.rejected``; the others are returned.
        """
        entries = []
        for name in sorted(os.listdir(self.outbox_dir)):
            if not name.endswith(".json") or not KEY_RE.match(name[:-5]):
                continue
            try:
                with open(os.path.join(self.outbox_dir, name), encoding="utf-8") as handle:
                    entry = json.load(handle)
                check_entry(entry, name[:-5])
            except (OSError, ValueError) as err:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
                self._reject(name, str(err)[:200])
                continue
            entries.append(entry)
        entries.sort(key=lambda e: (e["queued"], e["proposal"]["idempotency_key"]))
        return entries

    def entry(self, key):
        """The outbox entry of ``key`` or None (unreadable entries count as absent)."""
        try:
            with open(self._entry_path(key), encoding="utf-8") as handle:
                entry = json.load(handle)
            check_entry(entry, key)
            return entry
        except (OSError, ValueError):
            return None

    def enqueue(self, proposal):
        """Write-ahead: put a proposal in the outbox before delivery (keeps attempts and age)."""
        key = proposal["idempotency_key"]
        previous = self.entry(key) or {}
        entry = {"proposal": proposal, "attempts": previous.get("attempts", 0),
                 "last_error": previous.get("last_error"), "queued": previous.get("queued", time.time())}
        self._write(self._entry_path(key), entry)

    def keep(self, proposal, error, previous=None):
        """Keep a proposal in the outbox after a failed attempt; returns False if it went to dead/."""
        key = proposal["idempotency_key"]
        previous = previous or self.entry(key) or {}
        entry = {"proposal": proposal, "attempts": int(previous.get("attempts", 0)) + 1, "last_error": error,
                 "queued": previous.get("queued", time.time())}
        if entry["attempts"] >= MAX_TRIGGER_ATTEMPTS:
            self._write(self._entry_path(key, self.dead_dir), entry)
            self.drop(key)
            return False
        self._write(self._entry_path(key), entry)
        return True

    def drop(self, key):
        try:
            os.unlink(self._entry_path(key))
        except OSError as err:
            if err.errno != errno.ENOENT:
                raise


def check_entry(entry, key):
    """Raise ValueError unless ``entry`` is a well-formed outbox entry for ``key``."""
    if not isinstance(entry, dict):
        raise ValueError("entry is not a JSON object")
    check_proposal(entry.get("proposal"))
    if entry["proposal"]["idempotency_key"] != key:
        raise ValueError("idempotency_key does not match the file name")
    attempts, queued = entry.get("attempts"), entry.get("queued")
    if not isinstance(attempts, int) or isinstance(attempts, bool) or attempts < 0:
        raise ValueError("attempts: not a count")
    if not isinstance(queued, (int, float)) or isinstance(queued, bool):
        raise ValueError("queued: not a time")
