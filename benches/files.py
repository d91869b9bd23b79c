#!/usr/bin/env python3
"""File backup benchmark: coffer against `restic backup` (restic 0.14, the Debian
package) on the same generated data set, in one run. Both back up to a fresh local repository
on the same filesystem, with the same password and their default compression; each backs the
data set up twice, and only the two backup commands are timed (not `restic init` or
`coffer apply`, which creates coffer's repository):

  first backup           everything is new: throughput is the data set's size / wall time
  no-change incremental  the same data again: both find the first snapshot as parent and
                         skip unchanged files by their metadata

Peak memory is the max RSS of the backup process, and CPU time its user plus system time
(both from wait4); files per second are the data set's files over the wall time. The targets
(issue 18) are coffer at least 1.5x as fast as restic on both, the ratios coffer/restic
first-backup throughput and restic/coffer incremental time >= 1.5, and coffer's peak memory at
most restic's plus 25%.

The data set (default 1 GiB in 100,000 files) is generated from a seed: 100 folders of 10
folders of 100 files, mostly a few KiB, 0.5% of them 256 KiB to 4 MiB, random (incompressible)
bytes; about 10% of the files are exact copies of another file, and a fifth of the large files
begin with the first half of another large file, so deduplication has something to find. The
unique bytes are printed next to the size.

Fairness: there are --rounds rounds (default 3), each from fresh repositories, alternating
which tool goes first; every figure is the median over the rounds, and each round's times are
printed too. Before each tool's first backup the whole data set is read once (so both see a
warm page cache), and before every timed command dirty pages are written out (`sync`), so
neither pays for the other's or the generator's writes. Both tools
fsync what they write. Both compress (restic 0.14's "auto" and rustic_core's default are zstd at
its default level): the "compressed" column counts the data blobs each repository's index
stores compressed, read with `restic cat index`, which also shows restic reads coffer's
repository. "unique MiB" is the plain size of those data blobs, what deduplication left: a
little more than the generator's unique bytes, as content-defined chunks only partly cover a
shared prefix. Results on a busy machine mean little: the load average is printed.

    cargo build --release && python3 benches/files.py [path/to/coffer]
    python3 benches/files.py --size-mib 50 --files 5000      # a quick smoke run

--json prints the results as JSON; --keep keeps the data set and repositories (the path is printed).
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

from coffer_binary import checked, release_binary

RESTIC = "/usr/bin/restic"
PASSWORD = "coffer-bench-password"
LARGE_SHARE, DUPLICATE_SHARE, VARIANT_SHARE = 0.005, 0.10, 0.2
SMALL_SIZES, LARGE_SIZES = (512, 16 << 10), (256 << 10, 4 << 20)
MIB = 1 << 20
# issue 18: coffer at least 1.5x restic's first-backup throughput and no-change speed, and at
# most restic's peak memory plus 25%
TARGET, MAX_RSS_RATIO = 1.5, 1.25

CONFIG = """
coffer {{
  backend "local" {{
    path = ".coffer"
  }}
}}

vault "bench" {{
  storage = "file://./repo"
}}

plan "bench" {{
  rule "daily" {{
    schedule     = "cron(0 3 * * ? *)"
    target_vault = vault.bench
    lifecycle {{
      delete_after = "35d"
    }}
  }}
}}

selection "all" {{
  plan    = plan.bench
  any_tag = {{ Backup = ["yes"] }}
}}

