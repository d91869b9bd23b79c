//! The dashboard's read model: [`Model::build`] folds the recorded state, an inventory, the
//! catalog's jobs and points and the evaluated controls, at `now`, into daily roll-ups per
//! resource (the worst status of each day, runs expected and good, missed runs found from
//! the schedule), per vault (points and bytes by storage class, bytes added and removed per
//! day) and per day of jobs, plus one compact row per recent job. Every view reads only this,
//! so a page costs what it shows, not the catalog's history.

use super::status::{self, Status};
use crate::address::Address;
use crate::controls::{ControlKind, ControlResult};
use crate::coverage::{self, Coverage, Rules};
use crate::inventory::Inventory;
use crate::jobs::due::{due, rules_from_objects, RuleInfo};
use crate::jobs::lifecycle::Hold;
use crate::jobs::record::{JobRecord, RecoveryPoint, VaultCheck};
use crate::jobs::{restore_test, JobKind, PointStatus, StorageClass};
use crate::objects::attrs::{self, LegalHoldAttrs, LockAttrs, VaultAttrs};
use crate::state::model::State;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Days of daily roll-ups kept: the longest matrix.
pub const HISTORY_DAYS: i64 = 90;
/// Days of job rows kept for the jobs table.
pub const ROW_DAYS: i64 = 31;
/// Missed runs kept, newest first.
const MISSED_KEPT: usize = 2000;
/// Restore-test restores kept, newest first.
const TESTS_KEPT: usize = 500;
/// A job's error as a row keeps it.
const ERROR_CHARS: usize = 300;

/// What the model is built from.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    pub state: &'a State,
    /// What the runner discovered last, else the inventory recorded at the last apply.
    pub inventory: &'a Inventory,
    /// Whether `inventory` was discovered after the last apply (then coverage drift shows).
    pub inventory_is_live: bool,
    pub jobs: &'a [JobRecord],
    pub points: &'a [RecoveryPoint],
    pub controls: &'a [ControlResult],
    /// The newest `coffer vault check` of each vault checked.
    pub checks: &'a BTreeMap<String, VaultCheck>,
    /// Where each configured block is written (`main.hcl:12`), when the configuration loads.
    pub sources: &'a BTreeMap<Address, String>,
    pub now: DateTime<Utc>,
}

/// One job, as the tables show it.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct JobRow {
    pub id: String,
    pub kind: JobKind,
    /// The job's state, as `jobs list` names it.
    pub state: String,
    pub status: Status,
    pub resource_arn: String,
    pub plan: Option<String>,
    pub rule: Option<String>,
    pub vault: String,
    pub scheduled_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_seconds: Option<i64>,
    pub bytes: Option<u64>,
    pub recovery_point_id: Option<String>,
    /// The error (or, for a job that ended well, its warning), shortened.
    pub message: Option<String>,
    /// A restore test's validation status.
    pub validation_status: Option<String>,
}

/// One day of one resource.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Cell {
    /// The worst status of the day's runs (none: no run was due).
    pub worst: Option<Status>,
    /// Scheduled runs the day expected.
    pub expected: u32,
    /// Of those, runs that made a point.
    pub good: u32,
    /// Runs of each status, scheduled or not.
    pub counts: BTreeMap<Status, u32>,
}

impl Cell {
    fn add(&mut self, s: Status, scheduled: bool) {
        self.worst = Some(self.worst.map_or(s, |w| w.max(s)));
        *self.counts.entry(s).or_default() += 1;
        if scheduled && s != Status::Running {
            self.expected += 1;
            if s.is_good() {
                self.good += 1;
            }
        }
    }
}

