//! Plain-English descriptions of schedules, e.g. "at 06:00 UTC on the first Saturday of every
//! month", for `coffer schedule` and plan output.

use super::cron::{Bits, Cron, DayOfMonth, DayOfWeek, Field};
use super::occurrence::Schedule;

const DAY_NAMES: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const ORDINALS: [&str; 5] = ["first", "second", "third", "fourth", "fifth"];

/// "a, b and c"
fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn hhmm(minute_of_day: u32) -> String {
    format!("{:02}:{:02}", minute_of_day / 60, minute_of_day % 60)
}

/// Runs of consecutive values (`[1,2,3,5]` -> `[(1,3),(5,5)]`).
fn runs_of(values: &[u32]) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = Vec::new();
    for &v in values {
        match out.last_mut() {
            Some((_, end)) if *end + 1 == v => *end = v,
            _ => out.push((v, v)),
        }
    }
    out
}

/// "Monday through Friday", "Monday, Wednesday and Friday"
fn name_list(bits: &Bits, names: &[&str], offset: u32) -> String {
    let values: Vec<u32> = bits.iter().collect();
    let parts: Vec<String> = runs_of(&values)
        .into_iter()
        .map(|(a, b)| {
            let na = names[(a - offset) as usize];
            let nb = names[(b - offset) as usize];
            match b - a {
                0 => na.to_string(),
                1 => format!("{na} and {nb}"),
                _ => format!("{na} through {nb}"),
            }
        })
        .collect();
    join_and(&parts)
}

fn number_list(values: &[u32]) -> String {
    let parts: Vec<String> = runs_of(values)
        .into_iter()
        .map(|(a, b)| match b - a {
            0 => a.to_string(),
            1 => format!("{a} and {b}"),
            _ => format!("{a} through {b}"),
        })
        .collect();
    join_and(&parts)
}

fn time_phrase(cron: &Cron, tz: &str) -> String {
    let times = cron.times();
    if times.len() <= 6 {
        let list: Vec<String> = times.iter().map(|t| hhmm(*t)).collect();
        return format!("at {} {tz}", join_and(&list));
    }
    let minutes: Vec<u32> = cron.minutes.iter().collect();
    let hours: Vec<u32> = cron.hours.iter().collect();
    let minute_text = cron.field_text(Field::Minutes);
    let every = if minutes.len() == 60 {
        "every minute".to_string()
    } else if let Some((start, step)) = minute_text.split_once('/') {
        let from = if start == "*" || start == "0" {
            String::new()
        } else {
            format!(" from minute {start}")
        };
        format!("every {step} minutes{from}")
    } else if minutes.len() == 1 {
        format!("at minute {} of every hour", minutes[0])
    } else {
        format!("at minutes {} of every hour", number_list(&minutes))
    };
    let hour_runs = runs_of(&hours);
    let window = if hours.len() == 24 {
        String::new()
    } else if hour_runs.len() == 1
        || (hour_runs.len() == 2 && hour_runs[0].0 == 0 && hour_runs[1].1 == 23)
    {
        // one contiguous block, possibly wrapping past midnight
        let (first_hour, last_hour) = if hour_runs.len() == 2 {
            (hour_runs[1].0, hour_runs[0].1)
        } else {
            hour_runs[0]
        };
        let first = first_hour * 60 + minutes[0];
        let last = last_hour * 60 + minutes[minutes.len() - 1];
        format!(" between {} and {}", hhmm(first), hhmm(last))
    } else {
        let list: Vec<String> = hours.iter().map(|h| format!("{h:02}")).collect();
        format!(" during hours {}", join_and(&list))
    };
    format!("{every}{window} ({tz})")
}

/// The day phrase, and whether it is relative to a month ("the first Saturday").
fn day_phrase(cron: &Cron) -> (String, bool) {
    match (&cron.day_of_month, &cron.day_of_week) {
        (DayOfMonth::Days(b), _) if b.count() == 31 => ("every day".into(), false),
        (DayOfMonth::Days(b), _) => {
            let days: Vec<u32> = b.iter().collect();
            let word = if days.len() == 1 { "day" } else { "days" };
            (format!("on {word} {}", number_list(&days)), true)
        }
        (DayOfMonth::Last(0), _) => ("on the last day".into(), true),
        (DayOfMonth::Last(n), _) => (
            format!(
                "{n} day{} before the last day",
                if *n == 1 { "" } else { "s" }
            ),
            true,
        ),
        (DayOfMonth::LastWeekday, _) => ("on the last weekday".into(), true),
        (DayOfMonth::NearestWeekday(n), _) => (format!("on the weekday nearest day {n}"), true),
        (DayOfMonth::Any, DayOfWeek::Days(b)) if b.count() == 7 => ("every day".into(), false),
        (DayOfMonth::Any, DayOfWeek::Days(b)) if b.count() == 1 => {
            let d = b.iter().next().unwrap_or(1);
            (format!("every {}", DAY_NAMES[(d - 1) as usize]), false)
        }
        (DayOfMonth::Any, DayOfWeek::Days(b)) => {
            (format!("on {}", name_list(b, &DAY_NAMES, 1)), false)
        }
        (DayOfMonth::Any, DayOfWeek::Last(d)) => {
            (format!("on the last {}", DAY_NAMES[(d - 1) as usize]), true)
        }
        (DayOfMonth::Any, DayOfWeek::Nth(d, k)) => (
            format!(
                "on the {} {}",
                ORDINALS[(k - 1) as usize],
                DAY_NAMES[(d - 1) as usize]
            ),
            true,
        ),
        (DayOfMonth::Any, DayOfWeek::Any) => ("never".into(), false),
    }
}

