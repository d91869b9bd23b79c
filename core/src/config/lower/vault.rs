//! `vault` blocks: where their native points live (`region`, `provider`), their `lock`, and
//! their repository's `prune` and `cold_storage` settings.

use super::*;

impl<'s> Lowerer<'s> {
    pub(super) fn lower_vault(&mut self, d: &Decl<'_>, providers: &[Provider]) -> Option<Vault> {
        let view = d.view("vault");
        self.check_body(
            &view,
            &[
                "storage",
                "kms_key_arn",
                "force_destroy",
                "password_env",
                "password_file",
                "tags",
                "region",
                "provider",
            ],
            &["lock", "prune", "cold_storage"],
        );
        let region = self.region(&view);
        let provider = self.provider_reference(&view, providers);
        let storage = self.string(&view, "storage");
        if let Some((s, span)) = &storage {
            if !is_storage_url(s) {
                let span = span.clone();
                self.push(
                    Diagnostic::error("coffer::invalid_storage", format!("unsupported storage location `{s}`"))
                        .at(span, "not a storage URL")
                        .with_help("use `file://PATH` (relative paths are relative to the configuration) or `s3://BUCKET/PREFIX`"),
                );
            }
        }
        let kms = self.string(&view, "kms_key_arn");
        if let Some((k, span)) = &kms {
            if !is_kms_arn(k) {
                let span = span.clone();
                self.push(
                    Diagnostic::error("coffer::invalid_arn", format!("`{k}` is not a KMS key ARN"))
                        .at(span, "not a KMS key ARN")
                        .with_help(
                            "expected arn:aws:kms:REGION:ACCOUNT:key/KEY-ID (or alias/NAME)",
                        ),
                );
            }
        }
        let force_destroy = self.bool(&view, "force_destroy").unwrap_or(false);
        let password_env = self.string(&view, "password_env");
        let password_file = self.string(&view, "password_file");
        if let (Some(_), Some((_, span))) = (&password_env, &password_file) {
            let span = span.clone();
            self.push(
                Diagnostic::error(
                    "coffer::conflicting_key_settings",
                    "a vault takes its key from `password_env` or from `password_file`, not both",
                )
                .at(span, "second key setting")
                .with_help("keep one of them"),
            );
        }
        if storage.is_none() {
            if let Some((_, span)) = password_env.as_ref().or(password_file.as_ref()) {
                let span = span.clone();
                self.push(
                    Diagnostic::error(
                        "coffer::key_without_storage",
                        "only a vault with `storage` has a repository key",
                    )
                    .at(span, "no repository to open with it")
                    .with_help("add `storage = \"file://…\"` or remove this setting"),
                );
            }
        }
        let tags = self.string_map(&view, "tags");
        let lock = self
            .single_block(&view, "lock")
            .and_then(|b| self.lower_lock(d.file, b));
        let prune = self.single_block(&view, "prune").and_then(|b| {
            let pview = View {
                file: d.file,
                body: &b.body,
                what: "prune block".into(),
                header: header_span(d.file, b),
            };
            if storage.is_none() {
                self.push(
                    Diagnostic::error(
                        "coffer::prune_without_storage",
                        "only a vault with `storage` has a repository to prune",
                    )
                    .at(pview.header.clone(), "nothing to prune")
                    .with_help("add `storage = \"file://…\"` or remove the prune block"),
                );
            }
            self.lower_prune(&pview)
        });
        let cold_storage = self
            .single_block(&view, "cold_storage")
            .and_then(|b| self.lower_cold_storage(d.file, b, storage.is_some()));
        Some(Vault {
            name: d.name.clone(),
            region_span: region.as_ref().map(|(_, s)| s.clone()),
            region: region.map(|(r, _)| r),
            provider: provider.and_then(|(a, _)| a),
            storage: storage.map(|(s, _)| s),
            kms_key_arn: kms.map(|(s, _)| s),
            lock,
            force_destroy,
            password_env: password_env.map(|(s, _)| s),
            password_file: password_file.map(|(s, _)| s),
            prune,
            cold_storage,
            tags,
            span: d.name_span.clone(),
        })
    }

