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
    let mut scope = Scope::new(FileId(0), &declared, &vars, &locals);
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

#[test]
fn literals_and_templates() {
    assert_eq!(
        ok("\"backup-${var.env}\""),
        Value::String("backup-prod".into())
    );
    assert_eq!(ok("1 + 2 * 3"), Value::Number(7.0));
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