/// A plain-English description of when the schedule runs.
pub fn describe(schedule: &Schedule) -> String {
    let cron = &schedule.cron;
    let tz = schedule.tz.name();
    let time = time_phrase(cron, tz);
    let (day, month_relative) = day_phrase(cron);
    let month = if cron.months.count() == 12 {
        if month_relative {
            " of every month".to_string()
        } else {
            String::new()
        }
    } else {
        let prefix = if month_relative { " of" } else { " in" };
        format!("{prefix} {}", name_list(&cron.months, &MONTH_NAMES, 1))
    };
    let (first_year, last_year) = cron.year_bounds();
    let year = if cron.years.count() == 230 {
        String::new()
    } else {
        let years: Vec<u32> = cron.years.iter().map(|y| y + 1970).collect();
        if years.len() == 1 {
            format!(", in {first_year}")
        } else if (last_year - first_year + 1) as usize == years.len() {
            format!(", in {first_year} through {last_year}")
        } else {
            format!(", in {}", number_list(&years))
        }
    };
    let sep = if time.ends_with(')') { ", " } else { " " };
    format!("{time}{sep}{day}{month}{year}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::occurrence::parse_timezone;

    fn d(expr: &str) -> String {
        describe(&Schedule::parse(expr, None).unwrap())
    }

    #[test]
    fn describes_the_documentation_examples() {
        assert_eq!(
            d("cron(0 6 ? * 7#1 *)"),
            "at 06:00 UTC on the first Saturday of every month"
        );
        assert_eq!(d("cron(0 10 * * ? *)"), "at 10:00 UTC every day");
        assert_eq!(d("cron(15 12 * * ? *)"), "at 12:15 UTC every day");
        assert_eq!(
            d("cron(0 18 ? * MON-FRI *)"),
            "at 18:00 UTC on Monday through Friday"
        );
        assert_eq!(
            d("cron(0 8 1 * ? *)"),
            "at 08:00 UTC on day 1 of every month"
        );
        assert_eq!(
            d("cron(0/15 * * * ? *)"),
            "every 15 minutes (UTC), every day"
        );
        assert_eq!(
            d("cron(0/5 8-17 ? * MON-FRI *)"),
            "every 5 minutes between 08:00 and 17:55 (UTC), on Monday through Friday"
        );
        assert_eq!(
            d("cron(0/30 20-2 ? * MON-FRI *)"),
            "every 30 minutes between 20:00 and 02:30 (UTC), on Monday through Friday"
        );
        assert_eq!(
            d("cron(5,35 14 * * ? *)"),
            "at 14:05 and 14:35 UTC every day"
        );
        assert_eq!(
            d("cron(15 10 ? * 6L 2019-2022)"),
            "at 10:15 UTC on the last Friday of every month, in 2019 through 2022"
        );
    }

    #[test]
    fn describes_day_specials_months_and_zones() {
        assert_eq!(
            d("cron(0 3 L * ? *)"),
            "at 03:00 UTC on the last day of every month"
        );
        assert_eq!(
            d("cron(0 3 LW * ? *)"),
            "at 03:00 UTC on the last weekday of every month"
        );
        assert_eq!(
            d("cron(0 3 15W * ? *)"),
            "at 03:00 UTC on the weekday nearest day 15 of every month"
        );
        assert_eq!(
            d("cron(0 3 1,15 JAN,JUL ? *)"),
            "at 03:00 UTC on days 1 and 15 of January and July"
        );
        assert_eq!(d("cron(0 3 ? * SAT *)"), "at 03:00 UTC every Saturday");
        assert_eq!(
            d("cron(0 3 ? * MON,WED,FRI FEB-APR 2027)"
                .replace("? * MON,WED,FRI FEB-APR", "? FEB-APR MON,WED,FRI")
                .as_str()),
            "at 03:00 UTC on Monday, Wednesday and Friday in February through April, in 2027"
        );
        assert_eq!(
            d("cron(0 1,13 * * ? *)"),
            "at 01:00 and 13:00 UTC every day"
        );
        let paris = Schedule::parse("cron(0 6 ? * 7#1 *)", parse_timezone("Europe/Paris")).unwrap();
        assert_eq!(
            describe(&paris),
            "at 06:00 Europe/Paris on the first Saturday of every month"
        );
    }
}
