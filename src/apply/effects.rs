//! Side effects of applying objects. [`LocalEffects`] is the no-cloud implementation: a
//! vault with `file://` storage gets its repository, initialised in restic's format with the
//! vault key; other objects exist only in coffer's own records. Destroying a vault deletes
//! its repository data only when its recorded configuration says `force_destroy = true`.

use crate::address::Kind;
use crate::objects::{attrs, DirectoryAttrs, ObjectSpec, VaultAttrs};
use crate::repository;
use crate::state::StateObject;
use crate::workspace;
use std::path::PathBuf;

/// What applying an object does outside coffer's records.
pub trait Effects {
    /// Creates the object; returns its identifier.
    fn create(&mut self, spec: &ObjectSpec) -> Result<String, String>;
    fn update(&mut self, spec: &ObjectSpec, old: &StateObject) -> Result<(), String>;
    fn delete(&mut self, old: &StateObject) -> Result<(), String>;
}

/// Effects on the local machine, relative to the configuration directory.
pub struct LocalEffects {
    pub config_dir: PathBuf,
    /// Vaults whose repository data was deleted (`force_destroy`), for the catalog to forget
    /// their points.
    pub purged: Vec<String>,
}

impl LocalEffects {
    /// Initialises the repository of every applied vault whose repository is missing (deleted
    /// outside coffer): only apply creates repositories, so this is how a vault gets one
    /// back. Returns the vaults and where their new, empty repositories are; the points the
    /// old ones held are gone.
    pub fn recreate_missing_repositories(
        &self,
        state: &crate::state::State,
    ) -> Result<Vec<(String, repository::Location)>, String> {
        let mut recreated = Vec::new();
        for object in state.objects.values().filter(|o| o.kind == Kind::Vault) {
            let vault = object.address.name();
            let Some(repo) =
                repository::vault_repository_from_env(vault, &object.attributes, &self.config_dir)?
            else {
                continue;
            };
            if repository::exists(&repo.location)? {
                continue;
            }
            self.prepare_vault(vault, &object.attributes)
                .map_err(|e| format!("{}: {e}", object.address))?;
            recreated.push((vault.to_string(), repo.location));
        }
        Ok(recreated)
    }

    fn prepare_vault(&self, vault: &str, attributes: &serde_json::Value) -> Result<(), String> {
        let Some(repo) =
            repository::vault_repository_from_env(vault, attributes, &self.config_dir)?
        else {
            return Ok(());
        };
        let password = match &repo.wrapped_by {
            // the key is coffer's own, kept wrapped with the vault's KMS key (re-wrapped when
            // the vault's key changed); an existing repository keeps the key it was made with
            Some(kms) => {
                let existing = || -> Result<Option<String>, String> {
                    if !repository::exists(&repo.location)? {
                        return Ok(None);
                    }
                    repo.password.clone().map(Some).map_err(|why| {
                        format!("it was made with a key that must now be wrapped with {kms}: {why}")
                    })
                };
                repository::kms_key::ensure(&repo.location, kms, existing)
                    .map_err(|e| format!("its repository at {}: {e}", repo.location))?
                    .0
            }
            None => repo
                .password
                .map_err(|why| format!("its repository at {} needs a key: {why}", repo.location))?,
        };
        // the cold repository, if any, is a second repository with the same key
        for location in std::iter::once(repo.location).chain(repo.cold) {
            if let repository::Location::File(dir) = &location {
                std::fs::create_dir_all(dir).map_err(|e| {
                    format!(
                        "cannot create the vault's storage directory {}: {e}",
                        dir.display()
                    )
                })?;
            }
            repository::init_or_open(&location, &password)?;
        }
        Ok(())
    }
}

impl Effects for LocalEffects {
    fn create(&mut self, spec: &ObjectSpec) -> Result<String, String> {
        match spec.kind {
            Kind::Vault => {
                self.prepare_vault(spec.address.name(), &spec.attributes)?;
                Ok(format!("vault-{}", uuid::Uuid::new_v4().simple()))
            }
            Kind::Directory => {
                let dir: DirectoryAttrs =
                    attrs::read(&spec.address, &spec.attributes).map_err(|e| e.to_string())?;
                let abs = workspace::normalize(&workspace::resolve(&self.config_dir, &dir.path));
                Ok(format!("dir:{}", abs.display()))
            }
            kind => Ok(format!(
                "{}-{}",
                kind.keyword(),
                uuid::Uuid::new_v4().simple()
            )),
        }
    }

    fn update(&mut self, spec: &ObjectSpec, _old: &StateObject) -> Result<(), String> {
        if spec.kind == Kind::Vault {
            self.prepare_vault(spec.address.name(), &spec.attributes)?;
        }
        Ok(())
    }

    fn delete(&mut self, old: &StateObject) -> Result<(), String> {
        if old.kind != Kind::Vault {
            return Ok(());
        }
        let vault: VaultAttrs =
            attrs::read(&old.address, &old.attributes).map_err(|e| e.to_string())?;
        let (true, Some(storage)) = (vault.force_destroy, vault.storage.as_deref()) else {
            return Ok(());
        };
        // apply has checked that no point is locked (the vault's recorded lock)
        let location = repository::parse_location(storage, &self.config_dir)?;
        repository::delete_repository(&location)?;
        self.purged.push(old.address.name().to_string());
        Ok(())
    }
}
