"""Replay speed and memory, library-load volume reduction, and recall under sampling.

    .venv/bin/python benchmarks/bench_replay.py                    # 200k events (a few minutes)
    .venv/bin/python benchmarks/bench_replay.py --events 1000000
    .venv/bin/python benchmarks/bench_replay.py --memory 3000000   # peak RSS at 3M events
    PYTHONPATH=TA-claw-runtime/bin:tools python3.9 benchmarks/bench_replay.py   # another interpreter

1. Speed: ``claw-ta replay`` (all detections) over a generated scenario of
   --events raw events (90% library loads over a fleet of pods, heartbeats,
   attestations, a few attacks), against two baselines measured in the same
   run on the same file: ``json.loads`` of every line (the least any replay
   must do; target: at most 3.5x its time) and the replay as it was at
   --baseline-commit (the code before the speed work, taken with ``git
   archive`` into a temporary folder and run in a child process; target: at
   least 2x its events/s). CPU time of one process, so one core; each figure
   is the least of --repeat interleaved runs (a shared machine slows some).
2. Memory (--memory N, repeatable): peak RSS of a child process replaying N
   generated events over the same fleet, so that growth with events (not
   entities) shows; target: 3M events under 400 MB.
3. Volume: library_load events the unlisted-library search selects vs the rows
   its ``stats`` hands to ``clawsbomcheck`` (generated data and bundled scenarios).
4. Recall on the bundled scenarios at sampling ratios 1, 10 and 100, with
   first-sighting-preserving sampling and with plain random sampling.
"""
import argparse
import calendar
import glob
import io
import json
import os
import random
import subprocess
import sys
import tarfile
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
APP_BIN = os.path.join(REPO, "TA-claw-runtime", "bin")
TOOLS = os.path.join(REPO, "tools")
sys.path[:0] = [APP_BIN, TOOLS]

from claw_ta_tools.detections import engine  # noqa: E402
from claw_ta_tools.detections.evaluate import score, total  # noqa: E402
from claw_ta_tools.detections.sampling import first_sighting_sampler, random_sampler  # noqa: E402

# The replay before its speed work (docs/replay.md, "Speed and memory"): normalize through a
# float, every event kept.
BASELINE_COMMIT = "7e0d5d1a4be437e01f3f9dce43a5e7972186c33e"
# Run in a child process: replays a scenario with the packages under argv[1] (os.pathsep-separated),
# prints CPU seconds, alert count and peak RSS (KiB). The replay engine sat in the app's
# claw_ta.detections before the tools moved out of the app (the baseline commit's layout).
CHILD = """
import os, resource, sys, time
sys.path[:0] = sys.argv[1].split(os.pathsep)
try:
    from claw_ta.detections import engine
except ImportError:
    from claw_ta_tools.detections import engine
started = time.process_time()
result = engine.replay(sys.argv[2])
print("%.6f %d %d" % (time.process_time() - started, len(result.alerts),
                      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
"""

LIBS = ["/usr/lib/x86_64-linux-gnu/%s" % n for n in (
    "libc.so.6", "libssl.so.3", "libcrypto.so.3", "libz.so.1", "libpthread.so.0", "libm.so.6",
    "libdl.so.2", "libstdc++.so.6", "libgcc_s.so.1", "libpcre2-8.so.0", "libzstd.so.1", "liblzma.so.5")]


def _digest(rng):
    return "sha256:%064x" % rng.getrandbits(256)


