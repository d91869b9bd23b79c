//! `coffer schedule`: upcoming runs of every backup rule (or the chosen ones), with start-by
//! and complete-by times and a plain-English description; as a table or as JSON.

use super::args::VarArgs;
use super::context::{CmdError, Ctx};
use super::Exit;
use crate::address::Address;
use crate::config::model::Rule;
use crate::schedule::describe::describe;
use chrono::{DateTime, Utc};
use serde::Serialize;

pub struct Options {
    pub from: Option<String>,
    pub until: Option<String>,
    pub limit: usize,
    pub rules: Vec<String>,
    pub json: bool,
    pub vars: VarArgs,
}

#[derive(Serialize, schemars::JsonSchema)]
pub struct RunJson {
    pub start: String,
    pub start_by: String,
    pub complete_by: String,
}

/// One rule in `coffer schedule --json` (an array of these); schema/schedule.schema.json.
#[derive(Serialize, schemars::JsonSchema)]
pub struct RuleJson {
    pub rule: String,
    pub expression: String,
    pub timezone: String,
    pub description: String,
    pub start_window: String,
    pub completion_window: String,
    pub runs: Vec<RunJson>,
}

pub(super) fn instant(flag: &str, text: &str) -> Result<DateTime<Utc>, CmdError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            format!(
                "--{flag} `{text}` is not an RFC 3339 time ({e}); write e.g. 2026-12-01T00:00:00Z"
            )
        })
}

pub(super) use crate::render::rfc3339;

pub fn schedule(ctx: &Ctx, opts: Options) -> Result<Exit, CmdError> {
    let (config, _) = ctx.load(&opts.vars)?;
    let from = match &opts.from {
        Some(t) => instant("from", t)?,
        None => Utc::now(),
    };
    let until = opts
        .until
        .as_deref()
        .map(|t| instant("until", t))
        .transpose()?;
    if until.is_some_and(|u| u < from) {
        return Err("--until is before --from".into());
    }
    let all: Vec<&Rule> = config
        .plans
        .values()
        .flat_map(|p| p.rules.values())
        .collect();
    let mut wanted: Vec<&Rule> = Vec::new();
    if opts.rules.is_empty() {
        wanted = all.clone();
    } else {
        for r in &opts.rules {
            let addr: Address = r
                .parse()
                .map_err(|e: crate::address::AddressParseError| e.to_string())?;
            match all.iter().find(|rule| rule.address() == addr) {
                Some(rule) => wanted.push(rule),
                None => {
                    let names: Vec<String> = all.iter().map(|r| r.address().to_string()).collect();
                    let near =
                        crate::config::suggest::did_you_mean(r, names.iter().map(String::as_str))
                            .map(|s| format!("; did you mean {s}?"))
                            .unwrap_or_default();
                    return Err(format!("no rule {r} in the configuration{near}"));
                }
            }
        }
    }
    let mut out = Vec::new();
    for rule in wanted {
        let schedule = rule
            .parsed_schedule()
            .map_err(|e| format!("{}: {}", rule.address(), e.message))?;
        let start_window = rule.start_window.to_chrono();
        let completion_window = rule.completion_window.to_chrono();
        let runs = schedule.runs(from, until, opts.limit, start_window, completion_window);
        out.push((rule, schedule, runs));
    }

    if opts.json {
        let json: Vec<RuleJson> = out
            .iter()
            .map(|(rule, schedule, runs)| RuleJson {
                rule: rule.address().to_string(),
                expression: rule.schedule.clone(),
                timezone: schedule.tz.name().to_string(),
                description: describe(schedule),
                start_window: rule.start_window.to_string(),
                completion_window: rule.completion_window.to_string(),
                runs: runs
                    .iter()
                    .map(|r| RunJson {
                        start: rfc3339(r.start),
                        start_by: rfc3339(r.start_by),
                        complete_by: rfc3339(r.complete_by),
                    })
                    .collect(),
            })
            .collect();
        super::json::print_in_order(&json);
        return Ok(Exit::Success);
    }

    let style = crate::render::Style {
        color: ctx.color_out,
    };
    if out.is_empty() {
        println!("No backup rules in the configuration.");
    }
    for (i, (rule, schedule, runs)) in out.iter().enumerate() {
        if i > 0 {
            println!();
        }
        println!("{}", style.bold(&rule.address().to_string()));
        println!("  {}  ({})", rule.schedule, schedule.tz.name());
        println!("  {}", describe(schedule));
        println!(
            "  start within {}, complete within {}",
            rule.start_window, rule.completion_window
        );
        if runs.is_empty() {
            println!("  no runs in this period");
            continue;
        }
        let local = |t: DateTime<Utc>| {
            t.with_timezone(&schedule.tz)
                .format("%Y-%m-%d %H:%M %Z")
                .to_string()
        };
        let width = runs
            .iter()
            .map(|r| local(r.start).len())
            .max()
            .unwrap_or(0)
            .max("START".len());
        println!(
            "    {:width$}   {:width$}   COMPLETE BY",
            "START", "START BY"
        );
        for r in runs {
            println!(
                "    {:width$}   {:width$}   {}",
                local(r.start),
                local(r.start_by),
                local(r.complete_by)
            );
        }
    }
    Ok(Exit::Success)
}
