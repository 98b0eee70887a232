#!/usr/bin/env python3
"""Start-up time of commands, run interleaved (A B C A B C ...) so that load from other jobs on a shared
machine falls on every command alike. Prints, per command, the median and minimum wall time and the median
CPU time (user + system of the process and its children), which load changes much less than wall time.

Usage: bench/startup.py RUNS 'command one' 'command two' ...
"""
import os
import shlex
import statistics
import subprocess
import sys
import time


def run_once(argv):
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{shlex.join(argv)} exited with {os.waitstatus_to_exitcode(status)}")
    return wall, usage.ru_utime + usage.ru_stime


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    runs = int(sys.argv[1])
    commands = [shlex.split(c) for c in sys.argv[2:]]
    for argv in commands:  # one untimed run each: first-call work (a build, the disk cache) is not start-up
        run_once(argv)
    walls = [[] for _ in commands]
    cpus = [[] for _ in commands]
    for _ in range(runs):
        for i, argv in enumerate(commands):
            wall, cpu = run_once(argv)
            walls[i].append(wall)
            cpus[i].append(cpu)
    print(f"{runs} interleaved runs, load average at the end {os.getloadavg()[0]:.1f}")
    print("| command | median wall | min wall | median CPU (user+sys) |")
    print("| --- | ---: | ---: | ---: |")
    for argv, w, c in zip(commands, walls, cpus):
        print(f"| `{shlex.join(argv)}` | {statistics.median(w) * 1e3:.0f} ms | {min(w) * 1e3:.0f} ms "
              f"| {statistics.median(c) * 1e3:.0f} ms |")


if __name__ == "__main__":
    main()