/// One resource with its roll-ups.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceRoll {
    pub arn: String,
    pub resource_type: String,
    pub name: Option<String>,
    pub region: String,
    pub account: String,
    pub tags: BTreeMap<String, String>,
    /// What protects it; empty: unprotected.
    pub protections: Vec<coverage::Protection>,
    /// The vaults its rules back up into.
    pub vaults: BTreeSet<String>,
    /// From when a plan expected runs of it.
    pub protected_since: Option<DateTime<Utc>>,
    pub days: BTreeMap<NaiveDate, Cell>,
    /// When its newest completed (original, not copied) point completed.
    pub last_good: Option<DateTime<Utc>>,
    /// Its recovery point objective and where it comes from.
    pub rpo: Option<(Duration, String)>,
    pub stale: bool,
    /// Scheduled runs that ended without a point, counted back from the newest.
    pub failures_in_row: u32,
    pub last_error: Option<(DateTime<Utc>, String)>,
    /// Its newest run's status (of runs that ended, or were missed).
    pub latest: Option<Status>,
    /// Whether a backup of it is under way.
    pub running: bool,
    pub live_points: u64,
}

impl ResourceRoll {
    pub fn is_protected(&self) -> bool {
        !self.protections.is_empty()
    }

    /// The plan it is grouped under.
    pub fn group(&self) -> &str {
        self.protections
            .first()
            .map(|p| match &p.plan {
                Address::Plan(n) => n.as_str(),
                _ => "",
            })
            .unwrap_or("")
    }

    /// Needs someone to look: failing, stale, or its newest run went wrong.
    pub fn attention(&self) -> Option<Status> {
        if !self.is_protected() {
            return None;
        }
        let latest = self
            .latest
            .filter(|s| s.is_bad() || *s == Status::OkWithIssues);
        match (self.failures_in_row, latest, self.stale) {
            (n, _, _) if n >= 2 => Some(Status::Failed),
            (_, Some(s), _) => Some(s),
            // past its RPO with a backup under way: it is late, not lost
            (_, None, true) if self.running => Some(Status::Running),
            (_, None, true) => Some(Status::Missed),
            _ => None,
        }
    }
}

/// A run the schedule expected and no job exists for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct MissedRun {
    pub rule: String,
    pub resource_arn: String,
    pub scheduled_at: DateTime<Utc>,
    pub start_by: DateTime<Utc>,
}

/// One vault with its roll-ups.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VaultRoll {
    pub name: String,
    pub storage: Option<String>,
    pub lock: Option<LockAttrs>,
    pub holds: Vec<String>,
    /// Live points and bytes by storage class.
    pub classes: BTreeMap<StorageClass, (u64, u64)>,
    /// Points by status (live and not).
    pub statuses: BTreeMap<PointStatus, u64>,
    /// Bytes that points made each day added, and that deletions removed.
    pub added: BTreeMap<NaiveDate, u64>,
    pub removed: BTreeMap<NaiveDate, u64>,
    pub last_prune: Option<JobRow>,
    pub last_check: Option<VaultCheck>,
}

impl VaultRoll {
    pub fn live_bytes(&self) -> u64 {
        self.classes.values().map(|c| c.1).sum()
    }

    pub fn live_points(&self) -> u64 {
        self.classes.values().map(|c| c.0).sum()
    }

    /// Live bytes at the end of each of the `days` days up to `today`, oldest first.
    pub fn growth(&self, today: NaiveDate, days: i64) -> Vec<(NaiveDate, u64)> {
        let mut total = self.live_bytes() as i128;
        let mut out = Vec::new();
        for back in 0..days {
            let day = today - Duration::days(back);
            out.push((day, total.max(0) as u64));
            total -= *self.added.get(&day).unwrap_or(&0) as i128;
            total += *self.removed.get(&day).unwrap_or(&0) as i128;
        }
        out.reverse();
        out
    }
}

