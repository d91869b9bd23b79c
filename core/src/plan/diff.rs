//! Attribute-level differences between two JSON attribute trees: maps by key, lists by
//! element (an LCS diff, so an insertion in the middle is one added element), scalars whole.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use similar::{capture_diff_slices, Algorithm, DiffOp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeAction {
    Add,
    Remove,
    Change,
}

/// One changed attribute, map entry or list element.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributeChange {
    /// e.g. `storage`, `tags.Team`, `tags["Cost Center"]`, `resources[2]`, `copy_to[0].vault`
    pub path: String,
    pub action: ChangeAction,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub forces_replacement: bool,
}

/// What happened to list elements between two lists, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElementOp {
    /// `n` elements kept as they were.
    Unchanged(usize),
    /// Element `i` of the old list is gone.
    Removed(usize),
    /// Element `j` of the new list is new.
    Added(usize),
    /// Element `i` of the old list became element `j` of the new one.
    Changed(usize, usize),
}

/// An LCS diff of two lists by element: an insertion in the middle is one `Added`, and a
/// replaced run pairs old and new elements one to one before adding or removing the rest.
pub fn element_ops(before: &[Value], after: &[Value]) -> Vec<ElementOp> {
    let bs: Vec<String> = before.iter().map(Value::to_string).collect();
    let as_: Vec<String> = after.iter().map(Value::to_string).collect();
    let mut out = Vec::new();
    for op in capture_diff_slices(Algorithm::Myers, &bs, &as_) {
        match op {
            DiffOp::Equal { len, .. } => out.push(ElementOp::Unchanged(len)),
            DiffOp::Delete {
                old_index, old_len, ..
            } => out.extend((old_index..old_index + old_len).map(ElementOp::Removed)),
            DiffOp::Insert {
                new_index, new_len, ..
            } => out.extend((new_index..new_index + new_len).map(ElementOp::Added)),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                let paired = old_len.min(new_len);
                out.extend((0..paired).map(|k| ElementOp::Changed(old_index + k, new_index + k)));
                out.extend((old_index + paired..old_index + old_len).map(ElementOp::Removed));
                out.extend((new_index + paired..new_index + new_len).map(ElementOp::Added));
            }
        }
    }
    out
}

fn key_path(parent: &str, key: &str) -> String {
    let simple = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !key.starts_with(|c: char| c.is_ascii_digit());
    match (parent.is_empty(), simple) {
        (true, true) => key.to_string(),
        (true, false) => format!("[{key:?}]"),
        (false, true) => format!("{parent}.{key}"),
        (false, false) => format!("{parent}[{key:?}]"),
    }
}

/// Differences from `before` to `after`. `top` is the first path segment's attribute name,
/// passed to `forces` to mark changes that need a replacement.
pub fn diff(before: &Value, after: &Value, forces: &dyn Fn(&str) -> bool) -> Vec<AttributeChange> {
    let mut out = Vec::new();
    walk("", "", before, after, forces, &mut out);
    out
}

fn push(
    out: &mut Vec<AttributeChange>,
    path: String,
    top: &str,
    action: ChangeAction,
    before: Option<&Value>,
    after: Option<&Value>,
    forces: &dyn Fn(&str) -> bool,
) {
    out.push(AttributeChange {
        path,
        action,
        before: before.cloned(),
        after: after.cloned(),
        forces_replacement: forces(top),
    });
}

fn walk(
    path: &str,
    top: &str,
    before: &Value,
    after: &Value,
    forces: &dyn Fn(&str) -> bool,
    out: &mut Vec<AttributeChange>,
) {
    if before == after {
        return;
    }
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = key_path(path, k);
                let t = if top.is_empty() { k.as_str() } else { top };
                match (b.get(k), a.get(k)) {
                    (Some(bv), Some(av)) => walk(&p, t, bv, av, forces, out),
                    (None, Some(av)) => push(out, p, t, ChangeAction::Add, None, Some(av), forces),
                    (Some(bv), None) => {
                        push(out, p, t, ChangeAction::Remove, Some(bv), None, forces)
                    }
                    (None, None) => {}
                }
            }
        }
        (Value::Array(b), Value::Array(a)) if !path.is_empty() => {
            for op in element_ops(b, a) {
                match op {
                    ElementOp::Unchanged(_) => {}
                    ElementOp::Removed(i) => push(
                        out,
                        format!("{path}[{i}]"),
                        top,
                        ChangeAction::Remove,
                        Some(&b[i]),
                        None,
                        forces,
                    ),
                    ElementOp::Added(j) => push(
                        out,
                        format!("{path}[{j}]"),
                        top,
                        ChangeAction::Add,
                        None,
                        Some(&a[j]),
                        forces,
                    ),
                    ElementOp::Changed(i, j) if b[i].is_object() && a[j].is_object() => {
                        walk(&format!("{path}[{j}]"), top, &b[i], &a[j], forces, out)
                    }
                    ElementOp::Changed(i, j) => push(
                        out,
                        format!("{path}[{j}]"),
                        top,
                        ChangeAction::Change,
                        Some(&b[i]),
                        Some(&a[j]),
                        forces,
                    ),
                }
            }
        }
        _ => push(
            out,
            path.to_string(),
            top,
            ChangeAction::Change,
            Some(before),
            Some(after),
            forces,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(before: Value, after: Value) -> Vec<(String, ChangeAction)> {
        diff(&before, &after, &|t| t == "storage")
            .into_iter()
            .map(|c| (c.path, c.action))
            .collect()
    }

    #[test]
    fn maps_are_diffed_by_key() {
        let d = paths(
            json!({"tags": {"a": "1", "b": "2"}}),
            json!({"tags": {"b": "3", "c": "4"}}),
        );
        assert_eq!(
            d,
            vec![
                ("tags.a".into(), ChangeAction::Remove),
                ("tags.b".into(), ChangeAction::Change),
                ("tags.c".into(), ChangeAction::Add)
            ]
        );
    }

    #[test]
    fn lists_are_diffed_by_element() {
        let d = paths(
            json!({"r": ["a", "b", "c"]}),
            json!({"r": ["a", "x", "b", "c"]}),
        );
        assert_eq!(d, vec![("r[1]".into(), ChangeAction::Add)]);
        let d = paths(json!({"r": ["a", "b"]}), json!({"r": ["b"]}));
        assert_eq!(d, vec![("r[0]".into(), ChangeAction::Remove)]);
    }

    #[test]
    fn lists_of_objects_recurse_into_replaced_elements() {
        let d = paths(
            json!({"copy_to": [{"vault": "vault.a", "lifecycle": null}]}),
            json!({"copy_to": [{"vault": "vault.b", "lifecycle": null}]}),
        );
        assert_eq!(d, vec![("copy_to[0].vault".into(), ChangeAction::Change)]);
    }

    #[test]
    fn odd_keys_are_quoted_and_replacement_is_flagged() {
        let d = diff(
            &json!({"tags": {}, "storage": "a"}),
            &json!({"tags": {"Cost Center": "1"}, "storage": "b"}),
            &|t| t == "storage",
        );
        assert_eq!(d[0].path, "storage");
        assert!(d[0].forces_replacement);
        assert_eq!(d[1].path, "tags[\"Cost Center\"]");
        assert!(!d[1].forces_replacement);
    }

    #[test]
    fn null_to_object_is_one_change() {
        let d = paths(
            json!({"lock": null}),
            json!({"lock": {"mode": "governance"}}),
        );
        assert_eq!(d, vec![("lock".into(), ChangeAction::Change)]);
    }
}