    /// `cold_storage { storage = "file://PATH" | "s3://BUCKET/PREFIX", storage_class }`: the
    /// repository file-level points move to at their `cold_at`; in S3 its data packs are
    /// written with `storage_class`, one that can be read at once.
    fn lower_cold_storage(
        &mut self,
        file: FileId,
        b: &Block,
        has_storage: bool,
    ) -> Option<ColdStorage> {
        const CLASSES: [&str; 3] = ["STANDARD_IA", "ONEZONE_IA", "GLACIER_IR"];
        let view = View {
            file,
            body: &b.body,
            what: "cold_storage block".into(),
            header: header_span(file, b),
        };
        self.check_body(&view, &["storage", "storage_class"], &[]);
        if !has_storage {
            self.push(
                Diagnostic::error(
                    "coffer::cold_storage_without_storage",
                    "only a vault with `storage` holds file-level points that can go to cold storage",
                )
                .at(view.header.clone(), "nothing to move")
                .with_help("add `storage = \"file://…\"` to the vault or remove the cold_storage block"),
            );
        }
        let (storage, span) =
            self.required_string(&view, "storage", "storage = \"file://./vaults/cold\"")?;
        if !is_storage_url(&storage) {
            self.push(
                Diagnostic::error("coffer::invalid_storage", format!("unsupported storage location `{storage}`"))
                    .at(span, "not a storage URL")
                    .with_help("use `file://PATH` (relative paths are relative to the configuration) or `s3://BUCKET/PREFIX`"),
            );
            return None;
        }
        let class = self.string(&view, "storage_class");
        let s3 = storage.starts_with("s3://");
        match (&class, s3) {
            (Some((c, cspan)), true) if !CLASSES.contains(&c.as_str()) => {
                self.push(
                    Diagnostic::error(
                        "coffer::invalid_value",
                        format!("`{c}` is not a storage class coffer can restore from at once"),
                    )
                    .at(cspan.clone(), "not STANDARD_IA, ONEZONE_IA or GLACIER_IR")
                    .with_help("cold points must restore without a thaw: use STANDARD_IA, ONEZONE_IA or GLACIER_IR"),
                );
                return None;
            }
            (None, true) => {
                self.push(
                    Diagnostic::error(
                        "coffer::missing_attribute",
                        "a cold repository in S3 needs `storage_class`",
                    )
                    .at(view.header.clone(), "needs storage_class")
                    .with_help("add `storage_class = \"GLACIER_IR\"` (or STANDARD_IA, ONEZONE_IA): the class of its data packs"),
                );
                return None;
            }
            (Some((_, cspan)), false) => {
                self.push(
                    Diagnostic::error(
                        "coffer::invalid_value",
                        "storage_class applies to cold repositories in S3",
                    )
                    .at(cspan.clone(), "a file:// repository has no storage class")
                    .with_help("remove storage_class, or use an s3:// location"),
                );
                return None;
            }
            _ => {}
        }
        Some(ColdStorage {
            storage,
            storage_class: class.map(|(c, _)| c),
        })
    }

    /// `prune { max_unused = "5%" }`: the share of unused data a repository may hold before
    /// coffer prunes it (restic's `--max-unused`).
    fn lower_prune(&mut self, view: &View<'_>) -> Option<Prune> {
        self.check_body(view, &["max_unused"], &[]);
        let Some((text, span)) = self.string(view, "max_unused") else {
            return Some(Prune::default());
        };
        let percent = text
            .strip_suffix('%')
            .and_then(|n| n.trim().parse::<u8>().ok())
            .filter(|n| *n <= 100);
        match percent {
            Some(max_unused_percent) => Some(Prune { max_unused_percent }),
            None => {
                self.push(
                    Diagnostic::error(
                        "coffer::invalid_value",
                        format!("`{text}` for `max_unused` is not a percentage"),
                    )
                    .at(span, "not N%")
                    .with_help("write a whole percentage from 0% to 100%, e.g. `max_unused = \"5%\"` (restic's default)"),
                );
                None
            }
        }
    }