/// Everything the views read.
#[derive(Debug, Clone)]
pub struct Model {
    pub now: DateTime<Utc>,
    /// Inventory resources, grouped by plan, then type, then ARN.
    pub resources: Vec<ResourceRoll>,
    index: HashMap<String, usize>,
    pub rules: Vec<RuleInfo>,
    /// Resources covered by each plan.
    pub by_plan: BTreeMap<Address, Vec<String>>,
    /// Recent jobs, newest run first.
    pub jobs: Vec<JobRow>,
    /// Jobs per day, kind and status, over the history.
    pub job_days: BTreeMap<(NaiveDate, JobKind, Status), u64>,
    pub vaults: BTreeMap<String, VaultRoll>,
    pub missed: Vec<MissedRun>,
    /// Restore tests' restores, newest first.
    pub restore_tests: Vec<JobRow>,
    pub controls: Vec<ControlResult>,
    /// The applied legal holds.
    pub holds: Vec<Hold>,
    /// The restore time a `RESTORE_TIME_FOR_RESOURCES_MEET_TARGET` control allows, if any.
    pub rto: Option<(Duration, String)>,
    /// When anything was last applied, and the state's serial.
    pub last_apply: Option<DateTime<Utc>>,
    pub serial: u64,
    /// Resources gaining and losing protection between the last apply and `inventory`
    /// (`None`: the inventory is the recorded one, so drift was not looked for).
    pub drift: Option<(usize, usize)>,
    pub sources: BTreeMap<Address, String>,
}

fn day(t: DateTime<Utc>) -> NaiveDate {
    t.date_naive()
}

fn short(text: &str) -> String {
    let mut s: String = text.chars().take(ERROR_CHARS).collect();
    if s.len() < text.len() {
        s.push('…');
    }
    s
}

fn row(j: &JobRecord) -> JobRow {
    let state = j.state();
    let status = status::of_job(j);
    let ended_at = state
        .is_terminal()
        .then(|| j.history.transitions.last().map(|t| t.1))
        .flatten();
    JobRow {
        id: j.id.clone(),
        kind: j.job.kind,
        state: state.as_str().to_string(),
        status,
        resource_arn: j.job.resource_arn.clone(),
        plan: j.job.plan.clone(),
        rule: j.job.rule.clone(),
        vault: j.job.vault.clone(),
        scheduled_at: j.job.windows.scheduled_at,
        ended_at,
        duration_seconds: j.duration_seconds(),
        bytes: j.bytes,
        recovery_point_id: j.job.recovery_point_id.clone(),
        message: j.error.as_deref().or(j.warning.as_deref()).map(short),
        validation_status: j.validation_status.clone(),
    }
}

/// Per control kind, the smallest duration parameter `name` among applied controls.
fn tightest(
    controls: &[ControlResult],
    kind: ControlKind,
    name: &str,
) -> Option<(Duration, String)> {
    controls
        .iter()
        .filter(|c| c.control == kind)
        .filter_map(|c| {
            let d = c.parameters.duration(name)?;
            Some((
                d.to_chrono(),
                format!("{} in framework {}", d.as_str(), c.framework),
            ))
        })
        .min_by_key(|(d, _)| *d)
}

