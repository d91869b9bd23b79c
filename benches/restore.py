#!/usr/bin/env python3
"""Restore benchmark: `coffer restore start` against `restic restore` (restic 0.14, the Debian
package) restoring the same file-level snapshot of the same repository into an empty
directory, in one run.

The repository is a coffer vault repository (restic's format) holding one backup of the data
set of benches/files.py (default 1 GiB in 100,000 files, generated from a seed). Only the
restore commands are timed:

  coffer   coffer restore start --recovery-point RP --target DIR
  restic   restic -r REPO restore SNAPSHOT --target DIR

coffer reads back and verifies every restored file against the snapshot (restic 0.14 does
not unless given --verify, which this benchmark also times as a third row). The target is
coffer at least as fast as plain `restic restore`: restic's time / coffer's >= 1.0. There are
--rounds rounds (default 3), alternating which tool goes first, each figure the median; each
target starts empty, dirty pages are written out (`sync`) before each timed command, and the
repository is read once before the first round so both see a warm page cache. Every restore
is compared with the data set afterwards (file count and bytes).

The targets go to a tmpfs (/dev/shm, when it has room for them; --target-dir says otherwise).
On this machine's ext4 disk, creating 100,000 files shortly after 100,000 were deleted (the
previous round's target) spends most of both tools' time in the kernel's inode allocator
(`perf` shows ext4_create -> find_inode_bit -> recently_deleted), so that whichever tool
runs after a deletion loses, and the figures measure the disk's history rather than the tools.

    cargo build --release && python3 benches/restore.py [path/to/coffer]
    python3 benches/restore.py --size-mib 50 --files 5000      # a quick smoke run
"""

import json
import os
import shutil
import tempfile

from coffer_binary import checked
from files import MIB, RESTIC, log, median, read_all, timed, tree_size
from snapshot_bench import arguments, backed_up

KEY = "coffer-bench-restore-key"

CONFIG = """
vault "main" {{
  storage = "file://./repo"
}}

plan "bench" {{
  rule "daily" {{
    schedule     = "cron(0 3 * * ? *)"
    target_vault = vault.main
  }}
}}

selection "all" {{
  plan      = plan.bench
  resources = ["dir:*"]
}}

directory "data" {{
  path = "{data}"
}}
"""


def files_and_bytes(root):
    n, size = 0, 0
    for d, _, names in os.walk(root):
        for name in names:
            n += 1
            size += os.path.getsize(os.path.join(d, name))
    return n, size


def restored_root(target, data):
    """restic restores the snapshot's absolute paths under the target; coffer its contents."""
    nested = os.path.join(target, data.lstrip("/"))
    return nested if os.path.isdir(nested) else target


def target_parent(args, work, data_bytes):
    """Where the restore targets go: --target-dir, else /dev/shm when it is a tmpfs with room
    for two restores of the data set, else the work directory."""
    if args.target_dir:
        return args.target_dir
    shm = "/dev/shm"
    if os.path.isdir(shm) and shutil.disk_usage(shm).free > 2 * data_bytes + (256 * MIB):
        return shm
    return work


def main():
    args = arguments(__doc__, extra=lambda ap: ap.add_argument(
        "--target-dir", help="where the restore targets go (default: /dev/shm if it has room, else the work directory)"))
    coffer = checked(args.coffer)

    work = tempfile.mkdtemp(prefix="coffer-restore-bench-", dir=args.workdir)
    env = dict(os.environ, COFFER_VAULT_PASSWORD=KEY, RESTIC_PASSWORD=KEY,
               XDG_CACHE_HOME=os.path.join(work, "cache"), NO_COLOR="1")
    try:
        dataset, data, ws, point, native = backed_up(coffer, work, args, CONFIG, "main", env)
        expected = files_and_bytes(data)
        repo = os.path.join(ws, "repo")
        read_all(repo)
        targets = tempfile.mkdtemp(prefix="coffer-restore-bench-target-", dir=target_parent(args, work, expected[1]))
        log(f"restoring into {targets}")
        tools = ("coffer", "restic", "restic --verify")
        samples = {t: [] for t in tools}
        peaks = {t: [] for t in tools}
        load_before = os.getloadavg()[0]
        for i in range(args.rounds):
            order = list(tools) if i % 2 == 0 else list(reversed(tools))
            log(f"round {i + 1} of {args.rounds}: {', then '.join(order)}")
            for name in order:
                target = os.path.join(targets, "target")
                shutil.rmtree(target, ignore_errors=True)
                cmd = {
                    "coffer": [coffer, "-C", ws, "restore", "start", "--recovery-point", point, "--target", target],
                    "restic": [RESTIC, "-r", repo, "restore", native, "--target", target],
                    "restic --verify": [RESTIC, "-r", repo, "restore", native, "--target", target, "--verify"],
                }[name]
                wall, rss, _cpu = timed(cmd, env, work)
                got = files_and_bytes(restored_root(target, data))
                if got != expected:
                    raise SystemExit(f"{name} restored {got} (files, bytes), expected {expected}")
                samples[name].append(wall)
                peaks[name].append(rss)
                log(f"{name}: {wall:.2f} s")
        load = (load_before, os.getloadavg()[0])
        result = {
            "dataset": dataset,
            "rounds": args.rounds,
            "target_dir": targets,
            "repository_bytes": tree_size(repo),
            "tools": {t: {"restore_s": median(samples[t]), "samples_s": samples[t], "peak_rss": median(peaks[t]),
                          "mib_s": dataset["bytes"] / MIB / median(samples[t])} for t in tools},
        }
        result["ratio_restic_over_coffer"] = result["tools"]["restic"]["restore_s"] / result["tools"]["coffer"]["restore_s"]
        result["target_met"] = result["ratio_restic_over_coffer"] >= 1.0
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if "targets" in locals():
            shutil.rmtree(targets, ignore_errors=True)
    if args.json:
        print(json.dumps(dict(result, load_average=load), indent=2))
        return
    d = result["dataset"]
    print(f"data set: {d['bytes'] / MIB:.1f} MiB in {d['files']:,} files; {result['rounds']} round(s), medians; "
          f"load average before / after: {load[0]:.2f} / {load[1]:.2f}; restored into {result['target_dir']}")
    print(f"{'tool':16} {'restore s':>10} {'MiB/s':>8} {'peak MiB':>10}   per round")
    for name, t in result["tools"].items():
        print(f"{name:16} {t['restore_s']:10.2f} {t['mib_s']:8.1f} {t['peak_rss'] / MIB:10.1f}   "
              + ", ".join(f"{s:.2f}" for s in t["samples_s"]))
    verdict = "PASS" if result["target_met"] else "MISS"
    print(f"restore time, restic / coffer: {result['ratio_restic_over_coffer']:.2f}  {verdict} "
          f"(target >= 1.00: coffer, which verifies every file, at least as fast as plain restic restore)")


if __name__ == "__main__":
    main()
