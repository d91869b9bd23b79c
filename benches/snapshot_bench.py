"""What the benchmarks of one file-level snapshot share (benches/copy.py, benches/restore.py):
their command line (the data set's size, files and seed, rounds, work directory, JSON), and a
coffer workspace with the data set of benches/files.py backed up once into a vault."""

import argparse
import json
import os

from coffer_binary import release_binary
from files import generate, log, run


def arguments(doc, extra=None):
    """The benchmark's command line, described by its module docstring `doc`; `extra` adds
    the benchmark's own options to the parser."""
    default = release_binary()
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("coffer", nargs="?", default=default, help=f"coffer binary (default: {default})")
    ap.add_argument("--size-mib", type=int, default=1024, help="data set size in MiB (default: 1024)")
    ap.add_argument("--files", type=int, default=100_000, help="number of files (default: 100000)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the data set (default: 1)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds per tool; figures are medians (default: 3)")
    ap.add_argument("--workdir", help="where to put the data set and repositories (default: the temp directory)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    if extra:
        extra(ap)
    return ap.parse_args()


def backed_up(coffer, work, args, config, vault, env):
    """Generates the data set under `work`, applies `config` (with `{data}` its path) in a
    coffer workspace and backs the data set up into `vault`. Returns the data set's
    description, its path, the workspace, and the recovery point's id and snapshot id."""
    data = os.path.join(work, "data")
    log(f"generating {args.size_mib} MiB in {args.files:,} files under {work}")
    dataset = generate(data, args.files, args.size_mib, args.seed)
    ws = os.path.join(work, "coffer")
    os.makedirs(ws)
    with open(os.path.join(ws, "main.hcl"), "w") as fh:
        fh.write(config.format(data=data))
    run([coffer, "-C", ws, "apply", "--auto-approve"], env)
    log(f"backing the data set up into vault {vault}")
    job = json.loads(run([coffer, "-C", ws, "backup", "start", "--resource", f"dir:{data}", "--vault", vault,
                          "--json"], env))
    return dataset, data, ws, job["recovery_point_id"], job["native_ids"][0]
