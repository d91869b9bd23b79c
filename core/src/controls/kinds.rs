//! The controls coffer evaluates: AWS Backup Audit Manager's, by their AWS names, plus
//! coffer's own `RESTORE_TEST_PASSED`, each with the parameters it takes (durations instead of
//! AWS's unit/value pairs), their defaults and the ranges AWS allows. Lowering checks blocks
//! against this table; evaluation reads defaults from it.

use crate::config::duration::Duration;
use serde::{Deserialize, Serialize};

/// One control, by what it evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ControlKind {
    /// The resource is covered by at least one selection.
    #[serde(rename = "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN")]
    ProtectedByBackupPlan,
    /// A plan covering the resource has a rule at least this frequent that keeps points at
    /// least this long.
    #[serde(rename = "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK")]
    PlanMinFrequencyAndMinRetention,
    /// Every recovery point of the resource is encrypted.
    #[serde(rename = "BACKUP_RECOVERY_POINT_ENCRYPTED")]
    RecoveryPointEncrypted,
    /// Every live recovery point of the resource is kept at least this long.
    #[serde(rename = "BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK")]
    RecoveryPointMinimumRetention,
    /// The resource has a live point in a vault whose lock lies within these limits.
    #[serde(rename = "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK")]
    ProtectedByVaultLock,
    /// The resource has a live point in another region (one of these, if given).
    #[serde(rename = "BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION")]
    ProtectedByCrossRegion,
    /// The resource has a live point in another account (one of these, if given).
    #[serde(rename = "BACKUP_RESOURCES_PROTECTED_BY_CROSS_ACCOUNT")]
    ProtectedByCrossAccount,
    /// The resource's newest completed point is at most this old (the RPO).
    #[serde(rename = "BACKUP_LAST_RECOVERY_POINT_CREATED")]
    LastRecoveryPointCreated,
    /// The resource's latest restore test restored it within this time (the RTO).
    #[serde(rename = "RESTORE_TIME_FOR_RESOURCES_MEET_TARGET")]
    RestoreTimeMeetsTarget,
    /// The resource's latest restore test passed its validation, at most this long ago.
    #[serde(rename = "RESTORE_TEST_PASSED")]
    RestoreTestPassed,
}

/// What kind of value a parameter takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// A duration within `[min, max]` minutes.
    Duration { min: u64, max: u64 },
    /// A list of region names.
    Regions,
    /// A list of 12-digit account ids.
    Accounts,
}

/// One parameter a control takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    /// The attribute name in a `control` block.
    pub name: &'static str,
    pub kind: ParamType,
    /// The value when the attribute is left out (AWS's default), as duration text; `None`:
    /// optional with no default.
    pub default: Option<&'static str>,
    /// The AWS parameter(s) it stands for, for documentation and messages.
    pub aws: &'static str,
}

const HOUR: u64 = 60;
const DAY: u64 = 24 * HOUR;
const HUNDRED_YEARS: u64 = crate::config::duration::MAX_DAYS * DAY;

impl ControlKind {
    pub const ALL: [ControlKind; 10] = [
        ControlKind::ProtectedByBackupPlan,
        ControlKind::PlanMinFrequencyAndMinRetention,
        ControlKind::RecoveryPointEncrypted,
        ControlKind::RecoveryPointMinimumRetention,
        ControlKind::ProtectedByVaultLock,
        ControlKind::ProtectedByCrossRegion,
        ControlKind::ProtectedByCrossAccount,
        ControlKind::LastRecoveryPointCreated,
        ControlKind::RestoreTimeMeetsTarget,
        ControlKind::RestoreTestPassed,
    ];

