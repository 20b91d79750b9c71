"""Local state of the action: the outbox and the applied-keys store.

One folder per mode (``review``: the KV store; ``push``: the policy engine)
under ``$SPLUNK_HOME/var/lib/splunk/claw_policy_feedback/``:

- ``outbox/<key>.json``: a proposal not delivered yet (``attempts``,
  ``last_error``), retried first on the next trigger. Written atomically
  (temporary file + rename), removed only once delivered. After
  ``MAX_TRIGGER_ATTEMPTS`` triggers it moves to ``dead/`` (kept, logged).
- ``applied.keys``: one ``<key> <time>`` line per delivered proposal; a key
  listed there is never sent again.
- ``lock``: runs of the action for one destination do not overlap.
"""
import errno
import json
import os
import re
import time

KEY_RE = re.compile(r"^[0-9a-f]{64}$")
MAX_TRIGGER_ATTEMPTS = 50
LOCK_STALE_SECONDS = 900


def state_root(splunk_home):
    return os.path.join(splunk_home, "var", "lib", "splunk", "claw_policy_feedback")


def destination_id(mode):
    """``review`` or ``push``: one outbox per mode, so that a proposal kept while
    the engine URL was wrong is delivered once the URL is fixed."""
    if mode not in ("review", "push"):
        raise ValueError("mode: %r" % mode)
    return mode


class LockTimeout(Exception):
    pass


class Store(object):
    def __init__(self, root, destination):
        self.dir = os.path.join(root, destination)
        self.outbox_dir = os.path.join(self.dir, "outbox")
        self.dead_dir = os.path.join(self.dir, "dead")
        self.applied_path = os.path.join(self.dir, "applied.keys")
        self.lock_path = os.path.join(self.dir, "lock")
        for path in (self.outbox_dir, self.dead_dir):
            os.makedirs(path, exist_ok=True)
        self._locked = False

    # -- lock ------------------------------------------------------------------
    def acquire(self, wait=60.0, poll=0.2):
        end = time.monotonic() + wait
        while True:
            try:
                fd = os.open(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            except OSError as err:
                if err.errno != errno.EEXIST:
                    raise
                try:
                    if time.time() - os.path.getmtime(self.lock_path) > LOCK_STALE_SECONDS:
                        os.unlink(self.lock_path)  # left by a run that was killed
                        continue
                except OSError:
                    continue
                if time.monotonic() >= end:
                    raise LockTimeout("another run holds %s" % self.lock_path)
                time.sleep(poll)
                continue
            with os.fdopen(fd, "w") as handle:
                handle.write(str(os.getpid()))
            self._locked = True
            return

    def release(self):
        if self._locked:
            self._locked = False
            try:
                os.unlink(self.lock_path)
            except OSError:
                pass

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
        if not KEY_RE.match(key):
            raise ValueError("not an idempotency key: %r" % key)
        with open(self.applied_path, "a", encoding="ascii") as handle:
            handle.write("%s %d\n" % (key, int(time.time())))
            handle.flush()
            os.fsync(handle.fileno())

    # -- outbox ----------------------------------------------------------------
    def _entry_path(self, key, folder=None):
        if not KEY_RE.match(key):
            raise ValueError("not an idempotency key: %r" % key)
        return os.path.join(folder or self.outbox_dir, key + ".json")

    def _write(self, path, entry):
        tmp = path + ".tmp.%d" % os.getpid()
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(entry, handle, ensure_ascii=False, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    def pending(self):
        """Outbox entries, oldest first: dicts with proposal, attempts, last_error, queued."""
        entries = []
        for name in sorted(os.listdir(self.outbox_dir)):
            if not name.endswith(".json") or not KEY_RE.match(name[:-5]):
                continue
            path = os.path.join(self.outbox_dir, name)
            try:
                with open(path, encoding="utf-8") as handle:
                    entry = json.load(handle)
                entry["proposal"]["idempotency_key"]
            except (OSError, ValueError, KeyError, TypeError):
                os.replace(path, os.path.join(self.dead_dir, name + ".unreadable"))
                continue
            entries.append(entry)
        entries.sort(key=lambda e: (e.get("queued", 0), e["proposal"]["idempotency_key"]))
        return entries

    def keep(self, proposal, error, previous=None):
        """Put (or keep) a proposal in the outbox; returns False if it went to dead/."""
        key = proposal["idempotency_key"]
        entry = {"proposal": proposal, "attempts": 1, "last_error": error, "queued": time.time()}
        if previous:
            entry["attempts"] = int(previous.get("attempts", 0)) + 1
            entry["queued"] = previous.get("queued", entry["queued"])
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
