//! Checks across objects (vault locks against the lifecycles that use the vault), and the
//! validators of names, regions, storage URLs and KMS ARNs.

use super::*;

impl<'s> Lowerer<'s> {
    /// A lock's minimum retention wins over everything: rules that would delete points
    /// earlier than the lock allows (or keep them longer than its maximum) are errors.
    /// A rule moving points to cold storage into a vault with a repository but no
    /// `cold_storage`: its file-level points stay warm, which the user should know.
    pub(super) fn check_cold_storage(&mut self, config: &Config) {
        for plan in config.plans.values() {
            for rule in plan.rules.values() {
                let Some(span) = rule
                    .lifecycle
                    .as_ref()
                    .and_then(|l| l.cold_storage_after_span.clone())
                else {
                    continue;
                };
                let Some(vault) = config.vaults.get(&rule.target_vault) else {
                    continue;
                };
                if vault.storage.is_some() && vault.cold_storage.is_none() {
                    self.push(
                        Diagnostic::warning(
                            "coffer::no_cold_storage",
                            format!(
                                "file-level points of rule `{}` stay warm: vault `{}` declares no cold_storage",
                                rule.name, vault.name
                            ),
                        )
                        .at(span, "has no effect on directories and EFS")
                        .with_related(vault.span.clone(), "vault without cold_storage")
                        .with_help("add `cold_storage { storage = \"file://…\" }` to the vault; EBS snapshots go cold with `opt_in_to_archive = true`, and RDS, Aurora and EC2 points have no cold tier"),
                    );
                }
            }
        }
    }

    /// A backup lands in its resource's region: a rule may target a vault with a `region`
    /// only when every region its plan covers is that region. Other regions are reached by
    /// copies.
    pub(super) fn check_vault_regions(&mut self, config: &Config) {
        for plan in config.plans.values() {
            let regions = config.plan_regions(plan);
            for rule in plan.rules.values() {
                let Some(vault) = config.vaults.get(&rule.target_vault) else {
                    continue;
                };
                let (Some(home), Some(home_span)) = (&vault.region, &vault.region_span) else {
                    continue;
                };
                let elsewhere: Vec<&str> = regions
                    .iter()
                    .filter(|r| *r != home)
                    .map(String::as_str)
                    .collect();
                if elsewhere.is_empty() && !regions.is_empty() {
                    continue;
                }
                let covers = if regions.is_empty() {
                    "resources in any region".to_string()
                } else {
                    format!("resources in {}", elsewhere.join(", "))
                };
                self.push(
                    Diagnostic::error(
                        "coffer::vault_in_another_region",
                        format!(
                            "rule `{}` backs up {covers} into vault `{}`, whose points live in {home}",
                            rule.name, vault.name
                        ),
                    )
                    .at(rule.span.clone(), "backs up into another region")
                    .with_related(home_span.clone(), "the vault's region")
                    .with_help(format!(
                        "a backup stays in its resource's region: target a vault in that region (or one without `region`) and add `copy_to {{ vault = vault.{} }}` to the rule",
                        vault.name
                    )),
                );
            }
        }
    }

    pub(super) fn check_vault_locks(&mut self, config: &Config) {
        for plan in config.plans.values() {
            for rule in plan.rules.values() {
                let mut targets = vec![(
                    rule.target_vault.as_str(),
                    rule.lifecycle.as_ref(),
                    &rule.span,
                    "",
                )];
                // a copy without its own lifecycle keeps the rule's; it is reported at its block
                targets.extend(rule.copy_to.iter().map(|c| {
                    (
                        c.vault.as_str(),
                        c.lifecycle.as_ref().or(rule.lifecycle.as_ref()),
                        &c.span,
                        "copies of ",
                    )
                }));
                for (vault, lifecycle, span, what) in targets {
                    let Some(lock) = config.vaults.get(vault).and_then(|v| v.lock.as_ref()) else {
                        continue;
                    };
                    let delete_after = lifecycle.and_then(|l| l.delete_after.as_ref());
                    let vspan = config.vaults[vault].span.clone();
                    match (delete_after, &lock.min_retention) {
                        (Some(d), Some(min)) if d < min => self.push(
                            Diagnostic::error(
                                "coffer::lock_violation",
                                format!("rule `{}` deletes {what}points in vault `{vault}` after {d}, before the vault lock's min_retention of {min}", rule.name),
                            )
                            .at(span.clone(), "retention shorter than the lock allows")
                            .with_related(vspan.clone(), "vault with the lock")
                            .with_help("the lock's minimum retention wins: backup jobs with a shorter retention would fail; raise delete_after"),
                        ),
                        _ => {}
                    }
                    if let Some(max) = &lock.max_retention {
                        let too_long = match delete_after {
                            Some(d) => d > max,
                            None => true,
                        };
                        if too_long {
                            let keeps = delete_after
                                .map_or(format!("keeps {what}points forever"), |d| {
                                    format!("keeps {what}points for {d}")
                                });
                            self.push(
                                Diagnostic::error(
                                    "coffer::lock_violation",
                                    format!("rule `{}` {keeps} in vault `{vault}`, beyond the vault lock's max_retention of {max}", rule.name),
                                )
                                .at(span.clone(), "retention longer than the lock allows")
                                .with_related(vspan, "vault with the lock")
                                .with_help("set a lifecycle delete_after no longer than the lock's max_retention"),
                            );
                        }
                    }
                }
            }
        }
    }
}

pub(super) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `ap-southeast-3` …
pub(super) fn is_region_name(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty()
}

/// `file://PATH` or `s3://BUCKET[/PREFIX]`, each with something after the scheme.
pub(super) fn is_storage_url(s: &str) -> bool {
    ["file://", "s3://"]
        .iter()
        .any(|scheme| s.strip_prefix(scheme).is_some_and(|rest| !rest.is_empty()))
}

pub(super) fn is_kms_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "kms"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && (parts[5].starts_with("key/") || parts[5].starts_with("alias/"))
        && parts[5]
            .split_once('/')
            .is_some_and(|(_, id)| !id.is_empty())
}
