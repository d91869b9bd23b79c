#!/usr/bin/env python3
"""Copy benchmark: `coffer copy start` against `restic copy` (restic 0.14, the Debian package)
copying the same file-level snapshot out of the same source repository into a fresh local
repository with another key, in one run.

The source is a coffer vault repository (restic's format) holding one backup of the data set
of benches/files.py (default 1 GiB in 100,000 files, generated from a seed). Per round, both
destinations are new and empty: coffer's is a second vault with its own key (`password_env`),
restic's is `restic init --from-repo SRC --copy-chunker-params`. Only the copy commands are
timed:

  coffer   coffer copy start --recovery-point RP --vault dst
  restic   restic -r DST copy --from-repo SRC SNAPSHOT

Both read every blob the destination lacks from the source, decrypt it with the source key,
and write it encrypted with the destination key into new packs, and both fsync. The target is
coffer at least as fast: restic's time / coffer's >= 1.0. There are --rounds rounds (default
3), alternating which tool goes first, each figure the median; dirty pages are written out
(`sync`) before each timed command, and the source is read once before the first round so
both see a warm page cache. Each destination is checked afterwards: `restic check` passes and
`restic snapshots` lists one snapshot with the source's tree.

    cargo build --release && python3 benches/copy.py [path/to/coffer]
    python3 benches/copy.py --size-mib 50 --files 5000      # a quick smoke run
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from coffer_binary import checked
from files import MIB, RESTIC, log, median, read_all, run, timed, tree_size
from snapshot_bench import arguments, backed_up

SRC_KEY, DST_KEY = "coffer-bench-source-key", "coffer-bench-destination-key"

CONFIG = """
vault "src" {{
  storage = "file://./src"
}}

vault "dst" {{
  storage      = "file://./dst"
  password_env = "DST_KEY"
}}

plan "bench" {{
  rule "daily" {{
    schedule     = "cron(0 3 * * ? *)"
    target_vault = vault.src
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


def snapshots(repo, password, env):
    return json.loads(run([RESTIC, "-r", repo, "snapshots", "--json", "--no-lock"], dict(env, RESTIC_PASSWORD=password)))


def checked_copy(repo, password, tree, env):
    """The destination holds one snapshot with the source's tree, and restic's check passes."""
    snaps = snapshots(repo, password, env)
    if len(snaps) != 1 or snaps[0]["tree"] != tree:
        raise SystemExit(f"{repo}: expected one snapshot of tree {tree}, found {snaps}")
    run([RESTIC, "-r", repo, "check"], dict(env, RESTIC_PASSWORD=password))


def main():
    args = arguments(__doc__)
    coffer = checked(args.coffer)

    work = tempfile.mkdtemp(prefix="coffer-copy-bench-", dir=args.workdir)
    env = dict(os.environ, COFFER_VAULT_PASSWORD=SRC_KEY, DST_KEY=DST_KEY,
               XDG_CACHE_HOME=os.path.join(work, "cache"), NO_COLOR="1")
    try:
        dataset, _, ws, point, native = backed_up(coffer, work, args, CONFIG, "src", env)
        src = os.path.join(ws, "src")
        tree = next(s["tree"] for s in snapshots(src, SRC_KEY, env) if s["id"] == native)
        read_all(src)
        samples = {"coffer": [], "restic": []}
        peaks = {"coffer": [], "restic": []}
        load_before = os.getloadavg()[0]
        for i in range(args.rounds):
            order = ["restic", "coffer"] if i % 2 == 0 else ["coffer", "restic"]
            log(f"round {i + 1} of {args.rounds}: {', then '.join(order)}")
            dst = os.path.join(ws, "dst")
            restic_dst = os.path.join(work, "restic-dst")
            for d in (dst, restic_dst):
                shutil.rmtree(d, ignore_errors=True)
            # a fresh destination vault: apply initialises its repository again
            run([coffer, "-C", ws, "apply", "--auto-approve"], env)
            run([RESTIC, "init", "--repo", restic_dst, "--from-repo", src, "--copy-chunker-params"],
                dict(env, RESTIC_PASSWORD=DST_KEY, RESTIC_FROM_PASSWORD=SRC_KEY))
            cmds = {
                "coffer": ([coffer, "-C", ws, "copy", "start", "--recovery-point", point, "--vault", "dst"], env),
                "restic": ([RESTIC, "-r", restic_dst, "copy", "--from-repo", src, native],
                           dict(env, RESTIC_PASSWORD=DST_KEY, RESTIC_FROM_PASSWORD=SRC_KEY)),
            }
            for name in order:
                wall, rss, _cpu = timed(cmds[name][0], cmds[name][1], work)
                samples[name].append(wall)
                peaks[name].append(rss)
                log(f"{name}: {wall:.2f} s")
            checked_copy(dst, DST_KEY, tree, env)
            checked_copy(restic_dst, DST_KEY, tree, env)
        load = (load_before, os.getloadavg()[0])
        result = {
            "dataset": dataset,
            "rounds": args.rounds,
            "source_repository_bytes": tree_size(src),
            "tools": {name: {"copy_s": median(samples[name]), "samples_s": samples[name],
                             "peak_rss": median(peaks[name]),
                             "mib_s": dataset["bytes"] / MIB / median(samples[name])}
                      for name in samples},
        }
        result["ratio_restic_over_coffer"] = result["tools"]["restic"]["copy_s"] / result["tools"]["coffer"]["copy_s"]
        result["target_met"] = result["ratio_restic_over_coffer"] >= 1.0
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(dict(result, load_average=load), indent=2))
        return
    d = result["dataset"]
    print(f"data set: {d['bytes'] / MIB:.1f} MiB in {d['files']:,} files "
          f"(source repository {result['source_repository_bytes'] / MIB:.1f} MiB); {result['rounds']} round(s), "
          f"medians; load average before / after: {load[0]:.2f} / {load[1]:.2f}")
    print(f"{'tool':8} {'copy s':>8} {'MiB/s':>8} {'peak MiB':>10}   per round")
    for name, t in result["tools"].items():
        print(f"{name:8} {t['copy_s']:8.2f} {t['mib_s']:8.1f} {t['peak_rss'] / MIB:10.1f}   "
              + ", ".join(f"{s:.2f}" for s in t["samples_s"]))
    verdict = "PASS" if result["target_met"] else "MISS"
    print(f"copy time, restic / coffer: {result['ratio_restic_over_coffer']:.2f}  {verdict} "
          f"(target >= 1.00: coffer at least as fast)")


if __name__ == "__main__":
    main()
