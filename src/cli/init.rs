//! `coffer init`: a commented starter configuration in a directory without one; and
//! `coffer init -migrate-state`: the local state and catalog copied into the backend the
//! configuration names.

use super::context::{CmdError, Ctx};
use super::fmt::display_name;
use super::Exit;
use crate::workspace;

pub fn init(ctx: &Ctx) -> Result<Exit, CmdError> {
    let existing = workspace::config_files(&ctx.dir).map_err(|e| e.to_string())?;
    if !existing.is_empty() {
        let names: Vec<String> = existing.iter().map(|p| display_name(ctx, p)).collect();
        return Err(format!(
            "{} already holds a configuration ({}); coffer init only writes into a directory without *.hcl files",
            ctx.dir.display(),
            names.join(", ")
        ));
    }
    let path = ctx.dir.join("main.hcl");
    std::fs::write(&path, super::starter::STARTER)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let data = ctx.dir.join("data");
    if !data.exists() {
        std::fs::create_dir_all(&data)
            .map_err(|e| format!("cannot create {}: {e}", data.display()))?;
    }
    println!(
        "Wrote {}.\n\nNext:\n  coffer validate\n  coffer plan\n  coffer apply",
        path.display()
    );
    Ok(Exit::Success)
}

pub fn migrate_state(ctx: &Ctx) -> Result<Exit, CmdError> {
    use crate::catalog::SqliteCatalog;
    use crate::state::backend::Backend;
    use crate::state::local::LocalBackend;
    let (config, _) = ctx.load(&super::args::VarArgs::default())?;
    let target = ctx.backend(Some(&config))?;
    let Backend::Postgres { target: pg, .. } = &target else {
        return Err("the configuration names the local backend: `init -migrate-state` copies the local state and catalog into another backend; add `coffer { backend \"postgres\" { … } }` first".into());
    };
    let local = LocalBackend::new(workspace::normalize(&ctx.dir.join(".coffer")));
    let wait = std::time::Duration::from_secs(10);
    let op = "init -migrate-state";
    let _source_lock = local.lock(op, wait, |_| {}).map_err(|e| e.to_string())?;
    let lock = target.lock(op, wait, |_| {}).map_err(|e| e.to_string())?;
    if target.read().map_err(|e| e.to_string())?.is_some() {
        return Err(format!(
            "{} already holds state; `init -migrate-state` copies only into an empty backend (see `coffer state history`)",
            target.describe()
        ));
    }
    let mut catalog = target
        .pg_catalog()
        .ok_or("not a PostgreSQL backend")?
        .map_err(|e| e.to_string())?;
    if !catalog.is_empty().map_err(|e| e.to_string())? {
        return Err(format!(
            "{} holds a catalog but no state: an earlier `init -migrate-state` stopped half-way. Drop schema {}'s tables (DROP SCHEMA {} CASCADE) and run it again",
            target.describe(),
            pg.schema,
            pg.schema
        ));
    }
    let Some(loaded) = local.read().map_err(|e| e.to_string())? else {
        return Err(format!(
            "no local state in {} to copy: nothing has been applied here",
            local.dir().display()
        ));
    };
    let dump = SqliteCatalog::open_read_only(&local.dir().join("catalog.db"))
        .and_then(|c| c.dump())
        .map_err(|e| e.to_string())?;
    let (points, jobs) = (dump.points.len(), dump.jobs.len());
    catalog.import(dump).map_err(|e| e.to_string())?;
    // the state last: a backend that holds state is one the copy is complete in
    target
        .write(&lock, &loaded.state)
        .map_err(|e| e.to_string())?;
    println!(
        "Copied the state (serial {}, {} objects) and the catalog ({points} recovery points, {jobs} jobs) from {} into {}.\n{} is left as it was; remove it once coffer works from the new backend.",
        loaded.state.serial,
        loaded.state.objects.len(),
        local.dir().display(),
        target.describe(),
        local.dir().display()
    );
    Ok(Exit::Success)
}
