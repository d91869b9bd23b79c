"""moto's server for coffer's tests, plus the one API coffer calls that moto 5 lacks:
RDS DescribeAccountAttributes (the account's RDS quotas).

Used counts the region's manual snapshots, as AWS does. Max is AWS's default (100) unless
the JSON file named by COFFER_MOTO_QUOTAS says otherwise for a region, e.g.
{"us-west-2": {"ManualSnapshots": 3}}; the file is read at every call, so a test can write
it while the server runs.
"""

import json
import os
import sys

from moto.core.responses import ActionResult
from moto.rds.responses import RDSResponse
from moto.server import main


def _maxima(region):
    maxima = {"ManualSnapshots": 100, "ManualClusterSnapshots": 100}
    path = os.environ.get("COFFER_MOTO_QUOTAS")
    if path and os.path.exists(path):
        with open(path) as f:
            maxima.update(json.load(f).get(region, {}))
    return maxima


def describe_account_attributes(self):
    backend = self.backend
    maxima = _maxima(backend.region_name)

    def manual(snapshots):
        return sum(1 for s in snapshots.values() if s.snapshot_type == "manual")

    used = {
        "ManualSnapshots": manual(backend.database_snapshots),
        "ManualClusterSnapshots": manual(backend.cluster_snapshots),
    }
    quotas = [
        {"AccountQuotaName": name, "Used": used[name], "Max": maxima[name]}
        for name in ("ManualSnapshots", "ManualClusterSnapshots")
    ]
    return ActionResult({"AccountQuotas": quotas})


RDSResponse.describe_account_attributes = describe_account_attributes

if __name__ == "__main__":
    sys.exit(main())
