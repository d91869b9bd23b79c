//! What a failed write to a disk means for the user: the disk is full, the filesystem is
//! read-only, or coffer's user may not write there, told in words with what to do.

use std::io;

/// Why writing under `place` failed, for an I/O error's kind; `None` when the error is not
/// one of these.
pub fn hint(e: &io::Error, place: &str) -> Option<String> {
    hint_for(e.kind(), place)
}

/// [`hint`] for an error known only by its text (wrapped by rustic_core or SQLite), which
/// carries the OS error's number: `(os error 28)`.
pub fn hint_in(text: &str, place: &str) -> Option<String> {
    let kind = if text.contains("(os error 28)") || text.contains("database or disk is full") {
        io::ErrorKind::StorageFull
    } else if text.contains("(os error 30)") {
        io::ErrorKind::ReadOnlyFilesystem
    } else if text.contains("(os error 13)") {
        io::ErrorKind::PermissionDenied
    } else {
        return None;
    };
    hint_for(kind, place)
}

fn hint_for(kind: io::ErrorKind, place: &str) -> Option<String> {
    Some(match kind {
        io::ErrorKind::StorageFull => {
            format!("the disk holding {place} is full: free space on it, then run again")
        }
        io::ErrorKind::ReadOnlyFilesystem => format!(
            "{place} is on a read-only filesystem: remount it read-write, then run again"
        ),
        io::ErrorKind::PermissionDenied => format!(
            "coffer's user may not write to {place}: check the owner and mode of it and of its directory"
        ),
        _ => return None,
    })
}

/// `text`, followed by [`hint_in`]'s hint on a line of its own when there is one.
pub fn explained(text: String, place: &str) -> String {
    match hint_in(&text, place) {
        Some(h) => format!("{}\n  {h}", text.trim_end()),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_read_only_and_forbidden_disks_are_told_apart_by_kind_and_by_text() {
        let full = io::Error::from_raw_os_error(libc::ENOSPC);
        assert!(hint(&full, "the state").unwrap().contains("is full"));
        let ro = io::Error::from_raw_os_error(libc::EROFS);
        assert!(hint(&ro, "the state").unwrap().contains("read-only"));
        assert!(hint_in("Caused by: Permission denied (os error 13)", "x")
            .unwrap()
            .contains("may not write"));
        assert!(hint_in("database or disk is full", "the catalog")
            .unwrap()
            .contains("catalog is full"));
        assert_eq!(hint_in("connection refused", "x"), None);
        assert_eq!(explained("boom".into(), "x"), "boom");
    }
}
