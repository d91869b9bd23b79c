"""moto's server for coffer's tests, plus the APIs coffer calls that moto 5 lacks: RDS
DescribeAccountAttributes (the account's RDS quotas), and EC2 ModifySnapshotTier and
DescribeSnapshotTierStatus (EBS Snapshots Archive), following the EC2 API reference; and
RegisterImage honouring a block device mapping's SnapshotId (moto makes a new snapshot), so
that two AMIs can share a snapshot as in EC2; and CopyImage honouring TagSpecifications (moto
ignores them), as the EC2 API reference documents.

Used counts the region's manual snapshots, as AWS does. Max is AWS's default (100) unless
the JSON file named by COFFER_MOTO_QUOTAS says otherwise for a region, e.g.
{"us-west-2": {"ManualSnapshots": 3}}; the file is read at every call, so a test can write
it while the server runs.
"""

import json
import os
import sys

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models.elastic_block_store import Snapshot
from moto.ec2.responses.amis import AmisResponse
from moto.ec2.responses.elastic_block_store import ElasticBlockStore
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


# EBS Snapshots Archive. Archiving completes at the second DescribeSnapshotTierStatus call here
# (hours in AWS), so that callers have to follow the tiering as they must in AWS.
Snapshot.storage_tier = property(lambda self: getattr(self, "_tier", "standard"))


def modify_snapshot_tier(self):
    snapshot_id = self._get_param("SnapshotId")
    tier = self._get_param("StorageTier")
    snapshot = self.ec2_backend.get_snapshot(snapshot_id)  # InvalidSnapshot.NotFound
    if tier != "archive":
        raise EC2ClientError("InvalidParameterValue", f"StorageTier {tier} is not supported; use archive")
    if getattr(snapshot, "_tier", "standard") == "archive":
        raise EC2ClientError("IncorrectState", f"Snapshot {snapshot_id} is already archived")
    if snapshot.from_ami and snapshot.from_ami in self.ec2_backend.amis:
        raise EC2ClientError(
            "IncorrectState",
            f"Snapshot {snapshot_id} is associated with AMI {snapshot.from_ami} and cannot be archived",
        )
    snapshot._tiering_start = utcnow()
    snapshot._tier_status = "archival-in-progress"
    return ActionResult({"SnapshotId": snapshot_id, "TieringStartTime": snapshot._tiering_start})


def describe_snapshot_tier_status(self):
    filters = self._filters_from_querystring()
    wanted = filters.get("snapshot-id")
    statuses = []
    for snapshot in self.ec2_backend.snapshots.values():
        if wanted and snapshot.id not in wanted:
            continue
        status = getattr(snapshot, "_tier_status", None)
        if status == "archival-in-progress" and getattr(snapshot, "_looked", False):
            # completes at the second look
            status = snapshot._tier_status = "archival-completed"
            snapshot._tier = "archive"
            snapshot._archived_at = utcnow()
        elif status == "archival-in-progress":
            snapshot._looked = True
        statuses.append(
            {
                "SnapshotId": snapshot.id,
                "VolumeId": snapshot.volume.id,
                "Status": snapshot.status,
                "OwnerId": snapshot.owner_id,
                "Tags": snapshot.tag_set if hasattr(snapshot, "tag_set") else [],
                "StorageTier": getattr(snapshot, "_tier", "standard"),
                "LastTieringStartTime": getattr(snapshot, "_tiering_start", None),
                "LastTieringProgress": 100 if status else None,
                "LastTieringOperationStatus": status,
                "ArchivalCompleteTime": getattr(snapshot, "_archived_at", None),
            }
        )
    return ActionResult({"SnapshotTierStatuses": statuses})


_register_image = AmisResponse.register_image


def register_image(self):
    result = _register_image(self)
    mappings = self._get_param("BlockDeviceMappings", []) or []
    snapshot_id = next(
        (m.get("Ebs", {}).get("SnapshotId") for m in mappings if m.get("Ebs", {}).get("SnapshotId")),
        None,
    )
    if snapshot_id:
        image_id = result.result["ImageId"] if hasattr(result, "result") else None
        ami = self.ec2_backend.amis.get(image_id) if image_id else None
        if ami is not None:
            own = ami.ebs_snapshot
            ami.ebs_snapshot = self.ec2_backend.get_snapshot(snapshot_id)
            self.ec2_backend.snapshots.pop(own.id, None)
    return result


_copy_image = AmisResponse.copy_image


def copy_image(self):
    result = _copy_image(self)
    image_id = result.result["ImageId"] if hasattr(result, "result") else None
    ami = self.ec2_backend.amis.get(image_id) if image_id else None
    tags = self._parse_tag_specification().get("image", {})
    if ami is not None and tags:
        self.ec2_backend.create_tags([ami.id], tags)
    return result


AmisResponse.register_image = register_image
AmisResponse.copy_image = copy_image
ElasticBlockStore.modify_snapshot_tier = modify_snapshot_tier
ElasticBlockStore.describe_snapshot_tier_status = describe_snapshot_tier_status

if __name__ == "__main__":
    sys.exit(main())
