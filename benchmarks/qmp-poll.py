#!/usr/bin/env python3
"""Does polling query-migrate every 100 ms slow a migration? (issue 13)

  benchmarks/qmp-poll.py [--runs N] [--memory 512M] [--workload sweep:256M,rate=20000]
                         [--max-bandwidth BYTES_PER_S] [--home DIR]

Starts two host daemons from the host home (default: ./godwit home), and N times each, alternating,
migrates a fresh VM from one to the other over a unix socket through QMP (examples/qmp/migrate.py's
client): once with a second QMP client polling query-migrate every 100 ms on the source, once without.
Every destination's oracle is checked. Prints each run and the medians of total-time, downtime and the
guest-observed downtime, polling against not polling, and how many polls were answered and how long
the slowest took.
"""

import argparse
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

here = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(here.parent / "examples" / "qmp"))
import migrate as qmp  # noqa: E402  (the example's client, standard library only)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--memory", default="512M")
    parser.add_argument("--workload", default="sweep:256M,rate=20000")
    parser.add_argument("--max-bandwidth", type=int, default=0, help="bytes/s, 0 unlimited")
    parser.add_argument("--home")
    args = parser.parse_args()
    home = pathlib.Path(args.home or subprocess.check_output([str(here.parent / "godwit"), "home"], text=True).strip())
    godwit = str(home / "bin" / "godwit")
    d = pathlib.Path(tempfile.mkdtemp(prefix="godwit-qmp-poll-"))
    hosts = []
    try:
        for name in ("a", "b"):
            hosts.append(subprocess.Popen([godwit, "--daemon", "--monitor", f"unix:{d}/{name}.sock",
                                           "--ready-file", f"{d}/{name}.ready", "--log", f"{d}/{name}.log"],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        while not all((d / f"{n}.ready").exists() for n in ("a", "b")):
            time.sleep(0.1)

        def run(host, script):
            return subprocess.run([godwit, "--connect", f"unix:{d}/{host}.sock", "-c", script],
                                  check=True, capture_output=True, text=True).stdout

        results = {True: [], False: []}
        for i in range(2 * args.runs):
            polling = i % 2 == 0
            src, dst = ("a", "b") if i % 4 < 2 else ("b", "a")
            guest = f"--memory {args.memory} --vcpus 2 --workload {args.workload}"
            run(src, f"vm_create g {guest} --qmp unix:{d}/{src}.qmp")
            run(dst, f"vm_create g {guest} --incoming defer --qmp unix:{d}/{dst}.qmp")
            time.sleep(1)  # let the sweep dirty its working set
            source, destination = qmp.Qmp(f"unix:{d}/{src}.qmp"), qmp.Qmp(f"unix:{d}/{dst}.qmp")
            caps = {"capabilities": [{"capability": "events", "state": True}]}
            source.execute("migrate-set-capabilities", caps)
            destination.execute("migrate-set-capabilities", caps)
            source.execute("migrate-set-parameters", {"max-bandwidth": args.max_bandwidth})
            uri = f"unix:{d}/mig-{i}.sock"
            destination.execute("migrate-incoming", {"uri": uri})
            polls, slowest, stop = [0], [0.0], threading.Event()

            def poll():
                poller = qmp.Qmp(f"unix:{d}/{src}.qmp")
                while not stop.is_set():
                    t = time.monotonic()
                    poller.execute("query-migrate")
                    slowest[0] = max(slowest[0], time.monotonic() - t)
                    polls[0] += 1
                    stop.wait(0.1)
                poller.close()

            poller = threading.Thread(target=poll) if polling else None
            if poller:
                poller.start()
            source.execute("migrate", {"uri": uri})
            event = source.wait_event("MIGRATION", lambda e: e["data"]["status"] in qmp.FINAL, 300)
            stop.set()
            if poller:
                poller.join()
            info = source.execute("query-migrate")
            destination.wait_event("MIGRATION", lambda e: e["data"]["status"] in qmp.FINAL, 300)
            destination.execute("stop")
            check = destination.execute("human-monitor-command", {"command-line": "vm_check g"})
            clean = "bad pages:     0\n" in check
            row = (info["total-time"], info.get("downtime", -1), info["x-godwit"].get("observed-downtime", -1),
                   info["ram"]["dirty-sync-count"])
            print(f"run {i + 1:2d} {src}->{dst} {'polling' if polling else 'quiet  '} {event['data']['status']}"
                  f" total {row[0]} ms, downtime {row[1]} ms, observed {row[2]} ms, passes {row[3]},"
                  f" polls {polls[0]}, slowest poll {slowest[0] * 1000:.1f} ms, oracle {'clean' if clean else 'BAD'}",
                  flush=True)
            if event["data"]["status"] != "completed" or not clean:
                return 1
            results[polling].append(row)
            source.close()
            destination.close()
            run(src, "vm_destroy g")
            run(dst, "vm_destroy g")
        print(f"\n{'':8} runs  median total-time  median downtime  median observed  median passes")
        for polling in (False, True):
            rows = results[polling]
            med = [statistics.median(r[k] for r in rows) for k in range(4)]
            print(f"{'polling' if polling else 'quiet':8} {len(rows):4}  {med[0]:14.0f} ms  {med[1]:12.0f} ms"
                  f"  {med[2]:12.0f} ms  {med[3]:13.0f}")
        print(f"load: {os.getloadavg()}")
        return 0
    finally:
        for h in hosts:
            h.terminate()
        for h in hosts:
            try:
                h.wait(15)
            except subprocess.TimeoutExpired:
                h.kill()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