directory "data" {{
  path = "{data}"
  tags = {{ Backup = "yes" }}
}}
"""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def log_uniform(rng, low, high):
    return int(low * (high / low) ** rng.random())


def layout(files, size_mib, seed):
    """Per file: its size and what it copies: None, ("copy", j) or ("prefix", j, length)."""
    rng = random.Random(seed)
    sizes, origin, large = [], [], []
    for i in range(files):
        if i > 0 and rng.random() < DUPLICATE_SHARE:
            j = rng.randrange(i)
            j = origin[j][1] if origin[j] and origin[j][0] == "copy" else j
            sizes.append(sizes[j])
            origin.append(("copy", j))
            continue
        is_large = rng.random() < LARGE_SHARE or (i == files - 1 and not large)  # at least one
        sizes.append(log_uniform(rng, *(LARGE_SIZES if is_large else SMALL_SIZES)))
        origin.append(("prefix", rng.choice(large)) if is_large and large and rng.random() < VARIANT_SHARE else None)
        if is_large:
            large.append(i)
    scale = size_mib * MIB / sum(sizes)
    sizes = [max(1, int(s * scale)) for s in sizes]
    # a variant starts with the first half of its source (or all of it, if that is shorter)
    origin = [("prefix", o[1], min(sizes[i] // 2, sizes[o[1]])) if o and o[0] == "prefix" else o
              for i, o in enumerate(origin)]
    return sizes, origin


def file_path(root, i):
    return os.path.join(root, f"{i // 1000:03d}", f"{i // 100 % 10}", f"{i:06d}.bin")


def generate(root, files, size_mib, seed):
    """Writes the data set; returns its description."""
    sizes, origin = layout(files, size_mib, seed)
    rng = random.Random(seed + 1)
    for i, size in enumerate(sizes):
        path = file_path(root, i)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        o = origin[i]
        if o and o[0] == "copy":
            shutil.copyfile(file_path(root, o[1]), path)
            continue
        with open(path, "wb") as fh:
            if o:
                with open(file_path(root, o[1]), "rb") as src:
                    fh.write(src.read(o[2]))
            fh.write(rng.randbytes(size - (o[2] if o else 0)))
    copies = [i for i, o in enumerate(origin) if o and o[0] == "copy"]
    variants = [o for o in origin if o and o[0] == "prefix"]
    unique = sum(sizes) - sum(sizes[i] for i in copies) - sum(o[2] for o in variants)
    return {"files": files, "bytes": sum(sizes), "unique_bytes": unique, "copies": len(copies),
            "variants": len(variants), "seed": seed}


def read_all(root):
    for folder, _, names in os.walk(root):
        for name in names:
            with open(os.path.join(folder, name), "rb") as fh:
                while fh.read(MIB):
                    pass


def run(cmd, env):
    """Runs a command to the end; returns its stdout. Exits with its stderr if it fails."""
    out = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        log(out.stderr[-5000:])
        raise SystemExit(f"{' '.join(cmd)} failed with exit code {out.returncode}")
    return out.stdout


def timed(cmd, env, work):
    """Runs a command after `sync`; returns (wall seconds, peak RSS in bytes, CPU seconds: user
    plus system) of that process."""
    os.sync()
    with tempfile.TemporaryFile(dir=work) as out, tempfile.TemporaryFile(dir=work) as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            log(err.read().decode(errors="replace")[-5000:])
            raise SystemExit(f"{' '.join(cmd)} failed with exit code {proc.returncode}")
    return wall, usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime


def tree_size(root):
    return sum(os.path.getsize(os.path.join(d, n)) for d, _, names in os.walk(root) for n in names)


def index_stats(repo, env):
    """Data blobs in a repository's index: how many, how many compressed, their plain bytes."""
    blobs = [b for i in run([RESTIC, "--repo", repo, "list", "index"], env).split()
             for p in json.loads(run([RESTIC, "--repo", repo, "cat", "index", i], env))["packs"]
             for b in p["blobs"] if b["type"] == "data"]
    # an encrypted blob carries a 16-byte IV and a 16-byte MAC
    # (an uncompressed blob has no uncompressed_length, or rustic_core's null)
    plain = sum(b.get("uncompressed_length") or b["length"] - 32 for b in blobs)
    return {"data_blobs": len(blobs), "compressed_blobs": sum(1 for b in blobs if b.get("uncompressed_length")),
            "unique_bytes": plain}


