//! Selection semantics, as AWS Backup defines them: `any_tag` entries are ORed, `resources`
//! ARN patterns are ORed with them, every `condition` entry must hold (AND), `not_resources`
//! is subtracted, everything is case-sensitive, and a selection covers only resources in its
//! plan's regions (local directories are in every plan's reach). Works on the JSON
//! attributes of selection and plan objects, so recorded and configured selections are
//! evaluated the same way.

use crate::address::Address;
use crate::inventory::Resource;
use crate::objects::{attrs, SelectionAttrs};
use serde_json::Value;
use std::collections::BTreeMap;

/// `*` matches any run of characters (including none); everything else matches itself.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            pi += 1;
            mark = ti;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == b'*')
}

/// A selection, read from its attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectionSpec {
    pub address: Address,
    pub plan: Address,
    pub all_resources: bool,
    pub any_tag: BTreeMap<String, Vec<String>>,
    pub resources: Vec<String>,
    pub not_resources: Vec<String>,
    pub string_equals: BTreeMap<String, String>,
    pub string_not_equals: BTreeMap<String, String>,
    pub string_like: BTreeMap<String, String>,
    pub string_not_like: BTreeMap<String, String>,
}

impl SelectionSpec {
    pub fn from_attributes(address: &Address, recorded: &Value) -> Option<SelectionSpec> {
        let s: SelectionAttrs = attrs::read(address, recorded).ok()?;
        Some(SelectionSpec {
            address: address.clone(),
            plan: s.plan.parse().ok()?,
            all_resources: s.all_resources,
            any_tag: s.any_tag,
            resources: s.resources,
            not_resources: s.not_resources,
            string_equals: s.condition.string_equals,
            string_not_equals: s.condition.string_not_equals,
            string_like: s.condition.string_like,
            string_not_like: s.condition.string_not_like,
        })
    }

    /// Whether the selection names resources itself (tags or ARNs); if not, it starts from
    /// every resource and its conditions narrow that down.
    pub fn has_base(&self) -> bool {
        !self.any_tag.is_empty() || !self.resources.is_empty()
    }

    /// Tag or ARN criteria (the ORed part).
    pub fn base_matches(&self, r: &Resource) -> bool {
        if self.all_resources || !self.has_base() {
            return true;
        }
        self.any_tag
            .iter()
            .any(|(k, values)| r.tags.get(k).is_some_and(|v| values.iter().any(|x| x == v)))
            || self.resources.iter().any(|p| glob(p, &r.arn))
    }

    /// Every condition holds (the ANDed part). A missing tag fails `string_equals` and
    /// `string_like`, and satisfies `string_not_equals` and `string_not_like`.
    pub fn conditions_hold(&self, r: &Resource) -> bool {
        self.string_equals
            .iter()
            .all(|(k, v)| r.tags.get(k) == Some(v))
            && self
                .string_not_equals
                .iter()
                .all(|(k, v)| r.tags.get(k) != Some(v))
            && self
                .string_like
                .iter()
                .all(|(k, p)| r.tags.get(k).is_some_and(|v| glob(p, v)))
            && self
                .string_not_like
                .iter()
                .all(|(k, p)| !r.tags.get(k).is_some_and(|v| glob(p, v)))
    }

    pub fn excluded(&self, r: &Resource) -> bool {
        self.not_resources.iter().any(|p| glob(p, &r.arn))
    }

    /// The full test for one resource, given the plan's regions (empty means any region).
    pub fn selects(&self, r: &Resource, regions: &[String]) -> bool {
        in_regions(r, regions)
            && self.base_matches(r)
            && self.conditions_hold(r)
            && !self.excluded(r)
    }
}

/// Directories are local and reachable from every plan; cloud resources must be in one of
/// the plan's regions (an empty list means any).
pub fn in_regions(r: &Resource, regions: &[String]) -> bool {
    r.region == "local" || regions.is_empty() || regions.contains(&r.region)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::ResourceType;
    use serde_json::json;

    #[test]
    fn glob_matches_stars_anywhere_and_is_case_sensitive() {
        assert!(glob("*", ""));
        assert!(glob("*", "anything"));
        assert!(glob(
            "arn:aws:ec2:*:volume/*",
            "arn:aws:ec2:us-east-1:1:volume/vol-1"
        ));
        assert!(glob("prod-*", "prod-db"));
        assert!(!glob("prod-*", "Prod-db"));
        assert!(glob("*-db", "prod-db"));
        assert!(glob("a*b*c", "aXXbYYc"));
        assert!(!glob("a*b*c", "aXXbYY"));
        assert!(glob("exact", "exact"));
        assert!(!glob("exact", "exactly"));
        assert!(glob("**", "x"));
    }

    fn res(arn: &str, region: &str, tags: &[(&str, &str)]) -> Resource {
        Resource::new(arn, ResourceType::EbsVolume, region, "1").with_tags(tags)
    }

    fn spec(attrs: Value) -> SelectionSpec {
        SelectionSpec::from_attributes(&"selection.s".parse().unwrap(), &attrs).unwrap()
    }

    #[test]
    fn tags_or_arns_then_conditions_then_exclusions() {
        let s = spec(json!({
            "plan": "plan.p",
            "any_tag": {"App": ["web", "db"]},
            "resources": ["arn:x:special"],
            "not_resources": ["arn:x:excluded*"],
            "condition": {"string_equals": {"Env": "prod"}, "string_not_like": {"Name": "tmp-*"}},
        }));
        let regions = vec!["us-east-1".to_string()];
        assert!(s.selects(
            &res("arn:x:1", "us-east-1", &[("App", "web"), ("Env", "prod")]),
            &regions
        ));
        assert!(
            !s.selects(&res("arn:x:2", "us-east-1", &[("App", "web")]), &regions),
            "condition fails"
        );
        assert!(
            s.selects(
                &res("arn:x:special", "us-east-1", &[("Env", "prod")]),
                &regions
            ),
            "by ARN"
        );
        assert!(!s.selects(
            &res(
                "arn:x:excluded-1",
                "us-east-1",
                &[("App", "db"), ("Env", "prod")]
            ),
            &regions
        ));
        assert!(!s.selects(
            &res(
                "arn:x:3",
                "us-east-1",
                &[("App", "web"), ("Env", "prod"), ("Name", "tmp-a")]
            ),
            &regions
        ));
        assert!(
            !s.selects(
                &res("arn:x:4", "us-east-1", &[("App", "WEB"), ("Env", "prod")]),
                &regions
            ),
            "case-sensitive"
        );
        assert!(
            !s.selects(
                &res("arn:x:5", "eu-west-1", &[("App", "web"), ("Env", "prod")]),
                &regions
            ),
            "other region"
        );
        assert!(
            s.selects(
                &res("dir:/data", "local", &[("App", "web"), ("Env", "prod")]),
                &regions
            ),
            "directories are local"
        );
    }

    #[test]
    fn conditions_alone_start_from_everything() {
        let s = spec(json!({"plan": "plan.p", "condition": {"string_like": {"Env": "prod*"}}}));
        assert!(s.selects(&res("a", "r", &[("Env", "production")]), &[]));
        assert!(!s.selects(&res("b", "r", &[]), &[]));
    }
}
