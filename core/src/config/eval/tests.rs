//! Tests of expression evaluation.

use super::*;

fn run(src: &str) -> (Result<Value, Failed>, Diagnostics) {
    let expr = hcl_edit::parser::parse_expr(src).expect("parses");
    let mut declared = Declared::default();
    declared.variables.insert("env".into());
    declared.locals.insert("tags".into());
    declared.vaults.insert("default".into());
    let mut vars = BTreeMap::new();
    vars.insert("env".to_string(), Value::String("prod".into()));
    let mut locals = BTreeMap::new();
    locals.insert(
        "tags".to_string(),
        Value::Map([("Team".to_string(), Value::String("platform".into()))].into()),
    );
    let mut scope = Scope::new(FileId(0), &declared, &vars, &locals).with_source(src);
    let mut diags = Diagnostics::default();
    let r = eval(&expr, &mut scope, &mut diags);
    (r, diags)
}

fn ok(src: &str) -> Value {
    let (r, d) = run(src);
    assert!(d.is_empty(), "{src}: {d:?}");
    r.expect("evaluates")
}

fn err(src: &str) -> String {
    let (r, d) = run(src);
    assert!(r.is_err(), "{src} should fail");
    let message = d.iter().next().expect("a diagnostic").message.clone();
    message
}