def bench(name, version, setup, backup, repo, data, env, work):
    """Sets up a tool's repository, then times its first and its no-change backup."""
    run(setup, env)
    log(f"{name}: reading the data set once, then the first backup")
    read_all(data)
    first, first_rss, first_cpu = timed(backup, env, work)
    repo_bytes = tree_size(repo)
    log(f"{name}: first backup took {first:.1f} s; now the no-change backup")
    again, again_rss, again_cpu = timed(backup, env, work)
    return {"version": version, "first_s": first, "first_peak_rss": first_rss, "first_cpu_s": first_cpu,
            "repository_bytes": repo_bytes, "incremental_s": again, "incremental_peak_rss": again_rss,
            "incremental_cpu_s": again_cpu, **index_stats(repo, env)}


def version_line(cmd, env):
    return run(cmd, env).splitlines()[0]


def median(values):
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def one_round(coffer, work, data, env, order, round_no):
    """Both tools from fresh repositories, in `order`; returns each tool's measurements."""
    base = os.path.join(work, f"round-{round_no}")
    restic_repo = os.path.join(base, "restic-repo")
    ws = os.path.join(base, "coffer")
    os.makedirs(ws)
    with open(os.path.join(ws, "main.hcl"), "w") as fh:
        fh.write(CONFIG.format(data=data))
    runs = {
        "restic": lambda: bench("restic", version_line([RESTIC, "version"], env), [RESTIC, "init", "--repo", restic_repo],
                                [RESTIC, "backup", "--repo", restic_repo, data], restic_repo, data, env, work),
        "coffer": lambda: bench("coffer", version_line([coffer, "version"], env),
                                [coffer, "-C", ws, "apply", "--auto-approve"],
                                [coffer, "-C", ws, "backup", "start", "--resource", f"dir:{data}", "--vault", "bench"],
                                os.path.join(ws, "repo"), data, env, work),
    }
    out = {name: runs[name]() for name in order}
    shutil.rmtree(base, ignore_errors=True)
    return out


def results(coffer, work, dataset, env, rounds):
    """`rounds` rounds, alternating which tool goes first; each figure is the median."""
    data = os.path.join(work, "data")
    samples = []
    for i in range(rounds):
        order = ["restic", "coffer"] if i % 2 == 0 else ["coffer", "restic"]
        log(f"round {i + 1} of {rounds}: {', then '.join(order)}")
        samples.append(one_round(coffer, work, data, env, order, i))
    tools = {}
    for name in ("restic", "coffer"):
        runs = [s[name] for s in samples]
        # times and memory are medians; sizes and blob counts are the first round's
        t = {k: median([r[k] for r in runs]) if k.endswith(("_s", "_rss")) else runs[0][k] for k in runs[0]}
        t["first_mib_s"] = dataset["bytes"] / MIB / t["first_s"]
        t["first_files_s"] = dataset["files"] / t["first_s"]
        t["first_cpu_s_per_gib"] = t["first_cpu_s"] / (dataset["bytes"] / (1 << 30))
        t["incremental_files_s"] = dataset["files"] / t["incremental_s"]
        t["samples"] = {k: [r[k] for r in runs] for k in ("first_s", "incremental_s")}
        tools[name] = t
    ratios = {
        "first_backup_throughput_coffer_over_restic": tools["coffer"]["first_mib_s"] / tools["restic"]["first_mib_s"],
        "incremental_time_restic_over_coffer": tools["restic"]["incremental_s"] / tools["coffer"]["incremental_s"],
    }
    ratios["first_backup_peak_rss_coffer_over_restic"] = (tools["coffer"]["first_peak_rss"]
                                                          / tools["restic"]["first_peak_rss"])
    met = {k: (v <= MAX_RSS_RATIO if k.endswith("_rss_coffer_over_restic") else v >= TARGET)
           for k, v in ratios.items()}
    return {"dataset": dataset, "rounds": rounds, "tools": tools, "ratios": ratios, "target_met": met}