impl Model {
    pub fn build(i: Inputs<'_>) -> Model {
        let now = i.now;
        let objects: BTreeMap<&Address, &serde_json::Value> = i
            .state
            .objects
            .values()
            .map(|o| (&o.address, &o.attributes))
            .collect();
        let created: HashMap<&Address, DateTime<Utc>> = i
            .state
            .objects
            .values()
            .map(|o| (&o.address, o.created_at))
            .collect();
        let rules = rules_from_objects(objects.iter().map(|(a, v)| (*a, *v))).unwrap_or_default();
        let coverage: Coverage = coverage::compute(
            &Rules::from_objects(objects.iter().map(|(a, v)| (*a, *v))),
            i.inventory,
        );
        let drift = i.inventory_is_live.then(|| {
            let gained = coverage
                .keys()
                .filter(|a| !i.state.coverage.contains_key(*a))
                .count();
            let lost = i
                .state
                .coverage
                .keys()
                .filter(|a| !coverage.contains_key(*a))
                .count();
            (gained, lost)
        });
        let mut by_plan: BTreeMap<Address, Vec<String>> = BTreeMap::new();
        for (arn, protections) in &coverage {
            let plans: BTreeSet<&Address> = protections.iter().map(|p| &p.plan).collect();
            for p in plans {
                by_plan.entry(p.clone()).or_default().push(arn.clone());
            }
        }
        let vaults_of_plan: BTreeMap<&Address, BTreeSet<String>> =
            rules.iter().fold(BTreeMap::new(), |mut m, r| {
                let set: &mut BTreeSet<String> = m.entry(&r.plan).or_default();
                set.insert(r.vault.clone());
                set.extend(r.options.copies.iter().map(|c| c.vault.clone()));
                m
            });

        // resources, grouped for the matrix
        let mut resources: Vec<ResourceRoll> = i
            .inventory
            .resources
            .iter()
            .map(|r| {
                let protections = coverage.get(&r.arn).cloned().unwrap_or_default();
                let vaults = protections
                    .iter()
                    .filter_map(|p| vaults_of_plan.get(&p.plan))
                    .flatten()
                    .cloned()
                    .collect();
                // runs are expected once the rule and a selection covering it were applied,
                // and the resource existed
                let protected_since = protections
                    .iter()
                    .filter_map(|p| {
                        let selection = created.get(&p.selection)?;
                        let rule = rules
                            .iter()
                            .filter(|rule| rule.plan == p.plan)
                            .filter_map(|rule| created.get(&rule.address))
                            .min()?;
                        Some(*selection.max(rule))
                    })
                    .min()
                    .map(|t| r.created_at.map_or(t, |c| c.max(t)));
                ResourceRoll {
                    arn: r.arn.clone(),
                    resource_type: r.resource_type.as_str().to_string(),
                    name: r.name.clone(),
                    region: r.region.clone(),
                    account: r.account.clone(),
                    tags: r.tags.clone(),
                    protections,
                    vaults,
                    protected_since,
                    days: BTreeMap::new(),
                    last_good: None,
                    rpo: None,
                    stale: false,
                    failures_in_row: 0,
                    last_error: None,
                    latest: None,
                    running: false,
                    live_points: 0,
                }
            })
            .collect();
        resources.sort_by(|a, b| {
            (
                a.protections.is_empty(),
                a.group(),
                &a.resource_type,
                &a.arn,
            )
                .cmp(&(
                    b.protections.is_empty(),
                    b.group(),
                    &b.resource_type,
                    &b.arn,
                ))
        });
        let index: HashMap<String, usize> = resources
            .iter()
            .enumerate()
            .map(|(n, r)| (r.arn.clone(), n))
            .collect();

        let history_start = now - Duration::days(HISTORY_DAYS);
        let today = day(now);
        let first_day = today - Duration::days(HISTORY_DAYS - 1);
        let row_start = now - Duration::days(ROW_DAYS);

        // runs per resource: (scheduled at, status, scheduled by a rule)
        let mut runs: HashMap<usize, Vec<(DateTime<Utc>, Status, bool)>> = HashMap::new();
        let mut backup_runs: HashMap<&str, BTreeSet<DateTime<Utc>>> = HashMap::new();
        let mut jobs = Vec::new();
        let mut job_days = BTreeMap::new();
        let mut restore_tests = Vec::new();
        let mut prunes: BTreeMap<String, JobRow> = BTreeMap::new();
        let mut last_error: HashMap<usize, (DateTime<Utc>, String)> = HashMap::new();
        for j in i.jobs {
            let at = j.job.windows.scheduled_at;
            let kind = j.job.kind;
            if kind == JobKind::Prune {
                let r = row(j);
                if r.ended_at.is_some()
                    && prunes
                        .get(&r.vault)
                        .is_none_or(|p| p.scheduled_at < r.scheduled_at)
                {
                    prunes.insert(r.vault.clone(), r);
                }
            }
            let is_test = j
                .job
                .rule
                .as_deref()
                .is_some_and(|r| restore_test::parse_label(r).is_some());
            if kind == JobKind::Restore && is_test {
                restore_tests.push(row(j));
            }
            if at >= history_start {
                *job_days
                    .entry((day(at), kind, status::of_job(j)))
                    .or_insert(0u64) += 1;
            }
            if at >= row_start {
                jobs.push(row(j));
            }
            if kind != JobKind::Backup {
                continue;
            }
            backup_runs
                .entry(j.job.resource_arn.as_str())
                .or_default()
                .insert(at);
            let Some(&n) = index.get(&j.job.resource_arn) else {
                continue;
            };
            let s = status::of_job(j);
            runs.entry(n)
                .or_default()
                .push((at, s, j.job.rule.is_some()));
            if let Some(e) = &j.error {
                if last_error.get(&n).is_none_or(|(t, _)| *t < at) {
                    last_error.insert(n, (at, short(e)));
                }
            }
        }
        // runs the schedule expected over the history that no backup job exists for
        let mut missed = Vec::new();
        for d in due(&rules, &coverage, history_start, now) {
            if now <= d.windows.start_by {
                continue;
            }
            let Some(&n) = index.get(&d.resource_arn) else {
                continue;
            };
            if resources[n]
                .protected_since
                .is_none_or(|since| d.windows.scheduled_at < since)
            {
                continue;
            }
            let made = backup_runs
                .get(d.resource_arn.as_str())
                .is_some_and(|s| s.contains(&d.windows.scheduled_at));
            if !made {
                runs.entry(n)
                    .or_default()
                    .push((d.windows.scheduled_at, Status::Missed, true));
                missed.push(MissedRun {
                    rule: d.rule.to_string(),
                    resource_arn: d.resource_arn,
                    scheduled_at: d.windows.scheduled_at,
                    start_by: d.windows.start_by,
                });
            }
        }
        missed.sort_by_key(|m| std::cmp::Reverse(m.scheduled_at));
        missed.truncate(MISSED_KEPT);
        jobs.sort_by(|a, b| (b.scheduled_at, &b.id).cmp(&(a.scheduled_at, &a.id)));
        restore_tests.sort_by(|a, b| (b.scheduled_at, &b.id).cmp(&(a.scheduled_at, &a.id)));
        restore_tests.truncate(TESTS_KEPT);

        for (n, mut list) in runs {
            list.sort_by_key(|r| r.0);
            let r = &mut resources[n];
            for (at, s, scheduled) in &list {
                if *at >= history_start {
                    r.days.entry(day(*at)).or_default().add(*s, *scheduled);
                }
            }
            r.latest = list
                .iter()
                .rev()
                .find(|x| x.1 != Status::Running)
                .map(|x| x.1);
            r.running = list.iter().any(|x| x.1 == Status::Running);
            r.failures_in_row = list
                .iter()
                .rev()
                .filter(|x| x.2 && x.1 != Status::Running)
                .take_while(|x| matches!(x.1, Status::Failed | Status::Expired))
                .count() as u32;
            r.last_error = last_error.remove(&n);
        }
        // days before a resource was protected
        for r in &mut resources {
            if let Some(since) = r.protected_since {
                let mut d = first_day;
                while d < day(since) && d <= today {
                    r.days
                        .entry(d)
                        .or_default()
                        .worst
                        .get_or_insert(Status::NotYetProtected);
                    d += Duration::days(1);
                }
            }
        }

        // points: freshness per resource, roll-ups per vault
        let mut vaults: BTreeMap<String, VaultRoll> = BTreeMap::new();
        for (a, v) in &objects {
            if let Address::Vault(name) = a {
                let attrs: Option<VaultAttrs> = attrs::read(a, v).ok();
                vaults.insert(
                    name.clone(),
                    VaultRoll {
                        name: name.clone(),
                        storage: attrs.as_ref().and_then(|x| x.storage.clone()),
                        lock: attrs.and_then(|x| x.lock),
                        ..VaultRoll::default()
                    },
                );
            }
        }
        let holds: Vec<Hold> = objects
            .iter()
            .filter_map(|(a, v)| match a {
                Address::LegalHold(name) => attrs::read::<LegalHoldAttrs>(a, v)
                    .ok()
                    .map(|h| h.into_hold(name)),
                _ => None,
            })
            .collect();
        for v in vaults.values_mut() {
            v.holds = holds
                .iter()
                .filter(|h| h.vaults.is_empty() || h.vaults.contains(&v.name))
                .map(|h| h.name.clone())
                .collect();
            v.last_prune = prunes.remove(&v.name);
            v.last_check = i.checks.get(&v.name).cloned();
        }
        for p in i.points {
            let v = vaults
                .entry(p.point.vault.clone())
                .or_insert_with(|| VaultRoll {
                    name: p.point.vault.clone(),
                    ..VaultRoll::default()
                });
            let bytes = p.point.size_bytes.unwrap_or(0);
            *v.statuses.entry(p.status).or_default() += 1;
            if p.point.created_at >= history_start {
                *v.added.entry(day(p.point.created_at)).or_default() += bytes;
            }
            if p.status == PointStatus::Completed {
                let c = v.classes.entry(p.storage_class).or_default();
                c.0 += 1;
                c.1 += bytes;
                if let Some(&n) = index.get(&p.point.resource_arn) {
                    let r = &mut resources[n];
                    r.live_points += 1;
                    if p.point.source_recovery_point_id.is_none() {
                        let t = p.point.completed_at.unwrap_or(p.point.created_at);
                        r.last_good = Some(r.last_good.map_or(t, |g| g.max(t)));
                    }
                }
            } else if let Some(at) = p.deleted_at.filter(|t| *t >= history_start) {
                *v.removed.entry(day(at)).or_default() += bytes;
            }
        }

        // freshness against the RPO: the tightest last-point control, else 1.5x the interval
        let control_rpo = tightest(i.controls, ControlKind::LastRecoveryPointCreated, "max_age");
        let mut interval: BTreeMap<&Address, Duration> = BTreeMap::new();
        for rule in &rules {
            if let Some(first) = rule.schedule.next_after(now) {
                if let Some(second) = rule.schedule.next_after(first) {
                    let gap = second - first;
                    let e = interval.entry(&rule.plan).or_insert(gap);
                    *e = (*e).min(gap);
                }
            }
        }
        for r in &mut resources {
            if !r.is_protected() {
                continue;
            }
            r.rpo = control_rpo.clone().or_else(|| {
                let gap = r
                    .protections
                    .iter()
                    .filter_map(|p| interval.get(&p.plan))
                    .min()?;
                let rpo = *gap * 3 / 2;
                Some((rpo, "1.5 × the rule's interval".to_string()))
            });
            if let Some((rpo, _)) = &r.rpo {
                let since = r.last_good.or(r.protected_since);
                r.stale = since.is_some_and(|t| now - t > *rpo);
            }
        }

        let last_apply = i.state.objects.values().map(|o| o.updated_at).max();
        Model {
            now,
            resources,
            index,
            rules,
            by_plan,
            jobs,
            job_days,
            vaults,
            missed,
            restore_tests,
            controls: i.controls.to_vec(),
            holds,
            rto: tightest(
                i.controls,
                ControlKind::RestoreTimeMeetsTarget,
                "max_restore_time",
            ),
            last_apply,
            serial: i.state.serial,
            drift,
            sources: i.sources.clone(),
        }
    }

    pub fn resource(&self, arn: &str) -> Option<&ResourceRoll> {
        self.index.get(arn).map(|&n| &self.resources[n])
    }

    /// The resources that need someone to look, worst first.
    pub fn attention(&self) -> Vec<(&ResourceRoll, Status)> {
        let mut out: Vec<(&ResourceRoll, Status)> = self
            .resources
            .iter()
            .filter_map(|r| Some((r, r.attention()?)))
            .collect();
        out.sort_by(|a, b| {
            (b.1, b.0.failures_in_row, &a.0.arn).cmp(&(a.1, a.0.failures_in_row, &b.0.arn))
        });
        out
    }

    pub fn today(&self) -> NaiveDate {
        day(self.now)
    }
}
