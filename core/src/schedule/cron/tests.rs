//! Tests of cron parsing and matching.

use super::*;

fn cron(s: &str) -> Cron {
    Cron::parse(s).unwrap_or_else(|e| panic!("{s}: {e:?}"))
}

fn error(s: &str) -> CronError {
    Cron::parse(s).expect_err(s)
}

fn days(s: &str, y: i32, m: u32) -> Vec<u32> {
    let mask = cron(s).day_mask(y, m);
    (1..=31).filter(|d| mask & (1 << d) != 0).collect()
}

#[test]
fn every_wildcard_in_minutes_and_hours() {
    let c = cron("cron(0/15 8-10,20 * * ? *)");
    assert_eq!(c.minutes.iter().collect::<Vec<_>>(), vec![0, 15, 30, 45]);
    assert_eq!(c.hours.iter().collect::<Vec<_>>(), vec![8, 9, 10, 20]);
    assert_eq!(
        cron("cron(5/20 * * * ? *)")
            .minutes
            .iter()
            .collect::<Vec<_>>(),
        vec![5, 25, 45]
    );
    assert_eq!(
        cron("cron(10-20/5 * * * ? *)")
            .minutes
            .iter()
            .collect::<Vec<_>>(),
        vec![10, 15, 20]
    );
    assert_eq!(
        cron("cron(*/30 * * * ? *)")
            .minutes
            .iter()
            .collect::<Vec<_>>(),
        vec![0, 30]
    );
    assert_eq!(cron("cron(0 * * * ? *)").hours.count(), 24);
}

#[test]
fn ranges_wrap_around_as_in_the_aws_example() {
    let c = cron("cron(0/30 20-2 ? * MON-FRI *)");
    assert_eq!(
        c.hours.iter().collect::<Vec<_>>(),
        vec![0, 1, 2, 20, 21, 22, 23]
    );
    let c = cron("cron(0 0 ? * FRI-MON *)");
    let DayOfWeek::Days(b) = &c.day_of_week else {
        panic!()
    };
    assert_eq!(b.iter().collect::<Vec<_>>(), vec![1, 2, 6, 7]);
    assert_eq!(
        cron("cron(0 22-2/2 * * ? *)")
            .hours
            .iter()
            .collect::<Vec<_>>(),
        vec![0, 2, 22]
    );
}

#[test]
fn names_are_case_insensitive() {
    let c = cron("cron(0 0 ? jan-Mar,DEC mon *)");
    assert_eq!(c.months.iter().collect::<Vec<_>>(), vec![1, 2, 3, 12]);
    assert_eq!(
        c.day_of_week,
        DayOfWeek::Days({
            let mut b = Bits::default();
            b.insert(2);
            b
        })
    );
}

#[test]
fn years() {
    let c = cron("cron(15 10 ? * 6L 2019-2022)");
    assert_eq!(c.year_bounds(), (2019, 2022));
    assert_eq!(
        cron("cron(0 0 * * ? 2030/5)").years.iter().count(),
        (2199 - 2030) / 5 + 1
    );
}

#[test]
fn day_of_month_specials() {
    // November 2026 starts on a Sunday and has 30 days
    assert_eq!(days("cron(0 0 L * ? *)", 2026, 11), vec![30]);
    assert_eq!(days("cron(0 0 L * ? *)", 2024, 2), vec![29]);
    assert_eq!(days("cron(0 0 L-2 * ? *)", 2026, 11), vec![28]);
    // the last weekday of May 2026 (31st is a Sunday) is Friday the 29th
    assert_eq!(days("cron(0 0 LW * ? *)", 2026, 5), vec![29]);
    // 15W: 15 Nov 2026 is a Sunday -> Monday 16th; 15 Aug 2026 is a Saturday -> Friday 14th
    assert_eq!(days("cron(0 0 15W * ? *)", 2026, 11), vec![16]);
    assert_eq!(days("cron(0 0 15W * ? *)", 2026, 8), vec![14]);
    // 1W never leaves the month: 1 Aug 2026 is a Saturday -> Monday 3rd
    assert_eq!(days("cron(0 0 1W * ? *)", 2026, 8), vec![3]);
    // 31W in a month that ends on Sunday 31 May 2026 -> Friday 29th
    assert_eq!(days("cron(0 0 31W * ? *)", 2026, 5), vec![29]);
    // a day the month lacks selects nothing
    assert!(days("cron(0 0 31W * ? *)", 2026, 11).is_empty());
    assert_eq!(days("cron(0 0 1,15,31 * ? *)", 2026, 11), vec![1, 15]);
    assert_eq!(days("cron(0 0 1/10 * ? *)", 2026, 11), vec![1, 11, 21]);
}

#[test]
fn day_of_week_specials() {
    // first Saturday of December 2026 is the 5th
    assert_eq!(days("cron(0 6 ? * 7#1 *)", 2026, 12), vec![5]);
    assert_eq!(days("cron(0 6 ? * SAT#1 *)", 2026, 12), vec![5]);
    // a fifth Wednesday that does not exist skips the month
    assert!(days("cron(0 0 ? * 4#5 *)", 2026, 11).is_empty());
    assert_eq!(days("cron(0 0 ? * 4#5 *)", 2026, 12), vec![30]);
    // last Friday of November 2026 is the 27th
    assert_eq!(days("cron(0 0 ? * 6L *)", 2026, 11), vec![27]);
    // a lone L is Saturday
    assert_eq!(days("cron(0 0 ? * L *)", 2026, 11), vec![7, 14, 21, 28]);
    assert_eq!(days("cron(0 0 ? * MON-FRI *)", 2026, 11).len(), 21);
    assert_eq!(
        days("cron(0 0 ? * 1,7 *)", 2026, 11),
        vec![1, 7, 8, 14, 15, 21, 22, 28, 29]
    );
}

