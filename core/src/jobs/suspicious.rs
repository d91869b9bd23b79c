//! Whether a finished backup looks wrong although it succeeded: a source that is suddenly
//! empty, or that shrank by more than a fraction compared with the resource's previous
//! recovery point (ransomware, a wiped disk, a mount that silently failed).

/// A warning for a backup of `current` bytes whose previous point held `previous` bytes, if
/// the source shrank by more than `fraction` (0.5: to less than half) or became empty.
pub fn shrink_warning(
    previous: Option<u64>,
    current: Option<u64>,
    fraction: f64,
) -> Option<String> {
    let (prev, now) = (previous?, current?);
    if prev == 0 {
        return None;
    }
    if now == 0 {
        return Some(format!(
            "suspicious: the source is empty, and held {prev} bytes at the previous recovery point"
        ));
    }
    let kept = now as f64 / prev as f64;
    (kept < 1.0 - fraction).then(|| {
        format!(
            "suspicious: the source shrank by {:.0}% since the previous recovery point ({prev} to {now} bytes)",
            (1.0 - kept) * 100.0
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_or_much_smaller_sources_are_suspicious() {
        assert_eq!(
            shrink_warning(None, Some(10), 0.5),
            None,
            "nothing to compare with"
        );
        assert_eq!(shrink_warning(Some(1000), Some(900), 0.5), None);
        assert_eq!(
            shrink_warning(Some(1000), Some(500), 0.5),
            None,
            "exactly half is allowed"
        );
        assert_eq!(
            shrink_warning(Some(1000), Some(400), 0.5).unwrap(),
            "suspicious: the source shrank by 60% since the previous recovery point (1000 to 400 bytes)"
        );
        assert!(shrink_warning(Some(1000), Some(0), 0.9)
            .unwrap()
            .contains("the source is empty"));
        assert_eq!(
            shrink_warning(Some(0), Some(0), 0.5),
            None,
            "it was empty before too"
        );
        assert_eq!(
            shrink_warning(Some(1000), Some(1), 1.0),
            None,
            "1.0 turns the check off but for empty sources"
        );
    }
}
