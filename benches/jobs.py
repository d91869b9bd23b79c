#!/usr/bin/env python3
"""Backup job benchmark (issue 5): one rule selecting 1,000 EBS volumes in a local moto
server; one `coffer run` tick creates and executes 1,000 jobs (CreateSnapshot, then
DescribeSnapshots until complete, then the recovery point). Reports the tick's wall time and
coffer's own CPU time (user + system of the coffer process, which excludes moto's work), in
total and per job. The target is under 1 ms of coffer CPU per job beyond the API calls.

For reference it also times the same API calls made by boto3 one after another
(CreateSnapshot + DescribeSnapshots per volume), so the wall time can be read against what
the calls alone cost on this server.

    cargo build --release && python3 benches/jobs.py [path/to/coffer]

Set COFFER_BENCH_WRAP to a command prefix (e.g. `perf record -g -o /tmp/coffer.perf`) to
profile the tick.

Needs `pip install 'moto[server]' boto3`.
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import boto3

from coffer_binary import checked, release_binary
from local_moto import LocalMoto

VOLUMES = 1000
REGION = "us-east-1"
REFERENCE_CALLS = 100

CONFIG = f"""
provider "aws" {{
  region = "{REGION}"
}}

vault "main" {{}}

plan "daily" {{
  rule "nightly" {{
    schedule     = "cron(0 3 * * ? *)"
    start_window = "1h"
    target_vault = vault.main
  }}
}}

selection "all" {{
  plan    = plan.daily
  any_tag = {{ Backup = ["daily"] }}
}}
"""



def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main():
    coffer = checked(sys.argv[1] if len(sys.argv) > 1 else release_binary())
    with LocalMoto() as moto:
        endpoint = moto.endpoint
        kw = dict(region_name=REGION, endpoint_url=endpoint, aws_access_key_id="testing",
                  aws_secret_access_key="testing")
        ec2 = boto3.client("ec2", **kw)
        t0 = time.time()
        for i in range(VOLUMES):
            ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8, TagSpecifications=[
                {"ResourceType": "volume", "Tags": [{"Key": "Backup", "Value": "daily"}, {"Key": "Name", "Value": f"v{i}"}]}])
        print(f"seeded {VOLUMES} volumes in {time.time() - t0:.1f} s")

        env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing",
                   AWS_SECRET_ACCESS_KEY="testing", AWS_EC2_METADATA_DISABLED="true", AWS_MAX_ATTEMPTS="3",
                   NO_COLOR="1")
        with tempfile.TemporaryDirectory() as work:
            with open(os.path.join(work, "main.hcl"), "w") as fh:
                fh.write(CONFIG)
            subprocess.run([coffer, "-C", work, "apply", "--auto-approve"], env=env, check=True,
                           capture_output=True)
            cpu0, t0 = child_cpu(), time.time()
            # COFFER_BENCH_WRAP="perf record -g -o /tmp/coffer.perf" profiles the tick
            wrap = os.environ.get("COFFER_BENCH_WRAP", "").split()
            out = subprocess.run(wrap + [coffer, "-C", work, "run", "--at", "2026-12-05T03:10:00Z", "--json",
                                  "--poll-interval", "1s"], env=env, capture_output=True, text=True)
            wall, cpu = time.time() - t0, child_cpu() - cpu0
            if out.returncode != 0:
                print(out.stderr[-3000:])
                raise SystemExit(f"coffer run failed with {out.returncode}")
            report = json.loads(out.stdout)
        jobs = report["jobs"]
        completed = sum(1 for j in jobs if j["state"] == "COMPLETED")

        # reference: the same two calls per volume made by boto3, sequentially, on a sample
        volumes = [v["VolumeId"] for v in ec2.describe_volumes(MaxResults=500)["Volumes"]][:REFERENCE_CALLS]
        t0 = time.time()
        for v in volumes:
            snap = ec2.create_snapshot(VolumeId=v)["SnapshotId"]
            ec2.describe_snapshots(SnapshotIds=[snap])
        per_pair = (time.time() - t0) / len(volumes)

        print(f"jobs: {len(jobs)} created, {completed} completed")
        print(f"tick wall time: {wall:.2f} s (discovery, 1,000 jobs, catalog writes)")
        print(f"coffer CPU time: {cpu:.2f} s in all, {cpu / max(1, len(jobs)) * 1000:.3f} ms per job "
              "(includes SDK request signing and parsing; target < 1 ms)")
        print(f"reference: boto3 CreateSnapshot + DescribeSnapshots, sequential: {per_pair * 1000:.1f} ms per volume "
              f"({per_pair * VOLUMES:.1f} s for {VOLUMES})")


if __name__ == "__main__":
    main()
