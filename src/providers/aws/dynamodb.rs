//! DynamoDB tables: a recovery point is an on-demand backup (CreateBackup, full, as AWS
//! Backup makes them) named `coffer-<job id>`: DynamoDB backups take no tags, so the name is
//! how an interrupted job finds its backup again and how a deletion knows the backup is
//! coffer's. Lifecycle deletes with DeleteBackup; a restore is RestoreTableFromBackup into a
//! new table. DynamoDB has no native copy of a backup, so its points are not copied.

use super::*;
use crate::aws::error::classify;
use crate::inventory::{Resource, ResourceType};
use crate::providers::{
    CopySource, Deletion, Finished, ForeignSnapshot, Preflight, Progress, Provider, ProviderError,
    RestoreRequest, Restoring,
};

/// Backs up DynamoDB tables as on-demand backups.
pub struct DynamoDbTables {
    regions: Regions,
}

impl DynamoDbTables {
    pub fn new(regions: Regions) -> DynamoDbTables {
        DynamoDbTables { regions }
    }
}

/// The backup name a job gives its backup.
fn backup_name(job_id: &str) -> String {
    format!("coffer-{job_id}")
}

/// The table's name in its ARN (`…:table/NAME`).
fn table_name(r: &Resource) -> &str {
    arn_id(&r.arn, "table/")
}

async fn describe_backup(
    c: &Clients,
    region: &str,
    arn: &str,
) -> Result<Option<aws_sdk_dynamodb::types::BackupDescription>, ProviderError> {
    match c.dynamodb.describe_backup().backup_arn(arn).send().await {
        Ok(out) => Ok(out.backup_description().cloned()),
        Err(e) => {
            let e = classify(DESCRIBE_BACKUP, region, &e);
            if is_not_found(&e, &["BackupNotFoundException"]) {
                Ok(None)
            } else {
                Err(fail(e))
            }
        }
    }
}

impl Provider for DynamoDbTables {
    fn supports(&self, t: ResourceType) -> bool {
        t == ResourceType::DynamoDbTable
    }

