#!/usr/bin/env python3
"""Where a first file backup spends its time: runs one coffer backup of benches/files.py's data
set into a fresh repository under `perf stat` (task clock, context switches, CPU migrations,
instructions), and another under `strace -f -c` (system calls by count), and prints both per
file backed up. Used to profile the data path before and after each change (issue 18).

    cargo build --release && python3 benches/profile_files.py [path/to/coffer]
    python3 benches/profile_files.py --size-mib 50 --files 5000      # a quick run

The data set is generated once under --workdir (default: the temp directory) and kept there
between runs (`--data DIR` names one made earlier); perf and strace must be installed.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

from coffer_binary import checked, release_binary
from files import CONFIG, PASSWORD, generate, read_all

PERF_EVENTS = "task-clock,context-switches,cpu-migrations,instructions"


def workspace(root, data):
    if os.path.exists(root):
        shutil.rmtree(root)
    os.makedirs(root)
    with open(os.path.join(root, "main.hcl"), "w") as fh:
        fh.write(CONFIG.format(data=data))
    return root


def backup_cmd(coffer, ws, data):
    return [coffer, "-C", ws, "backup", "start", "--resource", f"dir:{data}", "--vault", "bench"]


def perf_stat(coffer, ws, data, env):
    out = subprocess.run(["perf", "stat", "-x", ",", "-e", PERF_EVENTS, "--"] + backup_cmd(coffer, ws, data),
                         env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    stats = {}
    for line in out.stderr.splitlines():
        parts = line.split(",")
        if len(parts) > 3 and parts[2] in PERF_EVENTS.split(","):
            try:
                stats[parts[2]] = float(parts[0])
            except ValueError:
                pass
    return stats


def strace_counts(coffer, ws, data, env, work):
    summary = os.path.join(work, "strace.txt")
    out = subprocess.run(["strace", "-f", "-c", "-o", summary, "--"] + backup_cmd(coffer, ws, data),
                         env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    counts = {}
    with open(summary) as fh:
        for line in fh:
            parts = line.split()
            # % time, seconds, usecs/call, calls, [errors], syscall
            if len(parts) >= 5 and parts[0][0].isdigit() and not parts[-1].startswith("total"):
                counts[parts[-1]] = int(parts[3])
    return counts


def main():
    default = release_binary()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("coffer", nargs="?", default=default, help=f"coffer binary (default: {default})")
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", help="a data set generated earlier (default: generate one)")
    ap.add_argument("--workdir", help="where to put the data set and repositories")
    args = ap.parse_args()
    coffer = checked(args.coffer)
    work = args.workdir or os.path.join(tempfile.gettempdir(), "coffer-profile-files")
    os.makedirs(work, exist_ok=True)
    data = args.data or os.path.join(work, f"data-{args.size_mib}-{args.files}-{args.seed}")
    if not os.path.exists(data):
        print(f"generating {args.size_mib} MiB in {args.files:,} files under {data}", file=sys.stderr)
        generate(data, args.files, args.size_mib, args.seed)
    files = sum(len(names) for _, _, names in os.walk(data))
    env = dict(os.environ, COFFER_VAULT_PASSWORD=PASSWORD, XDG_CACHE_HOME=os.path.join(work, "cache"),
               NO_COLOR="1")
    read_all(data)
    ws = workspace(os.path.join(work, "perf"), data)
    subprocess.run([coffer, "-C", ws, "apply", "--auto-approve"], env=env, check=True, capture_output=True)
    os.sync()
    perf = perf_stat(coffer, ws, data, env)
    ws = workspace(os.path.join(work, "strace"), data)
    subprocess.run([coffer, "-C", ws, "apply", "--auto-approve"], env=env, check=True, capture_output=True)
    os.sync()
    calls = strace_counts(coffer, ws, data, env, work)
    print(f"{files:,} files; per file:")
    print(f"  task-clock       {perf.get('task-clock', 0) * 1000 / files:10.1f} µs of CPU")
    print(f"  context-switches {perf.get('context-switches', 0) / files:10.2f}")
    print(f"  cpu-migrations   {perf.get('cpu-migrations', 0) / files:10.2f}")
    if "instructions" in perf:
        print(f"  instructions     {perf['instructions'] / files:10.0f}")
    else:
        print("  instructions     (no hardware counters on this machine)")
    top = sorted(calls.items(), key=lambda kv: -kv[1])[:10]
    print(f"  system calls     {sum(calls.values()) / files:10.1f} in all; most frequent:")
    for name, n in top:
        print(f"    {name:16} {n / files:8.2f}   ({n:,})")


if __name__ == "__main__":
    main()