/// Issue 11, defect 11: expressions that Terraform users write from habit mean what they mean
/// in Terraform. Each result is what Terraform gives (its numbers are 512-bit binary floats,
/// its `format` is Go's, its string functions Go's); the long numbers come from evaluating
/// the same arithmetic at 512 bits with round-to-nearest-even.
#[test]
fn expressions_evaluate_as_terraform_evaluates_them() {
    const THIRD: &str = "0.33333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333333335";
    const ELEVEN_TWENTY_TWO: &str = "3.3000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000002";
    let table: &[(&str, &str)] = &[
        // numbers
        ("0.1 + 0.2", "0.3"),
        ("1.1 + 2.2", ELEVEN_TWENTY_TWO),
        ("0.1 * 3", "0.3"),
        ("1 / 3", THIRD),
        ("2 / 3 * 3", "2"),
        ("10 / 4", "2.5"),
        ("7 % 3", "1"),
        ("-7 % 3", "-1"),
        ("7.5 % 2", "1.5"),
        ("12345678901234567890 + 1", "12345678901234567891"),
        ("12345678901234567890 * 10", "123456789012345678900"),
        ("1e30 + 1", "1000000000000000000000000000001"),
        ("100 - 0.01", "99.99"),
        ("tostring(1e21)", "1000000000000000000000"),
        ("\"${0.1 + 0.2}\"", "0.3"),
        ("min(1.5, 0.25)", "0.25"),
        ("tonumber(\"1e3\")", "1000"),
        ("3 > 2.5", "true"),
        // format: verbs, flags, width, precision, argument index
        ("format(\"%05d\", 42)", "00042"),
        ("format(\"%+d|% d\", 5, 5)", "+5| 5"),
        (
            "format(\"%x %X %#x %o %b\", 255, 255, 255, 8, 5)",
            "ff FF 0xff 10 101",
        ),
        ("format(\"%.2f\", 3.14159)", "3.14"),
        ("format(\"%.2f\", 2.675)", "2.67"),
        ("format(\"%f\", 1.5)", "1.500000"),
        (
            "format(\"%8.3f|%-8.3f|%08.3f\", 3.14159, 3.14159, -3.14159)",
            "   3.142|3.142   |-003.142",
        ),
        ("format(\"%e\", 123456.789)", "1.234568e+05"),
        ("format(\"%E\", 0.000123)", "1.230000E-04"),
        (
            "format(\"%g %g %g %g\", 1000000, 100000, 0.0001, 0.00001)",
            "1e+06 100000 0.0001 1e-05",
        ),
        ("format(\"%t\", true)", "true"),
        ("format(\"%q\", \"a\\\"b<c>\")", "\"a\\\"b\\u003cc\\u003e\""),
        ("format(\"%v %v %#v\", 1.5, \"s\", \"s\")", "1.5 s \"s\""),
        ("format(\"%v\", [1, \"a\", true])", "[1,\"a\",true]"),
        (
            "format(\"%5s|%-5s|%.3s\", \"ab\", \"cd\", \"abcdef\")",
            "   ab|cd   |abc",
        ),
        ("format(\"%[2]s-%[1]s\", \"a\", \"b\")", "b-a"),
        ("format(\"%d%%\", 50)", "50%"),
        // strings
        (
            "replace(\"hello world\", \"/o(.)/\", \"0$1\")",
            "hell0 w0rld",
        ),
        ("replace(\"a1b22\", \"/\\\\d+/\", \"#\")", "a#b#"),
        ("replace(\"a.b.c\", \".\", \"-\")", "a-b-c"),
        ("replace(\"abc\", \"\", \"-\")", "-a-b-c-"),
        ("replace(\"x/y\", \"/\", \"-\")", "x-y"),
        ("title(\"hello-world foo_bar\")", "Hello-World Foo_bar"),
        ("title(\"élan vital\")", "Élan Vital"),
        ("title(\"ǆemal\")", "ǅemal"),
        ("upper(\"straße\")", "STRAßE"),
        ("upper(\"ǆ\")", "Ǆ"),
        ("lower(\"İSTANBUL\")", "istanbul"),
        ("join(\"|\", split(\"\", \"abc\"))", "a|b|c"),
        ("length(split(\",\", \"\"))", "1"),
        ("length(split(\"\", \"\"))", "0"),
        ("length(\"e\\u0301\")", "1"),
        ("length(\"👍🏽\")", "1"),
    ];
    let show = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other
            .to_template_string()
            .unwrap_or_else(|| other.to_json().to_string()),
    };
    let mut wrong = Vec::new();
    for (expr, want) in table {
        let (r, d) = run(expr);
        match r {
            Ok(v) if show(&v) == *want => {}
            Ok(v) => wrong.push(format!("{expr}: got {}, Terraform gives {want}", show(&v))),
            Err(_) => wrong.push(format!("{expr}: failed ({d:?}), Terraform gives {want}")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // what Terraform refuses, coffer refuses
    assert!(err("format(\"%d\", 1.5)").contains("an integer is required"));
    assert!(err("format(\"%y\", 1)").contains("unsupported format verb"));
    assert!(err("replace(\"a\", \"/(/\", \"b\")").contains("not a valid regular expression"));
}

#[test]
fn literals_and_templates() {
    assert_eq!(
        ok("\"backup-${var.env}\""),
        Value::String("backup-prod".into())
    );
    assert_eq!(
        ok("1 + 2 * 3"),
        Value::Number(crate::number::Number::from_i64(7))
    );
    assert_eq!(
        ok("var.env == \"prod\" ? \"yes\" : \"no\""),
        Value::String("yes".into())
    );
    assert_eq!(ok("!true || false"), Value::Bool(false));
    assert_eq!(
        ok("\"%{ if var.env == \"prod\" }P%{ else }D%{ endif }\""),
        Value::String("P".into())
    );
    assert_eq!(
        ok("\"%{ for x in [1, 2] }${x};%{ endfor }\""),
        Value::String("1;2;".into())
    );
}

#[test]
fn references() {
    assert_eq!(
        ok("vault.default"),
        Value::Ref(Address::Vault("default".into()))
    );
    assert_eq!(ok("vault.default.name"), Value::String("default".into()));
    assert_eq!(ok("local.tags.Team"), Value::String("platform".into()));
    assert_eq!(ok("local.tags[\"Team\"]"), Value::String("platform".into()));
}

#[test]
fn for_expressions() {
    assert_eq!(
        ok("[for s in [\"a\", \"b\"] : upper(s) if s != \"b\"]"),
        Value::List(vec![Value::String("A".into())])
    );
    assert_eq!(
        ok("{for k, v in local.tags : lower(k) => v}"),
        Value::Map([("team".to_string(), Value::String("platform".into()))].into())
    );
}

#[test]
fn errors_are_explained() {
    assert_eq!(err("var.nope"), "reference to undeclared variable `nope`");
    assert_eq!(
        err("vault.defualt"),
        "reference to undeclared vault `defualt`"
    );
    assert_eq!(err("prod"), "unknown name `prod`");
    assert_eq!(
        err("1 + \"a\""),
        "operator `+` does not apply to number and string"
    );
    assert_eq!(
        err("[1][3]"),
        "index 3 is out of range for a list of 1 elements"
    );
    assert_eq!(err("{(var.env) = 1, prod = 2}"), "duplicate map key `prod`");
    assert_eq!(err("\"${[1]}\""), "cannot insert a list into a string");
    assert_eq!(err("1 / 0"), "division by zero");
}

#[test]
fn did_you_mean_for_vaults() {
    let (_, d) = run("vault.defualt");
    let help = d.iter().next().unwrap().help.clone().unwrap();
    assert_eq!(help, "did you mean `vault.default`?");
}

#[test]
fn collects_references() {
    let e =
        hcl_edit::parser::parse_expr("merge(local.tags, { a = var.env }, vault.x.name)").unwrap();
    let refs: Vec<RefTarget> = super::references(&e).into_iter().map(|(r, _)| r).collect();
    assert_eq!(
        refs,
        vec![
            RefTarget::Local("tags".into()),
            RefTarget::Variable("env".into()),
            RefTarget::Object(Address::Vault("x".into())),
        ]
    );
}

/// Found by the `config` fuzz target (issue 17): `%66000000000v` asked for 66 GB of padding
/// and aborted the process; widths and precisions past 10,000 are refused.
#[test]
fn issue_17_fuzz_crash_a_huge_format_width_is_an_error_not_an_abort() {
    assert!(
        err("format(\"%66000000000v\", \"x\")").contains("width at offset 0 is more than 10000")
    );
    assert!(err("format(\"%.99999999f\", 1)").contains("precision at offset 0 is more than 10000"));
    assert_eq!(
        ok("format(\"%3v|%.2f\", \"x\", 1.5)"),
        Value::String("  x|1.50".into())
    );
}