#[test]
fn months_and_years_restrict_days() {
    assert!(days("cron(0 0 * 1 ? *)", 2026, 2).is_empty());
    assert!(days("cron(0 0 * * ? 2027)", 2026, 2).is_empty());
    assert_eq!(days("cron(0 0 * * ? 2027)", 2027, 2).len(), 28);
}

fn check(s: &str, field: Option<Field>, bad: &str, message_part: &str) {
    let e = error(s);
    assert_eq!(e.field, field, "{s}: {e:?}");
    assert_eq!(&s[e.range.clone()], bad, "{s}: {e:?}");
    assert!(e.message.contains(message_part), "{s}: {}", e.message);
    assert!(!e.help.is_empty());
}

#[test]
fn errors_name_the_field_and_point_at_the_characters() {
    check(
        "cron(60 * * * ? *)",
        Some(Field::Minutes),
        "60",
        "out of range (0-59)",
    );
    check(
        "cron(0 24 * * ? *)",
        Some(Field::Hours),
        "24",
        "out of range (0-23)",
    );
    check(
        "cron(0 0 32 * ? *)",
        Some(Field::DayOfMonth),
        "32",
        "out of range (1-31)",
    );
    check(
        "cron(0 0 0 * ? *)",
        Some(Field::DayOfMonth),
        "0",
        "out of range (1-31)",
    );
    check(
        "cron(0 0 * 13 ? *)",
        Some(Field::Month),
        "13",
        "out of range (1-12)",
    );
    check(
        "cron(0 0 * JANUARY ? *)",
        Some(Field::Month),
        "JANUARY",
        "not a valid value",
    );
    check(
        "cron(0 0 ? * 0 *)",
        Some(Field::DayOfWeek),
        "0",
        "out of range (1-7)",
    );
    check(
        "cron(0 0 ? * 8 *)",
        Some(Field::DayOfWeek),
        "8",
        "out of range (1-7)",
    );
    check(
        "cron(0 0 * * ? 1969)",
        Some(Field::Year),
        "1969",
        "out of range (1970-2199)",
    );
    check(
        "cron(0 0 * * ? 2200)",
        Some(Field::Year),
        "2200",
        "out of range",
    );
    check(
        "cron(0 0 * * ? 2030-2020)",
        Some(Field::Year),
        "2030-2020",
        "backwards",
    );
    check("cron(0/0 * * * ? *)", Some(Field::Minutes), "0", "step 0");
    check(
        "cron(0/x * * * ? *)",
        Some(Field::Minutes),
        "x",
        "not a step",
    );
    check(
        "cron(0 ? * * ? *)",
        Some(Field::Hours),
        "?",
        "only allowed in day-of-month",
    );
    check(
        "cron(L 0 * * ? *)",
        Some(Field::Minutes),
        "L",
        "only allowed in day-of-month and day-of-week",
    );
}

#[test]
fn day_field_rules() {
    check("cron(0 0 ? * ? *)", None, "? * ?", "both `?`");
    check("cron(0 0 * * * *)", None, "* * *", "both set");
    check("cron(0 0 1 * MON *)", None, "1 * MON", "both set");
    check(
        "cron(0 0 ? * 3#1,6#3 *)",
        Some(Field::DayOfWeek),
        "3#1,6#3",
        "only one `#`",
    );
    check(
        "cron(0 0 ? * 3#6 *)",
        Some(Field::DayOfWeek),
        "6",
        "week 6 is out of range",
    );
    check(
        "cron(0 0 ? * 1/2 *)",
        Some(Field::DayOfWeek),
        "1/2",
        "`/` is not allowed in day-of-week",
    );
    check(
        "cron(0 0 15W,1 * ? *)",
        Some(Field::DayOfMonth),
        "15W,1",
        "must be the only value",
    );
    check(
        "cron(0 0 1-5W * ? *)",
        Some(Field::DayOfMonth),
        "1-5W",
        "not a valid W expression",
    );
    check(
        "cron(0 0 ? * 2W *)",
        Some(Field::DayOfWeek),
        "2W",
        "only allowed in day-of-month",
    );
    check(
        "cron(0 0 1#2 * ? *)",
        Some(Field::DayOfMonth),
        "1#2",
        "only allowed in day-of-week",
    );
    check(
        "cron(0 0 L-31 * ? *)",
        Some(Field::DayOfMonth),
        "31",
        "out of range (1-30)",
    );
    check(
        "cron(0 0 ? * 6L,2 *)",
        Some(Field::DayOfWeek),
        "6L,2",
        "must be the only value",
    );
}

#[test]
fn outer_form() {
    check("rate(12 hours)", None, "rate(12 hours)", "rate expression");
    assert!(error("rate(12 hours)")
        .help
        .contains("cron(0 0/12 * * ? *)"));
    check("0 5 * * *", None, "0 5 * * *", "not a cron(...) expression");
    check("cron(0 5 * * ?)", None, "0 5 * * ?", "has 5 field(s)");
    assert!(error("cron(0 5 * * ?)").help.contains("Unix cron"));
    check(
        "cron(0 0 5 * * ? *)",
        None,
        "0 0 5 * * ? *",
        "has 7 field(s)",
    );
    check("  cron(0 5 * * ?)", None, "0 5 * * ?", "has 5");
}

#[test]
fn matches_checks_day_and_time() {
    let c = cron("cron(0 6 ? * 7#1 *)");
    let d = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
    assert!(c.matches(d, 6 * 60));
    assert!(!c.matches(d, 6 * 60 + 1));
    assert!(!c.matches(d.succ_opt().unwrap(), 6 * 60));
}
