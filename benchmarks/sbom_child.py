"""Runs one command through SCP v2 as splunkd would and reports times and the command's peak RSS.

Run as its own process by bench_sbomcheck.py so that RUSAGE_CHILDREN covers
only the command. Usage: sbom_child.py PYTHON SCRIPT BODY_FILE CHUNKS [ARG...]
Prints JSON: startup (process start to getinfo reply, s), execute (s), total (s),
chunks answered, output bytes, peak RSS of the command (MB), its CPU time (user +
system, s: less sensitive than wall time to other load on the machine): ``cpu``
for the whole process, ``execute_cpu`` from the getinfo reply to the last chunk's
reply (from /proc, where there is one; else None).
"""
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))
from claw_ta_tools.emulators.scp_driver import encode_chunk, read_chunk, searchinfo  # noqa: E402


def cpu_seconds(pid):
    """User + system CPU time of a running process (Linux /proc), or None."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return None


def main(argv):
    python, script, body_file, chunks = argv[1], argv[2], argv[3], int(argv[4])
    args = argv[5:]
    dispatch = tempfile.mkdtemp(prefix="sbom_bench_")
    command = os.path.splitext(os.path.basename(script))[0]
    start = time.perf_counter()
    proc = subprocess.Popen([python, script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, cwd=os.path.dirname(script))
    proc.stdin.write(encode_chunk({"action": "getinfo", "preview": False,
                                   "searchinfo": searchinfo(args, command, dispatch)}))
    proc.stdin.flush()
    info = read_chunk(proc.stdout)
    startup = time.perf_counter() - start
    # Read only now: a child's peak RSS starts at its parent's size at fork (Linux).
    with open(body_file, "rb") as handle:
        body = handle.read()
    answered, out_bytes = 0, 0
    cpu_start = cpu_seconds(proc.pid)
    exec_start = time.perf_counter()
    for i in range(chunks):
        proc.stdin.write(encode_chunk({"action": "execute", "finished": i == chunks - 1}, body))
        proc.stdin.flush()
        reply = read_chunk(proc.stdout)
        if reply is None:
            break
        answered += 1
        out_bytes += len(reply[1])
    execute = time.perf_counter() - exec_start
    cpu_end = cpu_seconds(proc.pid)
    execute_cpu = None if cpu_start is None or cpu_end is None else cpu_end - cpu_start
    proc.stdin.close()
    proc.wait()
    total = time.perf_counter() - start
    os.rmdir(dispatch) if not os.listdir(dispatch) else None
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    rss_kb = usage.ru_maxrss
    print(json.dumps({"startup": startup, "execute": execute, "total": total, "chunks": answered,
                      "out_bytes": out_bytes, "rss_mb": rss_kb / 1024.0,
                      "cpu": usage.ru_utime + usage.ru_stime, "execute_cpu": execute_cpu,
                      "messages": ((info or [{}])[0].get("inspector") or {}).get("messages", [])}))


if __name__ == "__main__":
    main(sys.argv)