def report(r, load):
    d = r["dataset"]
    print(f"data set: {d['bytes'] / MIB:.1f} MiB in {d['files']:,} files, {d['unique_bytes'] / MIB:.1f} MiB unique "
          f"({d['copies']:,} exact copies, {d['variants']} large files sharing a prefix; seed {d['seed']})")
    print(f"{r['rounds']} round(s), alternating which tool goes first; medians shown; "
          f"load average before / after: {load[0]:.2f} / {load[1]:.2f}")
    print()
    for name, t in r["tools"].items():
        print(f"{name}: {t['version']}")
    print()
    print(f"{'':8} {'first backup':^51}   {'no-change incr.':^30}   {'repository after first':^31}")
    print(f"{'tool':8} {'s':>8} {'MiB/s':>8} {'files/s':>9} {'CPU s/GiB':>10} {'peak MiB':>10}   "
          f"{'s':>8} {'files/s':>9} {'peak MiB':>10}   {'MiB':>8} {'unique MiB':>10} {'compressed':>11}")
    for name, t in r["tools"].items():
        compressed = f"{t['compressed_blobs']}/{t['data_blobs']}"
        print(f"{name:8} {t['first_s']:8.2f} {t['first_mib_s']:8.1f} {t['first_files_s']:9.0f} "
              f"{t['first_cpu_s_per_gib']:10.2f} {t['first_peak_rss'] / MIB:10.1f}   "
              f"{t['incremental_s']:8.2f} {t['incremental_files_s']:9.0f} {t['incremental_peak_rss'] / MIB:10.1f}   "
              f"{t['repository_bytes'] / MIB:8.1f} {t['unique_bytes'] / MIB:10.1f} {compressed:>11}")
    print()
    for name, t in r["tools"].items():
        rounds = ", ".join(f"{a:.2f}/{b:.2f}" for a, b in zip(t["samples"]["first_s"], t["samples"]["incremental_s"]))
        print(f"{name}: {t['version']}; first/incremental s per round: {rounds}")
    print()
    labels = {"first_backup_throughput_coffer_over_restic": "first backup throughput, coffer / restic",
              "incremental_time_restic_over_coffer": "no-change incremental time, restic / coffer",
              "first_backup_peak_rss_coffer_over_restic": "first backup peak memory, coffer / restic"}
    for key, ratio in r["ratios"].items():
        verdict = "PASS" if r["target_met"][key] else "MISS"
        target = (f"<= {MAX_RSS_RATIO:.2f}: at most restic's plus 25%" if key.endswith("_rss_coffer_over_restic")
                  else f">= {TARGET:.2f}")
        print(f"{labels[key]:44} {ratio:6.2f}  {verdict} (target {target})")


def main():
    default = release_binary()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("coffer", nargs="?", default=default, help=f"coffer binary (default: {default})")
    ap.add_argument("--size-mib", type=int, default=1024, help="data set size in MiB (default: 1024)")
    ap.add_argument("--files", type=int, default=100_000, help="number of files (default: 100000)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the data set (default: 1)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds per tool; figures are medians (default: 3)")
    ap.add_argument("--workdir", help="where to put the data set and repositories (default: the temp directory)")
    ap.add_argument("--keep", action="store_true", help="keep the data set and repositories")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args()
    coffer = checked(args.coffer)

    work = tempfile.mkdtemp(prefix="coffer-files-bench-", dir=args.workdir)
    # both tools keep their caches (restic/, rustic/) in the work directory
    env = dict(os.environ, RESTIC_PASSWORD=PASSWORD, COFFER_VAULT_PASSWORD=PASSWORD,
               XDG_CACHE_HOME=os.path.join(work, "cache"), NO_COLOR="1")
    try:
        log(f"generating {args.size_mib} MiB in {args.files:,} files under {work}")
        t0 = time.time()
        dataset = generate(os.path.join(work, "data"), args.files, args.size_mib, args.seed)
        os.sync()
        log(f"generated in {time.time() - t0:.1f} s")
        load_before = os.getloadavg()[0]
        r = results(coffer, work, dataset, env, args.rounds)
        load = (load_before, os.getloadavg()[0])
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps(dict(r, load_average=load), indent=2))
    else:
        report(r, load)


if __name__ == "__main__":
    main()
