"""An exclusive lock on a file that the OS releases when its process dies.

``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows: a lock left by a
killed process is free at once (no age guess, no pid reuse question). The
file itself stays; it holds the pid of the last holder, for people.
"""
import errno
import os
import time

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt


class LockTimeout(Exception):
    pass


class FileLock(object):
    def __init__(self, path):
        self.path = path
        self._fd = None

    def _try(self, fd):
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            else:
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError as err:
            if err.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK, errno.EDEADLK):
                return False
            raise

    def acquire(self, wait=60.0, poll=0.2):
        fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
        end = time.monotonic() + wait
        while not self._try(fd):
            if time.monotonic() >= end:
                os.close(fd)
                raise LockTimeout("another process holds %s" % self.path)
            time.sleep(poll)
        self._fd = fd
        try:
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, str(os.getpid()).encode("ascii"))
        except OSError:
            pass  # the pid is only for people; a full disk must not stop the holder

    def release(self):
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the descriptor drops the OS lock

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()
