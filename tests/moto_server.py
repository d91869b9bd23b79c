"""moto's server for coffer's tests, plus the APIs coffer calls that moto 5 lacks: RDS
DescribeAccountAttributes (the account's RDS quotas), and EC2 ModifySnapshotTier,
RestoreSnapshotTier and DescribeSnapshotTierStatus (EBS Snapshots Archive), following the EC2 API reference; and
RegisterImage honouring a block device mapping's SnapshotId (moto makes a new snapshot), so
that two AMIs can share a snapshot as in EC2; and CopyImage honouring TagSpecifications (moto
ignores them), as the EC2 API reference documents.

Copies across accounts: moto's CopySnapshot, CopyImage, CopyDBSnapshot and
CopyDBClusterSnapshot look for the source in the caller's own account only. Here, as in AWS,
a source in another account is found when it is shared with the caller: a snapshot's
createVolumePermission, an image's launchPermission, an RDS snapshot's `restore` attribute.
And the keys behind `alias/aws/*` are AWS managed keys (KeyManager AWS), as in KMS.

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
from moto.ec2.exceptions import EC2ClientError, InvalidAMIIdError, InvalidSnapshotIdError
from moto.ec2.models import ec2_backends
from moto.ec2.models.amis import Ami, AmiBackend
from moto.ec2.models.elastic_block_store import EBSBackend, Snapshot
from moto.ec2.utils import random_ami_id, random_snapshot_id
from moto.kms.models import KmsBackend
from moto.rds.models import RDSBackend, rds_backends
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
        elif status == "temporary-restore-in-progress" and getattr(snapshot, "_restore_looked", False):
            # back in the standard tier (temporarily) at the second look
            status = snapshot._tier_status = "temporary-restore-completed"
            snapshot._tier = "standard"
        elif status == "temporary-restore-in-progress":
            snapshot._restore_looked = True
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


def restore_snapshot_tier(self):
    snapshot_id = self._get_param("SnapshotId")
    snapshot = self.ec2_backend.get_snapshot(snapshot_id)  # InvalidSnapshot.NotFound
    if getattr(snapshot, "_tier", "standard") != "archive":
        raise EC2ClientError("IncorrectState", f"Snapshot {snapshot_id} is not archived")
    if getattr(snapshot, "_tier_status", None) == "temporary-restore-in-progress":
        raise EC2ClientError("IncorrectState", f"Snapshot {snapshot_id} is already being restored")
    days = self._get_param("TemporaryRestoreDays")
    snapshot._tier_status = "temporary-restore-in-progress"
    snapshot._restore_looked = False
    return ActionResult({
        "SnapshotId": snapshot_id,
        "RestoreStartTime": utcnow(),
        "RestoreDuration": int(days) if days else None,
        "IsPermanentRestore": not days,
    })


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


def _shared_with(account, region, find):
    """The first object `find` returns in another account's backend of `region`, if shared."""
    for other in list(ec2_backends.keys()):
        if other == account:
            continue
        found = find(ec2_backends[other][region])
        if found is not None:
            return found
    return None


_copy_snapshot = EBSBackend.copy_snapshot


def copy_snapshot(self, source_snapshot_id, source_region, description, kms_key_id):
    try:
        return _copy_snapshot(self, source_snapshot_id, source_region, description, kms_key_id)
    except InvalidSnapshotIdError:
        def find(backend):
            s = backend.snapshots.get(source_snapshot_id)
            if s is not None and (
                self.account_id in s.create_volume_permission_userids
                or "all" in s.create_volume_permission_groups
            ):
                return s
            return None

        source = _shared_with(self.account_id, source_region, find)
        if source is None:
            raise
        snapshot = Snapshot(
            self,
            random_snapshot_id(),
            volume=source.volume,
            description=description,
            encrypted=source.encrypted,
            kms_key_id=kms_key_id,
        )
        self.snapshots[snapshot.id] = snapshot
        return snapshot


_copy_ami = AmiBackend.copy_image


def copy_ami(self, source_image_id, source_region, name=None, description=None):
    try:
        return _copy_ami(self, source_image_id, source_region, name, description)
    except InvalidAMIIdError:
        def find(backend):
            a = backend.amis.get(source_image_id)
            if a is not None and {"UserId": self.account_id} in a.launch_permissions:
                return a
            return None

        source = _shared_with(self.account_id, source_region, find)
        if source is None:
            raise
        ami = Ami(self, random_ami_id(), instance=None, source_ami=source, name=name, description=description)
        self.amis[ami.id] = ami
        return ami


_get_snapshot = RDSBackend.get_snapshot


def get_snapshot(self, identifier, resource_type, not_found_exception):
    parts = identifier.split(":")
    if identifier.startswith("arn") and len(parts) > 6 and parts[4] != self.account_id:
        backend = rds_backends[parts[4]][parts[3]]
        snapshot = backend.resource_map[resource_type].get(parts[-1])
        if snapshot is None or self.account_id not in snapshot.attributes.get("restore", []):
            raise not_found_exception(parts[-1])
        return snapshot
    return _get_snapshot(self, identifier, resource_type, not_found_exception)


_describe_key = KmsBackend.describe_key


def describe_key(self, key_id):
    key = _describe_key(self, key_id)
    if any(a.startswith("alias/aws/") for a in getattr(key, "aliases", [])) or key_id.startswith("alias/aws/"):
        key.key_manager = "AWS"
    return key


KmsBackend.describe_key = describe_key
EBSBackend.copy_snapshot = copy_snapshot
AmiBackend.copy_image = copy_ami
RDSBackend.get_snapshot = get_snapshot
AmisResponse.register_image = register_image
AmisResponse.copy_image = copy_image
ElasticBlockStore.modify_snapshot_tier = modify_snapshot_tier
ElasticBlockStore.describe_snapshot_tier_status = describe_snapshot_tier_status
ElasticBlockStore.restore_snapshot_tier = restore_snapshot_tier

if __name__ == "__main__":
    sys.exit(main())