    pub(super) fn lower_lock(&mut self, file: FileId, b: &Block) -> Option<VaultLock> {
        let view = View {
            file,
            body: &b.body,
            what: "lock block".into(),
            header: header_span(file, b),
        };
        self.check_body(
            &view,
            &["mode", "min_retention", "max_retention", "changeable_for"],
            &[],
        );
        let mode = match self.required_string(&view, "mode", "mode = \"governance\"") {
            Some((m, _)) if m == "governance" => Some(LockMode::Governance),
            Some((m, _)) if m == "compliance" => Some(LockMode::Compliance),
            Some((m, span)) => {
                let mut d = Diagnostic::error(
                    "coffer::invalid_value",
                    format!("lock mode must be \"governance\" or \"compliance\", not `{m}`"),
                )
                .at(span, "unknown mode");
                d = d.with_help(match did_you_mean(&m, ["governance", "compliance"]) {
                    Some(s) => format!("did you mean \"{s}\"?"),
                    None => "governance: users with special permissions can change the lock; compliance: nobody can, once changeable_for has passed".into(),
                });
                self.push(d);
                None
            }
            None => None,
        };
        let min = self.duration(&view, "min_retention");
        let max = self.duration(&view, "max_retention");
        let changeable = self.duration(&view, "changeable_for");
        if let (Some((min_d, _)), Some((max_d, max_span))) = (&min, &max) {
            if max_d < min_d {
                let related = min.as_ref().map(|(_, s)| s.clone());
                let mut d = Diagnostic::error(
                    "coffer::invalid_lock",
                    format!("max_retention ({max_d}) is shorter than min_retention ({min_d})"),
                )
                .at(max_span.clone(), "shorter than the minimum")
                .with_help("max_retention must be at least min_retention");
                if let Some(r) = related {
                    d = d.with_related(r, "minimum set here");
                }
                self.push(d);
            }
        }
        if let Some((min_d, span)) = &min {
            if min_d.minutes() < 24 * 60 {
                self.push(
                    Diagnostic::error(
                        "coffer::invalid_lock",
                        format!("min_retention must be at least 1 day, not {min_d}"),
                    )
                    .at(span.clone(), "too short")
                    .with_help("AWS Backup Vault Lock counts retention in whole days, from 1 day"),
                );
            }
        }
        if let Some((max_d, span)) = &max {
            if max_d.days() > 36500 {
                self.push(
                    Diagnostic::error(
                        "coffer::invalid_lock",
                        format!(
                            "max_retention must be at most 100 years (36500 days), not {max_d}"
                        ),
                    )
                    .at(span.clone(), "too long"),
                );
            }
        }
        match (mode, &changeable) {
            (Some(LockMode::Governance), Some((_, span))) => self.push(
                Diagnostic::error("coffer::invalid_lock", "changeable_for applies only to compliance mode")
                    .at(span.clone(), "not used in governance mode")
                    .with_help("remove changeable_for, or set mode = \"compliance\""),
            ),
            (Some(LockMode::Compliance), Some((c, span))) if c.minutes() < 3 * 24 * 60 => self.push(
                Diagnostic::error("coffer::invalid_lock", format!("changeable_for must be at least 3 days, not {c}"))
                    .at(span.clone(), "too short")
                    .with_help("a compliance lock's grace period lasts 3 days or more, after which nobody can change or delete it"),
            ),
            (Some(LockMode::Compliance), None) => self.push(
                Diagnostic::error("coffer::missing_attribute", "a compliance lock needs `changeable_for`")
                    .at(view.header.clone(), "needs changeable_for")
                    .with_help("add `changeable_for = \"3d\"`: the grace period during which the lock can still be changed or removed"),
            ),
            _ => {}
        }
        Some(VaultLock {
            mode: mode?,
            min_retention: min.map(|(d, _)| d),
            max_retention: max.map(|(d, _)| d),
            changeable_for: changeable.map(|(d, _)| d),
            span: view.header.clone(),
        })
    }
}
