//! The state data model: format version, serial, lineage and every applied object; parsing
//! with clear errors for corrupt or newer files; and replay of apply journal entries.

use crate::address::{Address, Kind};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

/// The state format this coffer writes and the newest it reads.
pub const STATE_FORMAT_VERSION: u32 = 1;

/// One applied object as recorded after apply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateObject {
    pub address: Address,
    pub kind: Kind,
    /// Identifier assigned when the object was created.
    pub id: String,
    pub attributes: serde_json::Value,
    #[serde(default)]
    pub depends_on: Vec<Address>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// For a vault with a lock: when its lock, as recorded, was applied (a compliance lock's
    /// `changeable_for` counts from then). Absent for other objects; for a vault recorded
    /// before coffer kept it, its creation time is taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_applied_at: Option<DateTime<Utc>>,
}

/// Everything coffer has applied, as of `serial`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub format_version: u32,
    /// Increases by one with every write.
    pub serial: u64,
    /// Identifies one line of history; never changes once the state exists.
    pub lineage: String,
    pub coffer_version: String,
    #[serde(
        serialize_with = "objects_as_list",
        deserialize_with = "objects_from_list"
    )]
    pub objects: BTreeMap<Address, StateObject>,
    /// What protected each resource at the last apply (resource ARN -> selections).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub coverage: crate::coverage::Coverage,
    /// The inventory that coverage was computed from, for drift details and `--refresh=false`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<crate::inventory::Inventory>,
}

fn objects_as_list<S: Serializer>(
    m: &BTreeMap<Address, StateObject>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(m.values())
}

fn objects_from_list<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<Address, StateObject>, D::Error> {
    let list = Vec::<StateObject>::deserialize(d)?;
    let mut m = BTreeMap::new();
    for o in list {
        if m.contains_key(&o.address) {
            return Err(serde::de::Error::custom(format!(
                "object {} appears twice",
                o.address
            )));
        }
        m.insert(o.address.clone(), o);
    }
    Ok(m)
}

/// Why a state text cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    #[error("the state is corrupt: {0}")]
    Corrupt(String),
    #[error("the state was written by a newer coffer (state format {found}; this coffer {version} reads up to format {supported})")]
    NewerFormat {
        found: u64,
        supported: u32,
        version: &'static str,
    },
}

impl State {
    /// An empty state with a new lineage (serial 0 means "never written").
    pub fn new(lineage: impl Into<String>) -> State {
        State {
            format_version: STATE_FORMAT_VERSION,
            serial: 0,
            lineage: lineage.into(),
            coffer_version: crate::VERSION.to_string(),
            objects: BTreeMap::new(),
            coverage: BTreeMap::new(),
            inventory: None,
        }
    }

    /// Parses a state file's text; never guesses at a damaged or newer file.
    pub fn parse(text: &str) -> Result<State, StateError> {
        let raw: serde_json::Value =
            serde_json::from_str(text).map_err(|e| StateError::Corrupt(e.to_string()))?;
        let version = raw
            .get("format_version")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| {
                StateError::Corrupt("`format_version` is missing or not a number".into())
            })?;
        if version > u64::from(STATE_FORMAT_VERSION) {
            return Err(StateError::NewerFormat {
                found: version,
                supported: STATE_FORMAT_VERSION,
                version: crate::VERSION,
            });
        }
        let state: State =
            serde_json::from_value(raw).map_err(|e| StateError::Corrupt(e.to_string()))?;
        if state.lineage.is_empty() {
            return Err(StateError::Corrupt("`lineage` is empty".into()));
        }
        for (addr, o) in &state.objects {
            if addr.kind() != o.kind {
                return Err(StateError::Corrupt(format!(
                    "object {addr} has kind {:?}",
                    o.kind
                )));
            }
        }
        Ok(state)
    }

    /// The canonical JSON text (pretty, newline-terminated).
    pub fn to_text(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    pub fn get(&self, address: &Address) -> Option<&StateObject> {
        self.objects.get(address)
    }

    /// Applies one journal entry.
    pub fn apply_entry(&mut self, entry: &JournalEntry) {
        match entry {
            JournalEntry::Begin { .. } => {}
            JournalEntry::Put { object } => {
                self.objects.insert(object.address.clone(), object.clone());
            }
            JournalEntry::Remove { address } => {
                self.objects.remove(address);
            }
        }
    }
}

/// One line of the apply journal. A journal starts with `Begin`, naming the state it
/// extends; each completed step then appends `Put` or `Remove`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum JournalEntry {
    Begin {
        lineage: String,
        base_serial: u64,
        started_at: DateTime<Utc>,
    },
    Put {
        object: StateObject,
    },
    Remove {
        address: Address,
    },
}

/// Why a journal cannot be replayed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JournalError {
    #[error("the apply journal is corrupt at line {line}: {reason}")]
    Corrupt { line: usize, reason: String },
    #[error("the apply journal belongs to another state (lineage {found}, serial {found_serial}; state has lineage {expected}, serial {expected_serial})")]
    Mismatch {
        found: String,
        found_serial: u64,
        expected: String,
        expected_serial: u64,
    },
}

