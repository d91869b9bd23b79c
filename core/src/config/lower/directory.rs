//! `directory` and `efs_mount` blocks: local directories, and where EFS file systems are
//! mounted.

use super::*;

impl<'s> Lowerer<'s> {
    /// `efs_mount "name" { file_system_id = "fs-…", mount_path = "/mnt/efs" }`: where an EFS
    /// file system is mounted on this machine, for file-level backup.
    pub(super) fn lower_efs_mount(&mut self, d: &Decl<'_>) -> Option<EfsMount> {
        let view = d.view("efs_mount");
        self.check_body(&view, &["file_system_id", "mount_path"], &[]);
        let id = self.required_string(
            &view,
            "file_system_id",
            "file_system_id = \"fs-0123456789abcdef0\"",
        );
        if let Some((id, span)) = &id {
            let ok = id
                .strip_prefix("fs-")
                .is_some_and(|h| h.len() >= 8 && h.chars().all(|c| c.is_ascii_hexdigit()));
            if !ok {
                self.push(
                    Diagnostic::error(
                        "coffer::invalid_value",
                        format!("`{id}` is not an EFS file system ID"),
                    )
                    .at(span.clone(), "not fs-…")
                    .with_help("EFS file system IDs look like fs-0123456789abcdef0"),
                );
            }
        }
        let path = self.required_string(&view, "mount_path", "mount_path = \"/mnt/efs\"");
        Some(EfsMount {
            name: d.name.clone(),
            file_system_id: id?.0,
            mount_path: path?.0,
            span: d.name_span.clone(),
        })
    }

    pub(super) fn lower_directory(&mut self, d: &Decl<'_>) -> Option<Directory> {
        let view = d.view("directory");
        self.check_body(&view, &["path", "tags"], &[]);
        let path = self.required_string(&view, "path", "path = \"./data\"");
        if let Some((p, span)) = &path {
            if p.trim().is_empty() {
                self.push(
                    Diagnostic::error("coffer::invalid_value", "directory path must not be empty")
                        .at(span.clone(), "empty"),
                );
            }
        }
        let tags = self.string_map(&view, "tags");
        Some(Directory {
            name: d.name.clone(),
            path: path?.0,
            tags,
            span: d.name_span.clone(),
        })
    }
}