    fn service(&self, _: &Resource) -> &'static str {
        "DynamoDB"
    }

    fn home_region(&self, r: &Resource, vault: &str) -> Option<String> {
        self.regions.home_region(r, vault)
    }

    async fn preflight(&self, _: &[&Resource]) -> Preflight {
        Preflight::default()
    }

    async fn find(
        &self,
        r: &Resource,
        vault: &str,
        job_id: &str,
    ) -> Result<Option<String>, ProviderError> {
        let (c, region) = self.regions.home(r, vault)?;
        let want = backup_name(job_id);
        let out = c
            .dynamodb
            .list_backups()
            .table_name(table_name(r))
            .send()
            .await
            .map_err(|e| fail(classify(LIST_BACKUPS, region, &e)))?;
        Ok(out
            .backup_summaries()
            .iter()
            .find(|b| b.backup_name() == Some(want.as_str()))
            .and_then(|b| b.backup_arn().map(str::to_string)))
    }

    async fn start(
        &self,
        r: &Resource,
        _vault: &str,
        job_id: &str,
        _tags: &BTreeMap<String, String>,
    ) -> Result<String, ProviderError> {
        let c = self.regions.of(r)?;
        let out = c
            .once
            .dynamodb
            .create_backup()
            .table_name(table_name(r))
            .backup_name(backup_name(job_id))
            .send()
            .await
            .map_err(|e| fail(classify(CREATE_BACKUP, &r.region, &e)))?;
        out.backup_details()
            .map(|d| d.backup_arn().to_string())
            .ok_or_else(|| ProviderError::permanent("CreateBackup returned no backup"))
    }

    async fn poll(
        &self,
        r: &Resource,
        vault: &str,
        native_id: &str,
    ) -> Result<Progress, ProviderError> {
        use aws_sdk_dynamodb::types::BackupStatus;
        let (c, region) = self.regions.home(r, vault)?;
        let Some(b) = describe_backup(c, region, native_id).await? else {
            return Ok(Progress::Failed(format!("backup {native_id} disappeared")));
        };
        let Some(d) = b.backup_details() else {
            return Ok(Progress::Pending { percent: None });
        };
        Ok(match d.backup_status() {
            BackupStatus::Available => Progress::Done(Finished {
                native_id: native_id.to_string(),
                native_ids: vec![native_id.to_string()],
                size_bytes: d.backup_size_bytes().map(|s| s.max(0) as u64),
                encrypted: true,
                kms_key: b
                    .source_table_feature_details()
                    .and_then(|f| f.sse_description())
                    .and_then(|s| s.kms_master_key_arn())
                    .map(str::to_string),
                unreadable: Vec::new(),
            }),
            BackupStatus::Deleted => Progress::Failed(format!("backup {native_id} was deleted")),
            _ => Progress::Pending { percent: None },
        })
    }

    async fn copy(
        &self,
        r: &Resource,
        _: &CopySource<'_>,
        _: &str,
        _: &str,
        _: &BTreeMap<String, String>,
    ) -> Result<String, ProviderError> {
        Err(ProviderError::permanent(format!(
            "DynamoDB has no native copy of a backup, so {} is not copied",
            r.arn
        )))
    }

    async fn discard(
        &self,
        r: &Resource,
        vault: &str,
        native_id: &str,
    ) -> Result<(), ProviderError> {
        let (c, region) = self.regions.home(r, vault)?;
        c.dynamodb
            .delete_backup()
            .backup_arn(native_id)
            .send()
            .await
            .map_err(|e| fail(classify(DELETE_BACKUP, region, &e)))?;
        Ok(())
    }

    async fn exists(
        &self,
        r: &Resource,
        vault: &str,
        native_id: &str,
    ) -> Result<bool, ProviderError> {
        let (c, region) = self.regions.home(r, vault)?;
        Ok(describe_backup(c, region, native_id).await?.is_some())
    }

    async fn delete(
        &self,
        r: &Resource,
        vault: &str,
        native_id: &str,
        job_id: &str,
    ) -> Result<Deletion, ProviderError> {
        let (c, region) = self.regions.home(r, vault)?;
        let Some(b) = describe_backup(c, region, native_id).await? else {
            return Ok(Deletion::Gone { notes: Vec::new() });
        };
        let name = b
            .backup_details()
            .map(|d| d.backup_name())
            .unwrap_or_default();
        if name != backup_name(job_id) {
            return Ok(Deletion::NotOurs(format!(
                "backup {native_id} is named `{name}`, not {}: coffer did not make it, so coffer leaves it alone",
                backup_name(job_id)
            )));
        }
        match c
            .dynamodb
            .delete_backup()
            .backup_arn(native_id)
            .send()
            .await
        {
            Ok(_) => Ok(Deletion::Deleted { notes: Vec::new() }),
            Err(e) => {
                let e = classify(DELETE_BACKUP, region, &e);
                if is_not_found(&e, &["BackupNotFoundException"]) {
                    Ok(Deletion::Gone { notes: Vec::new() })
                } else {
                    Err(fail(e))
                }
            }
        }
    }

    /// RestoreTableFromBackup into a new table (named by `targetTableName`).
    async fn restore(
        &self,
        r: &Resource,
        req: &RestoreRequest<'_>,
    ) -> Result<String, ProviderError> {
        let (c, region) = self.regions.home(r, req.vault)?;
        let name = req
            .metadata
            .get("targetTableName")
            .cloned()
            .ok_or_else(|| ProviderError::permanent("the restore names no targetTableName"))?;
        c.once
            .dynamodb
            .restore_table_from_backup()
            .target_table_name(&name)
            .backup_arn(req.native_id)
            .send()
            .await
            .map_err(|e| fail(classify(RESTORE_TABLE, region, &e)))?;
        Ok(name)
    }

    async fn find_restored(
        &self,
        r: &Resource,
        req: &RestoreRequest<'_>,
    ) -> Result<Option<String>, ProviderError> {
        let (c, region) = self.regions.home(r, req.vault)?;
        let Some(name) = req.metadata.get("targetTableName") else {
            return Ok(None);
        };
        match c.dynamodb.describe_table().table_name(name).send().await {
            Ok(_) => Ok(Some(name.clone())),
            Err(e) => {
                let e = classify(DESCRIBE_TABLE, region, &e);
                if is_not_found(&e, &["ResourceNotFoundException"]) {
                    Ok(None)
                } else {
                    Err(fail(e))
                }
            }
        }
    }

    async fn restored(
        &self,
        r: &Resource,
        req: &RestoreRequest<'_>,
        created: &str,
    ) -> Result<Restoring, ProviderError> {
        use aws_sdk_dynamodb::types::TableStatus;
        let (c, region) = self.regions.home(r, req.vault)?;
        let out = c
            .dynamodb
            .describe_table()
            .table_name(created)
            .send()
            .await
            .map_err(|e| fail(classify(DESCRIBE_TABLE, region, &e)))?;
        let Some(t) = out.table() else {
            return Ok(Restoring::Failed(format!("table {created} disappeared")));
        };
        Ok(match t.table_status() {
            Some(TableStatus::Active) => Restoring::Ready {
                arn: t.table_arn().unwrap_or_default().to_string(),
                endpoint: None,
                port: None,
            },
            Some(TableStatus::Deleting | TableStatus::InaccessibleEncryptionCredentials) => {
                Restoring::Failed(format!(
                    "table {created} is {}",
                    t.table_status().map_or("", |s| s.as_str())
                ))
            }
            _ => Restoring::InProgress,
        })
    }

    /// The table is `ACTIVE` with the backup's item count.
    async fn validate_restored(
        &self,
        r: &Resource,
        req: &RestoreRequest<'_>,
        created: &str,
    ) -> Result<String, String> {
        let (c, region) = self.regions.home(r, req.vault).map_err(|e| e.message)?;
        let table = c
            .dynamodb
            .describe_table()
            .table_name(created)
            .send()
            .await
            .map_err(|e| fail(classify(DESCRIBE_TABLE, region, &e)).message)?;
        let t = table.table().ok_or(format!("table {created} is gone"))?;
        let status = t.table_status().map_or("unknown", |s| s.as_str());
        if status != "ACTIVE" {
            return Err(format!("table {created} is {status}"));
        }
        let backup = describe_backup(c, region, req.native_id)
            .await
            .map_err(|e| e.message)?;
        let want = backup
            .as_ref()
            .and_then(|b| b.source_table_details())
            .and_then(|d| d.item_count());
        let got = t.item_count();
        match (got, want) {
            (Some(got), Some(want)) if got != want => Err(format!(
                "table {created} holds {got} items, the backup {want}"
            )),
            _ => Ok(format!(
                "table {created} is ACTIVE with {} items",
                got.unwrap_or_default()
            )),
        }
    }

    async fn discard_restored(
        &self,
        r: &Resource,
        req: &RestoreRequest<'_>,
        created: &str,
    ) -> Result<(), ProviderError> {
        let (c, region) = self.regions.home(r, req.vault)?;
        c.dynamodb
            .delete_table()
            .table_name(created)
            .send()
            .await
            .map_err(|e| fail(classify(DELETE_TABLE, region, &e)))?;
        Ok(())
    }

    /// AWS backups live in no repository.
    async fn prune(
        &self,
        _: &str,
        _: u8,
    ) -> Result<Option<crate::providers::Pruned>, ProviderError> {
        Ok(None)
    }

    /// Backups made outside coffer are not looked for (overlaps are reported for EBS volumes
    /// and RDS instances).
    async fn foreign_snapshots(
        &self,
        _: &[&Resource],
        _: DateTime<Utc>,
        _: DateTime<Utc>,
    ) -> Result<Vec<ForeignSnapshot>, ProviderError> {
        Ok(Vec::new())
    }
}