    /// The control's name, as AWS Backup spells it.
    pub fn name(self) -> &'static str {
        match self {
            ControlKind::ProtectedByBackupPlan => "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN",
            ControlKind::PlanMinFrequencyAndMinRetention => {
                "BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK"
            }
            ControlKind::RecoveryPointEncrypted => "BACKUP_RECOVERY_POINT_ENCRYPTED",
            ControlKind::RecoveryPointMinimumRetention => {
                "BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK"
            }
            ControlKind::ProtectedByVaultLock => "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK",
            ControlKind::ProtectedByCrossRegion => "BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION",
            ControlKind::ProtectedByCrossAccount => "BACKUP_RESOURCES_PROTECTED_BY_CROSS_ACCOUNT",
            ControlKind::LastRecoveryPointCreated => "BACKUP_LAST_RECOVERY_POINT_CREATED",
            ControlKind::RestoreTimeMeetsTarget => "RESTORE_TIME_FOR_RESOURCES_MEET_TARGET",
            ControlKind::RestoreTestPassed => "RESTORE_TEST_PASSED",
        }
    }

    pub fn parse(name: &str) -> Option<ControlKind> {
        ControlKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The parameters the control takes.
    pub fn params(self) -> &'static [Param] {
        match self {
            ControlKind::ProtectedByBackupPlan | ControlKind::RecoveryPointEncrypted => &[],
            ControlKind::PlanMinFrequencyAndMinRetention => &[
                Param {
                    name: "required_frequency",
                    kind: ParamType::Duration {
                        min: HOUR,
                        max: 31 * DAY,
                    },
                    default: Some("1d"),
                    aws: "requiredFrequencyUnit and requiredFrequencyValue",
                },
                Param {
                    name: "required_retention",
                    kind: ParamType::Duration {
                        min: DAY,
                        max: HUNDRED_YEARS,
                    },
                    default: Some("35d"),
                    aws: "requiredRetentionDays",
                },
            ],
            ControlKind::RecoveryPointMinimumRetention => &[Param {
                name: "required_retention",
                kind: ParamType::Duration {
                    min: DAY,
                    max: HUNDRED_YEARS,
                },
                default: Some("35d"),
                aws: "requiredRetentionDays",
            }],
            ControlKind::ProtectedByVaultLock => &[
                Param {
                    name: "min_retention",
                    kind: ParamType::Duration {
                        min: DAY,
                        max: HUNDRED_YEARS,
                    },
                    default: None,
                    aws: "minRetentionDays",
                },
                Param {
                    name: "max_retention",
                    kind: ParamType::Duration {
                        min: DAY,
                        max: HUNDRED_YEARS,
                    },
                    default: None,
                    aws: "maxRetentionDays",
                },
            ],
            ControlKind::ProtectedByCrossRegion => &[Param {
                name: "regions",
                kind: ParamType::Regions,
                default: None,
                aws: "crossRegionList",
            }],
            ControlKind::ProtectedByCrossAccount => &[Param {
                name: "accounts",
                kind: ParamType::Accounts,
                default: None,
                aws: "crossAccountList",
            }],
            ControlKind::LastRecoveryPointCreated => &[Param {
                name: "max_age",
                kind: ParamType::Duration {
                    min: HOUR,
                    max: 31 * DAY,
                },
                default: Some("1d"),
                aws: "recoveryPointAgeUnit and recoveryPointAgeValue",
            }],
            ControlKind::RestoreTimeMeetsTarget => &[Param {
                name: "max_restore_time",
                kind: ParamType::Duration {
                    min: 1,
                    max: 30 * DAY,
                },
                default: Some("12h"),
                aws: "maxRestoreTime (minutes)",
            }],
            ControlKind::RestoreTestPassed => &[Param {
                name: "max_age",
                kind: ParamType::Duration {
                    min: HOUR,
                    max: 365 * DAY,
                },
                default: Some("7d"),
                aws: "coffer's own control",
            }],
        }
    }

    /// The parameter's value when none was given.
    pub fn default_duration(self, param: &str) -> Option<Duration> {
        self.params()
            .iter()
            .find(|p| p.name == param)
            .and_then(|p| p.default)
            .and_then(|d| Duration::parse(d).ok())
    }

    /// What the control checks, in a sentence.
    pub fn describe(self) -> &'static str {
        match self {
            ControlKind::ProtectedByBackupPlan => "every resource is covered by a selection",
            ControlKind::PlanMinFrequencyAndMinRetention => {
                "a rule covering the resource runs at least this often and keeps its points at least this long"
            }
            ControlKind::RecoveryPointEncrypted => "every recovery point is encrypted",
            ControlKind::RecoveryPointMinimumRetention => {
                "every live recovery point is kept at least this long"
            }
            ControlKind::ProtectedByVaultLock => "the resource has a point in a locked vault",
            ControlKind::ProtectedByCrossRegion => "the resource has a point in another region",
            ControlKind::ProtectedByCrossAccount => "the resource has a point in another account",
            ControlKind::LastRecoveryPointCreated => "the newest point is recent enough (RPO)",
            ControlKind::RestoreTimeMeetsTarget => {
                "the latest restore test restored the resource fast enough (RTO)"
            }
            ControlKind::RestoreTestPassed => "the latest restore test passed, recently enough",
        }
    }
}

impl std::fmt::Display for ControlKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_serde_agrees() {
        for k in ControlKind::ALL {
            assert_eq!(ControlKind::parse(k.name()), Some(k));
            assert_eq!(
                serde_json::to_value(k).unwrap(),
                serde_json::Value::String(k.name().into())
            );
        }
        assert_eq!(ControlKind::parse("BACKUP_SOMETHING"), None);
    }

    #[test]
    fn defaults_are_aws_defaults() {
        let d = |k: ControlKind, p| k.default_duration(p).map(|d| d.minutes());
        assert_eq!(
            d(
                ControlKind::PlanMinFrequencyAndMinRetention,
                "required_retention"
            ),
            Some(35 * DAY)
        );
        assert_eq!(
            d(ControlKind::LastRecoveryPointCreated, "max_age"),
            Some(DAY)
        );
        assert_eq!(
            d(ControlKind::RestoreTimeMeetsTarget, "max_restore_time"),
            Some(720)
        );
        assert_eq!(d(ControlKind::ProtectedByVaultLock, "min_retention"), None);
    }
}
