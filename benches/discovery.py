#!/usr/bin/env python3
"""Discovery benchmark (issue 4): 5,000 EBS volumes, 500 EC2 instances, 200 RDS DB instances
and 100 EFS file systems in a local moto server; coffer's discovery (API calls and wall time)
next to a plain paginated boto3 listing of the same resources, in the same run.

    cargo build --release && python3 benches/discovery.py [path/to/coffer]

Needs `pip install 'moto[server]' boto3`. The minimum number of list calls the page sizes allow
is printed next to what each side made.
"""

import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time

import boto3

from coffer_binary import checked, release_binary
from local_moto import LocalMoto

VOLUMES, INSTANCES, DB_INSTANCES, FILE_SYSTEMS = 5000, 500, 200, 100
REGION = "us-east-1"



def main():
    coffer = checked(sys.argv[1] if len(sys.argv) > 1 else release_binary())
    with LocalMoto() as moto:
        endpoint = moto.endpoint
        kw = dict(region_name=REGION, endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing")
        ec2, rds, efs = boto3.client("ec2", **kw), boto3.client("rds", **kw), boto3.client("efs", **kw)

        started = time.time()
        for i in range(VOLUMES):
            ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=1,
                              TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": f"v{i}"}]}])
        image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        for _ in range(INSTANCES // 100):
            ec2.run_instances(ImageId=image, MinCount=100, MaxCount=100)
        for i in range(DB_INSTANCES):
            rds.create_db_instance(DBInstanceIdentifier=f"db{i}", DBInstanceClass="db.t3.micro", Engine="postgres",
                                   MasterUsername="u", MasterUserPassword="password-password", AllocatedStorage=20)
        for i in range(FILE_SYSTEMS):
            efs.create_file_system(CreationToken=f"fs{i}")
        print(f"seeded moto in {time.time() - started:.1f} s")

        # boto3: plain paginated listing with the same page sizes
        calls = {}
        def paged(client, op, key, token_in, token_out, size_name, size, **extra):
            n, token, items = 0, None, 0
            while True:
                args = dict(extra, **{size_name: size})
                if token:
                    args[token_in] = token
                out = getattr(client, op)(**args)
                n += 1
                items += sum(len(r.get("Instances", [])) for r in out[key]) if key == "Reservations" else len(out[key])
                token = out.get(token_out)
                if not token:
                    break
            calls[op] = n
            return items
        t0 = time.time()
        boto3.client("sts", **kw).get_caller_identity()
        calls["get_caller_identity"] = 1
        v = paged(ec2, "describe_volumes", "Volumes", "NextToken", "NextToken", "MaxResults", 500)
        i = paged(ec2, "describe_instances", "Reservations", "NextToken", "NextToken", "MaxResults", 1000)
        d = paged(rds, "describe_db_instances", "DBInstances", "Marker", "Marker", "MaxRecords", 100)
        c = paged(rds, "describe_db_clusters", "DBClusters", "Marker", "Marker", "MaxRecords", 100)
        f = paged(efs, "describe_file_systems", "FileSystems", "Marker", "NextMarker", "MaxItems", 100)
        boto_time = time.time() - t0
        boto_calls = sum(calls.values())

        # coffer
        with tempfile.TemporaryDirectory() as work:
            with open(os.path.join(work, "main.hcl"), "w") as fh:
                fh.write(f'provider "aws" {{\n  region = "{REGION}"\n}}\n')
            env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                       AWS_EC2_METADATA_DISABLED="true", AWS_MAX_ATTEMPTS="1")
            t0 = time.time()
            out = subprocess.run([coffer, "-C", work, "inventory", "--json"], env=env, capture_output=True, text=True, check=True)
            coffer_time = time.time() - t0
        resources = json.loads(out.stdout)
        m = re.search(r"\((\d+) API calls", out.stderr)
        coffer_calls = int(m.group(1)) if m else -1

        minimum = 1 + math.ceil(v / 500) + max(1, math.ceil(i / 1000)) + max(1, math.ceil(d / 100)) + max(1, math.ceil(c / 100)) + max(1, math.ceil(f / 100))
        print(f"resources: {v} volumes, {i} instances, {d} DB instances, {c} clusters, {f} file systems ({len(resources)} in coffer's inventory)")
        print(f"list calls AWS's largest page sizes would need: {minimum} (moto may return larger pages, so the")
        print("plain paginated listing below, with the same page sizes, is the reference for this server)")
        print(f"coffer: {coffer_calls} API calls, {coffer_time:.2f} s (process start, discovery, coverage, JSON output)")
        print(f"boto3:  {boto_calls} API calls, {boto_time:.2f} s (sequential paginated listing) {calls}")


if __name__ == "__main__":
    main()