def generate(path, count, seed=7):
    rng = random.Random(seed)
    apps = [(_digest(rng), _digest(rng), "registry.example.com/team%d/app%d:1.%d" % (i % 7, i, i % 5))
            for i in range(60)]
    lib_digests = dict((lib, _digest(rng)) for lib in LIBS)
    hosts = ["node-%02d" % i for i in range(40)]
    start = calendar.timegm((2026, 11, 20, 11, 0, 0))  # one hour of history, one of window
    step = 7200.0 / count
    ids = 0
    with open(path, "w") as out:
        for i in range(count):
            t = start + i * step
            ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + (".%06dZ" % int((t % 1) * 1e6))
            host = hosts[i % len(hosts)]
            ids += 1
            event = {"timestamp": ts, "event_id": "b-%d" % ids, "agent_id": "claw-" + host,
                     "runtime_version": "1.8.2", "host": host}
            roll = i % 100
            app, image, ref = apps[(i // 100) % len(apps)]
            pod = "app-%d-%s" % (apps.index((app, image, ref)), host)
            if roll < 90:
                lib = LIBS[i % len(LIBS)]
                if i == int(count * 0.75):
                    lib = "/dev/shm/.x/libinject.so"
                event.update(event_type="library_load", subject_digest=app, subject_name="/usr/bin/app",
                             triggering_process_path="/usr/bin/app", pid=1000 + i % 500, library_path=lib,
                             library_digest=lib_digests.get(lib, _digest(rng)), image_digest=image,
                             image_ref=ref, k8s_namespace="team-prod", k8s_pod=pod)
            elif roll < 95:
                event.update(event_type="agent_heartbeat")
            else:
                event.update(event_type="image_attestation" if roll % 2 else "binary_attestation",
                             verdict="Allowed", subject_digest=image if roll % 2 else app, slsa_level=3,
                             image_digest=image, image_ref=ref, k8s_namespace="team-prod", k8s_pod=pod)
            out.write(json.dumps(event, separators=(",", ":")) + "\n")


def make_scenario(root, count):
    path = os.path.join(root, "bench")
    os.makedirs(os.path.join(path, "events"))
    with open(os.path.join(path, "scenario.json"), "w") as handle:
        json.dump({"name": "bench", "detect_from": "2026-11-20T12:00:00Z",
                   "detect_to": "2026-11-20T13:00:00Z"}, handle)
    generate(os.path.join(path, "events", "fleet.jsonl"), count)
    return path


def baseline(path):
    started = time.process_time()
    n = 0
    for name in sorted(glob.glob(os.path.join(path, "events", "*"))):
        with open(name, encoding="utf-8") as handle:
            for line in handle:
                json.loads(line)
                n += 1
    return time.process_time() - started, n


def child_replay(package_dir, scenario):
    """(CPU seconds, alerts, peak RSS MiB) of a replay in a fresh interpreter."""
    out = subprocess.run([sys.executable, "-c", CHILD, package_dir, scenario], check=True,
                         stdout=subprocess.PIPE, universal_newlines=True).stdout.split()
    return float(out[0]), int(out[1]), int(out[2]) / 1024.0


def baseline_package(commit, root):
    """The app (bin/, default/, lookups/) at ``commit`` (git archive) under ``root``, or None."""
    try:
        data = subprocess.run(["git", "-C", REPO, "archive", commit, "TA-claw-runtime"], check=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        print("baseline: cannot take %s from git (%s): skipped" % (commit[:12], error))
        return None
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        if hasattr(tarfile, "data_filter"):
            archive.extractall(root, filter="data")
        else:
            archive.extractall(root)
    return os.path.join(root, "TA-claw-runtime", "bin")


def speed(count, commit, repeat):
    """Each figure is the least CPU time of ``repeat`` runs, the runs interleaved, so
    that a busy machine slows all of them alike and the ratios stay comparable."""
    with tempfile.TemporaryDirectory() as root:
        path = make_scenario(root, count)
        old_bin = baseline_package(commit, os.path.join(root, "old")) if commit else None
        base_s = replay_s = old_s = None
        for _ in range(repeat):
            seconds, n = baseline(path)
            base_s = seconds if base_s is None else min(base_s, seconds)
            started = time.process_time()
            result = engine.replay(path)
            seconds = time.process_time() - started
            replay_s = seconds if replay_s is None else min(replay_s, seconds)
            if old_bin:
                seconds, old_alerts, _ = child_replay(old_bin, path)
                old_s = seconds if old_s is None else min(old_s, seconds)
        print("speed: %d events, python %s, least CPU time of %d runs" % (n, sys.version.split()[0], repeat))
        print("  json.loads of every line   %6.2f s CPU (%7.0f events/s)" % (base_s, n / base_s))
        print("  replay (this tree)         %6.2f s CPU (%7.0f events/s): %.2fx the time of json.loads"
              " (target <= 3.5x)" % (replay_s, n / replay_s, replay_s / base_s))
        if old_bin:
            print("  replay at %s       %6.2f s CPU (%7.0f events/s): %.2fx the time of json.loads"
                  % (commit[:7], old_s, n / old_s, old_s / base_s))
            print("  events/s ratio this tree / %s: %.2fx (target >= 2x); alerts %d / %d"
                  % (commit[:7], old_s / replay_s, len(result.alerts), old_alerts))
    selected, aggregated, _ = result.stage_counts["claw_unlisted_library_load"]
    print("volume (generated): %d library_load events -> %d rows to clawsbomcheck (%.0fx fewer)"
          % (selected, aggregated, selected / float(max(aggregated, 1))))


def memory(counts):
    for count in counts:
        with tempfile.TemporaryDirectory() as root:
            path = make_scenario(root, count)
            seconds, alerts, rss = child_replay(APP_BIN + os.pathsep + TOOLS, path)
            print("memory: %d events: peak RSS %.0f MiB (%.0f bytes/event), %.1f s CPU, %d alerts"
                  " (target at 3M events: < 400 MB)" % (count, rss, rss * 1048576.0 / count, seconds, alerts))


def scenarios_figures(folder):
    dirs = sorted(d for d in glob.glob(os.path.join(folder, "*", "")) if os.path.exists(os.path.join(d, "scenario.json")))
    if not dirs:
        print("no scenarios under %s" % folder)
        return
    loads = rows = 0
    for d in dirs:
        selected, aggregated, _ = engine.replay(d).stage_counts["claw_unlisted_library_load"]
        loads += selected
        rows += aggregated
    print("volume (%d bundled scenarios): %d library_load events -> %d rows to clawsbomcheck (%.1fx fewer)"
          % (len(dirs), loads, rows, loads / float(max(rows, 1))))
    for ratio in (1, 10, 100):
        for mode, factory in (("first-sighting", first_sighting_sampler), ("random", random_sampler)):
            if ratio == 1 and mode == "random":
                continue
            scores = []
            for d in dirs:
                result = engine.replay(d, sampler=factory(ratio) if ratio > 1 else None)
                scores.append(score(result.scenario.expected(), result.alerts + result.incidents()))
            t = total(scores)
            print("sampling 1/%-3d %-14s recall %.3f  precision %.3f  (%d/%d expected alerts)"
                  % (ratio, mode, t["recall"], t["precision"], t["matched"], t["expected"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200000, help="generated events (default 200000)")
    parser.add_argument("--baseline-commit", default=BASELINE_COMMIT,
                        help="the commit whose replay is the speed baseline ('' to skip)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each speed figure; the least counts (3)")
    parser.add_argument("--memory", type=int, action="append", default=[],
                        help="also measure peak RSS replaying N events (repeatable)")
    parser.add_argument("--scenarios", default=os.path.join(REPO, "scenarios"))
    args = parser.parse_args()
    speed(args.events, args.baseline_commit, max(1, args.repeat))
    memory(args.memory)
    scenarios_figures(args.scenarios)


if __name__ == "__main__":
    main()