/// Replays a journal's text onto `state`. A torn last line (a crash mid-write) is ignored;
/// damage anywhere else is an error. Returns the number of entries applied.
pub fn replay(state: &mut State, text: &str) -> Result<usize, JournalError> {
    let lines: Vec<&str> = text.split('\n').collect();
    let last_nonempty = lines.iter().rposition(|l| !l.trim().is_empty());
    let mut applied = 0;
    let mut begun = false;
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let entry: JournalEntry = match serde_json::from_str(line) {
            Ok(e) => e,
            // the final line may be half-written if the process died while appending it
            Err(_) if Some(i) == last_nonempty && !text.ends_with('\n') => break,
            Err(e) => {
                return Err(JournalError::Corrupt {
                    line: i + 1,
                    reason: e.to_string(),
                })
            }
        };
        match (&entry, begun) {
            (
                JournalEntry::Begin {
                    lineage,
                    base_serial,
                    ..
                },
                false,
            ) => {
                if *lineage != state.lineage || *base_serial != state.serial {
                    return Err(JournalError::Mismatch {
                        found: lineage.clone(),
                        found_serial: *base_serial,
                        expected: state.lineage.clone(),
                        expected_serial: state.serial,
                    });
                }
                begun = true;
            }
            (JournalEntry::Begin { .. }, true) => {
                return Err(JournalError::Corrupt {
                    line: i + 1,
                    reason: "a second `begin` entry".into(),
                })
            }
            (_, false) => {
                return Err(JournalError::Corrupt {
                    line: i + 1,
                    reason: "entries before `begin`".into(),
                })
            }
            (e, true) => {
                state.apply_entry(e);
                applied += 1;
            }
        }
    }
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(addr: &str) -> StateObject {
        let address: Address = addr.parse().unwrap();
        StateObject {
            kind: address.kind(),
            address,
            id: "id-1".into(),
            attributes: serde_json::json!({"tags": {}}),
            depends_on: vec![],
            created_at: DateTime::UNIX_EPOCH,
            updated_at: DateTime::UNIX_EPOCH,
            lock_applied_at: None,
        }
    }

    fn line(e: &JournalEntry) -> String {
        serde_json::to_string(e).unwrap() + "\n"
    }

    #[test]
    fn state_round_trips() {
        let mut s = State::new("abc");
        s.serial = 3;
        s.objects.insert("vault.x".parse().unwrap(), obj("vault.x"));
        assert_eq!(State::parse(&s.to_text()).unwrap(), s);
    }

    #[test]
    fn corrupt_and_newer_states_are_refused() {
        assert!(matches!(
            State::parse("{not json"),
            Err(StateError::Corrupt(_))
        ));
        assert!(matches!(State::parse("{}"), Err(StateError::Corrupt(_))));
        let newer = r#"{"format_version": 99, "serial": 1, "lineage": "x", "objects": []}"#;
        assert!(matches!(
            State::parse(newer),
            Err(StateError::NewerFormat { found: 99, .. })
        ));
        let mut s = State::new("abc");
        s.objects.insert("vault.x".parse().unwrap(), obj("vault.x"));
        let dup = s.to_text().replace("\"objects\": [", "\"objects\": [ {\"address\": \"vault.x\", \"kind\": \"vault\", \"id\": \"i\", \"attributes\": {}, \"created_at\": \"2020-01-01T00:00:00Z\", \"updated_at\": \"2020-01-01T00:00:00Z\"},");
        assert!(matches!(State::parse(&dup), Err(StateError::Corrupt(m)) if m.contains("twice")));
    }

    #[test]
    fn journal_replays_and_tolerates_a_torn_tail() {
        let mut s = State::new("L");
        s.serial = 2;
        let mut text = line(&JournalEntry::Begin {
            lineage: "L".into(),
            base_serial: 2,
            started_at: DateTime::UNIX_EPOCH,
        });
        text += &line(&JournalEntry::Put {
            object: obj("vault.a"),
        });
        text += &line(&JournalEntry::Put {
            object: obj("vault.b"),
        });
        text += &line(&JournalEntry::Remove {
            address: "vault.a".parse().unwrap(),
        });
        text += "{\"op\": \"put\", \"obj";
        assert_eq!(replay(&mut s, &text).unwrap(), 3);
        let keys: Vec<String> = s.objects.keys().map(ToString::to_string).collect();
        assert_eq!(keys, ["vault.b"]);
    }

    #[test]
    fn journal_damage_in_the_middle_is_an_error() {
        let mut s = State::new("L");
        let mut text = line(&JournalEntry::Begin {
            lineage: "L".into(),
            base_serial: 0,
            started_at: DateTime::UNIX_EPOCH,
        });
        text += "garbage\n";
        text += &line(&JournalEntry::Put {
            object: obj("vault.a"),
        });
        assert!(matches!(
            replay(&mut s, &text),
            Err(JournalError::Corrupt { line: 2, .. })
        ));
    }

    #[test]
    fn journal_for_another_state_is_refused() {
        let mut s = State::new("L");
        let text = line(&JournalEntry::Begin {
            lineage: "OTHER".into(),
            base_serial: 0,
            started_at: DateTime::UNIX_EPOCH,
        });
        assert!(matches!(
            replay(&mut s, &text),
            Err(JournalError::Mismatch { .. })
        ));
    }
}
