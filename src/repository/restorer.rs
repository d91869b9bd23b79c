//! Restores a snapshot's tree into a local directory, pack by pack: each needed range of a
//! pack is read once, each blob in it decrypted, decompressed and checked against its SHA-256
//! id before its bytes reach a file, and each file, once its last blob is written, is read
//! back blob by blob and given its metadata while it is still open.
//!
//! rustic_core's own restorer spawns a task per blob and file on twenty threads, opens a file
//! for every write and holds every decoded blob that waits for a thread, which on this
//! 2-core machine made a restore of 100,000 small files use 1.1 GiB and lose to `restic
//! restore`; this one runs a reader per core (more against S3, where reads wait on the
//! network), touches each small file once, and holds one pack range per reader.

use super::crypto::{cipher, decrypt_into};
use aes256ctr_poly1305aes::Aes256CtrPoly1305Aes;
use rustic_core::repofile::{FileType, Metadata, Node, NodeType, PackId};
use rustic_core::{DataId, Id, IndexedFull, ReadBackend, Repository};
use sha2::Digest;
use std::collections::HashMap;
use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Blobs of one pack closer together than this are read in one request, gap included.
const MAX_GAP: u32 = 1 << 20;
/// No single read is longer than this (unless one blob is), so that a reader's memory stays
/// bounded however big the repository's packs are.
const MAX_SPAN: u32 = 64 << 20;

/// What a restore wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Written {
    pub files: u64,
    pub dirs: u64,
    pub bytes: u64,
    /// Files read back after writing and found identical to the snapshot.
    pub verified: u64,
}

/// Where the tree goes: `root` is the directory a directory node's contents go into, or the
/// path a single file node becomes.
pub(super) struct Destination<'a> {
    pub root: &'a Path,
    /// Whether what is already there may be replaced.
    pub overwrite: bool,
}

/// A regular file with content, written by the readers.
struct FileTodo {
    path: PathBuf,
    meta: Metadata,
    /// The file's blobs in order, with their plain lengths.
    blobs: Vec<(DataId, u32)>,
    /// Blob writes still to come; the reader that makes the last one finishes the file.
    left: AtomicUsize,
}

/// A blob to read from a pack, and where its bytes go: (file, offset in that file).
struct BlobTodo {
    id: DataId,
    offset: u32,
    length: u32,
    uncompressed: Option<u32>,
    targets: Vec<(usize, u64)>,
}

struct PackTodo {
    id: PackId,
    /// Sorted by offset.
    blobs: Vec<BlobTodo>,
}

/// Everything but file contents, in the snapshot's order, for metadata once contents are in.
enum Later {
    /// A directory, a symlink or a special file, given metadata by path.
    ByPath(PathBuf, Box<Node>),
    /// A further name of a hard-linked file: (the path restored first, this path).
    HardLink(PathBuf, PathBuf),
}

/// The restore, worked out from the tree before any content is read.
struct Plan {
    files: Vec<FileTodo>,
    packs: Vec<PackTodo>,
    later: Vec<Later>,
    written: Written,
}

/// Restores `nodes` (what `Repository::ls` streams for `top`, paths relative to it) into
/// `dest`, reading packs from `backend` with `readers` threads.
pub(super) fn restore<S: IndexedFull>(
    repo: &Repository<S>,
    backend: &dyn ReadBackend,
    top: &Node,
    nodes: impl Iterator<Item = Result<(PathBuf, Node), String>>,
    dest: &Destination<'_>,
    readers: usize,
) -> Result<Written, String> {
    let cipher = cipher(&repo.key())?;
    let ownership = unsafe { libc::geteuid() } == 0;
    let mut plan = plan(repo, top, nodes, dest, ownership)?;
    let work = Readers {
        backend,
        cipher: &cipher,
        files: &plan.files,
        packs: &plan.packs,
        next: AtomicUsize::new(0),
        failed: AtomicBool::new(false),
        first_error: Mutex::new(None),
        ownership,
    };
    std::thread::scope(|s| {
        for _ in 0..readers.max(1) {
            s.spawn(|| {
                if let Err(e) = work.run() {
                    work.failed.store(true, Ordering::Relaxed);
                    work.first_error.lock().unwrap().get_or_insert(e);
                }
            });
        }
    });
    if let Some(e) = work.first_error.into_inner().unwrap() {
        return Err(e);
    }
    plan.written.verified += plan.files.len() as u64;
    // children before their directories, so that creating them does not change a
    // directory's times after they were set, and a read-only directory is made so last
    for item in plan.later.iter().rev() {
        match item {
            Later::HardLink(first, path) => {
                if dest.overwrite {
                    make_room(path, Room::Other)?;
                }
                std::fs::hard_link(first, path).map_err(|e| {
                    format!("cannot link {} to {}: {e}", path.display(), first.display())
                })?;
                plan.written.verified += 1;
            }
            Later::ByPath(path, node) => set_metadata_at(path, node, ownership)?,
        }
    }
    Ok(plan.written)
}

/// Walks the tree once: makes its directories, symlinks, special and empty files, and
/// gathers the blobs every other file needs, pack by pack.
fn plan<S: IndexedFull>(
    repo: &Repository<S>,
    top: &Node,
    nodes: impl Iterator<Item = Result<(PathBuf, Node), String>>,
    dest: &Destination<'_>,
    ownership: bool,
) -> Result<Plan, String> {
    let mut plan = Plan {
        files: Vec::new(),
        packs: Vec::new(),
        later: Vec::new(),
        written: Written::default(),
    };
    let mut packs: HashMap<PackId, HashMap<u32, BlobTodo>> = HashMap::new();
    let mut first_names: HashMap<(u64, u64), PathBuf> = HashMap::new();
    if top.is_dir() {
        std::fs::create_dir_all(dest.root)
            .map_err(|e| format!("cannot create {}: {e}", dest.root.display()))?;
    } else if let Some(parent) = dest.root.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    for item in nodes {
        let (rel, node) = item?;
        let path = if top.is_dir() {
            dest.root.join(&rel)
        } else {
            dest.root.to_path_buf()
        };
        if dest.overwrite {
            let room = match node.node_type {
                NodeType::Dir => Room::Dir,
                NodeType::File => Room::File,
                _ => Room::Other,
            };
            make_room(&path, room)?;
        }
        match &node.node_type {
            NodeType::Dir => {
                if !path.is_dir() {
                    std::fs::create_dir(&path)
                        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
                }
                plan.written.dirs += 1;
                plan.later.push(Later::ByPath(path, Box::new(node)));
            }
            NodeType::File => {
                plan.written.files += 1;
                let meta = &node.meta;
                if meta.links > 1 && meta.inode != 0 && meta.device_id != 0 {
                    let key = (meta.device_id, meta.inode);
                    if let Some(first) = first_names.get(&key) {
                        plan.later.push(Later::HardLink(first.clone(), path));
                        continue;
                    }
                    first_names.insert(key, path.clone());
                }
                let content = node.content.as_deref().unwrap_or_default();
                if content.is_empty() {
                    let file = OpenOptions::new()
                        .read(true)
                        .write(true)
                        .create(true)
                        .truncate(true)
                        .open(&path)
                        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
                    read_back(&file, &path, &[])?;
                    set_metadata(&file, &path, meta, ownership)?;
                    plan.written.verified += 1;
                    continue;
                }
                let index = plan.files.len();
                let mut blobs = Vec::with_capacity(content.len());
                let mut at = 0u64;
                for id in content {
                    let entry = repo
                        .get_index_entry(id)
                        .map_err(|e| format!("{}: {e}", path.display()))?;
                    let loc = entry.location;
                    let length = loc.data_length();
                    packs
                        .entry(entry.pack)
                        .or_default()
                        .entry(loc.offset)
                        .or_insert_with(|| BlobTodo {
                            id: *id,
                            offset: loc.offset,
                            length: loc.length,
                            uncompressed: loc.uncompressed_length.map(|n| n.get()),
                            targets: Vec::new(),
                        })
                        .targets
                        .push((index, at));
                    blobs.push((*id, length));
                    at += u64::from(length);
                }
                if blobs.len() > 1 {
                    // made here, so that the readers' writes in any order land in one file
                    File::create(&path)
                        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
                }
                plan.written.bytes += at;
                plan.files.push(FileTodo {
                    path,
                    meta: node.meta.clone(),
                    left: AtomicUsize::new(blobs.len()),
                    blobs,
                });
            }
            NodeType::Symlink { .. } => {
                std::os::unix::fs::symlink(node.node_type.to_link(), &path)
                    .map_err(|e| format!("cannot create the symlink {}: {e}", path.display()))?;
                plan.later.push(Later::ByPath(path, Box::new(node)));
            }
            NodeType::Dev { device } | NodeType::Chardev { device } => {
                let kind = if matches!(node.node_type, NodeType::Dev { .. }) {
                    libc::S_IFBLK
                } else {
                    libc::S_IFCHR
                };
                make_node(&path, kind, *device)?;
                plan.later.push(Later::ByPath(path, Box::new(node)));
            }
            NodeType::Fifo => {
                make_node(&path, libc::S_IFIFO, 0)?;
                plan.later.push(Later::ByPath(path, Box::new(node)));
            }
            NodeType::Socket => {
                // a socket cannot be restored, only the name of one (as restic does)
                make_node(&path, libc::S_IFSOCK, 0)?;
                plan.later.push(Later::ByPath(path, Box::new(node)));
            }
        }
    }
    let mut packs: Vec<PackTodo> = packs
        .into_iter()
        .map(|(id, blobs)| {
            let mut blobs: Vec<BlobTodo> = blobs.into_values().collect();
            blobs.sort_by_key(|b| b.offset);
            PackTodo { id, blobs }
        })
        .collect();
    packs.sort_by_key(|p| p.id);
    plan.packs = packs;
    Ok(plan)
}

/// What an entry of the snapshot needs at its path when overwriting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Room {
    /// A directory: an existing one is kept.
    Dir,
    /// A regular file: an existing regular file is rewritten in place.
    File,
    /// A symlink, a special file or a hard link: it must be made anew.
    Other,
}

/// Clears the way for an entry of the snapshot at `path` when overwriting: what is there and
/// cannot stay (anything but a directory where a directory goes; anything but a regular file
/// where a regular file goes, as a symlink would be written through) is removed. A directory
/// is never removed where something else goes.
fn make_room(path: &Path, room: Room) -> Result<(), String> {
    let Ok(existing) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    let kind = existing.file_type();
    if kind.is_dir() {
        return if room == Room::Dir {
            Ok(())
        } else {
            Err(format!(
                "{} is a directory, and the recovery point has something else there; remove it, or restore somewhere else",
                path.display()
            ))
        };
    }
    if room != Room::File || !kind.is_file() {
        std::fs::remove_file(path)
            .map_err(|e| format!("cannot replace {}: {e}", path.display()))?;
    }
    Ok(())
}

fn c_path(path: &Path) -> Result<CString, String> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| format!("{} holds a NUL byte", path.display()))
}

fn os_error(what: &str, path: &Path) -> String {
    format!(
        "cannot {what} {}: {}",
        path.display(),
        std::io::Error::last_os_error()
    )
}

fn make_node(path: &Path, kind: libc::mode_t, device: u64) -> Result<(), String> {
    let c = c_path(path)?;
    // SAFETY: `c` is a NUL-terminated path that lives across the call
    if unsafe { libc::mknod(c.as_ptr(), kind | 0o600, device as libc::dev_t) } != 0 {
        return Err(os_error("create", path));
    }
    Ok(())
}

/// Reads `file` back and checks it is exactly `blobs` (ids with their plain lengths).
fn read_back(file: &File, path: &Path, blobs: &[(DataId, u32)]) -> Result<(), String> {
    let mut buf = Vec::new();
    let mut at = 0u64;
    let damaged = |what: &str| {
        format!(
            "verification failed: {} differs from the recovery point after restoring ({what})",
            path.display()
        )
    };
    for (id, length) in blobs {
        buf.resize(*length as usize, 0);
        file.read_exact_at(&mut buf, at)
            .map_err(|e| damaged(&format!("reading it back: {e}")))?;
        if Id::new(sha2::Sha256::digest(&buf).into()) != **id {
            return Err(damaged(&format!("the bytes at offset {at}")));
        }
        at += u64::from(*length);
    }
    let mut probe = [0u8; 1];
    match file.read_at(&mut probe, at) {
        Ok(0) => Ok(()),
        Ok(_) => Err(damaged("it is longer than the recovery point's file")),
        Err(e) => Err(damaged(&format!("reading it back: {e}"))),
    }
}

/// The permission bits of a mode as restic records it (Go's `os.FileMode`).
fn permissions(go_mode: u32) -> libc::mode_t {
    const SETUID: u32 = 1 << 23;
    const SETGID: u32 = 1 << 22;
    const STICKY: u32 = 1 << 20;
    let mut mode = go_mode & 0o777;
    for (go, unix) in [(SETUID, 0o4000), (SETGID, 0o2000), (STICKY, 0o1000)] {
        if go_mode & go != 0 {
            mode |= unix;
        }
    }
    mode as libc::mode_t
}

/// Access and modification times for futimens/utimensat; a time not recorded is left alone.
fn times(meta: &Metadata) -> [libc::timespec; 2] {
    let spec = |t: Option<rustic_core::jiff::Timestamp>| match t {
        Some(t) => libc::timespec {
            tv_sec: t.as_second() as libc::time_t,
            tv_nsec: libc::c_long::from(t.subsec_nanosecond()),
        },
        None => libc::timespec {
            tv_sec: 0,
            tv_nsec: libc::UTIME_OMIT,
        },
    };
    [spec(meta.atime), spec(meta.mtime)]
}

/// Owner (as root only, as restic does), permissions, extended attributes and times of an
/// open file. An extended attribute the file system refuses is a warning, not a failure.
fn set_metadata(file: &File, path: &Path, meta: &Metadata, ownership: bool) -> Result<(), String> {
    let fd = file.as_raw_fd();
    // SAFETY: `fd` is open for the duration of these calls; the pointers passed live across
    // each call
    unsafe {
        if ownership
            && libc::fchown(
                fd,
                meta.uid.unwrap_or(u32::MAX),
                meta.gid.unwrap_or(u32::MAX),
            ) != 0
        {
            return Err(os_error("set the owner of", path));
        }
        if let Some(mode) = meta.mode {
            if libc::fchmod(fd, permissions(mode)) != 0 {
                return Err(os_error("set the permissions of", path));
            }
        }
        for xattr in &meta.extended_attributes {
            let Ok(name) = CString::new(xattr.name.as_bytes()) else {
                continue;
            };
            let value = xattr.value.as_deref().unwrap_or_default();
            if libc::fsetxattr(fd, name.as_ptr(), value.as_ptr().cast(), value.len(), 0) != 0 {
                tracing::warn!("{}", os_error(&format!("set {} on", xattr.name), path));
            }
        }
        if libc::futimens(fd, times(meta).as_ptr()) != 0 {
            return Err(os_error("set the times of", path));
        }
    }
    Ok(())
}

/// [`set_metadata`] by path, for what is not opened: directories (opened would do, but the
/// path is as cheap once), symlinks (their own metadata, not their target's) and special files
/// (opening a FIFO would block).
fn set_metadata_at(path: &Path, node: &Node, ownership: bool) -> Result<(), String> {
    let c = c_path(path)?;
    let meta = &node.meta;
    let symlink = node.is_symlink();
    // SAFETY: `c` and the other pointers passed live across each call
    unsafe {
        if ownership
            && libc::lchown(
                c.as_ptr(),
                meta.uid.unwrap_or(u32::MAX),
                meta.gid.unwrap_or(u32::MAX),
            ) != 0
        {
            return Err(os_error("set the owner of", path));
        }
        if let (Some(mode), false) = (meta.mode, symlink) {
            if libc::chmod(c.as_ptr(), permissions(mode)) != 0 {
                return Err(os_error("set the permissions of", path));
            }
        }
        for xattr in &meta.extended_attributes {
            let Ok(name) = CString::new(xattr.name.as_bytes()) else {
                continue;
            };
            let value = xattr.value.as_deref().unwrap_or_default();
            if libc::lsetxattr(
                c.as_ptr(),
                name.as_ptr(),
                value.as_ptr().cast(),
                value.len(),
                0,
            ) != 0
            {
                tracing::warn!("{}", os_error(&format!("set {} on", xattr.name), path));
            }
        }
        let flags = if symlink {
            libc::AT_SYMLINK_NOFOLLOW
        } else {
            0
        };
        if libc::utimensat(libc::AT_FDCWD, c.as_ptr(), times(meta).as_ptr(), flags) != 0 {
            return Err(os_error("set the times of", path));
        }
    }
    Ok(())
}

/// The readers' shared work: packs are taken in turn through `next`.
struct Readers<'a> {
    backend: &'a dyn ReadBackend,
    cipher: &'a Aes256CtrPoly1305Aes,
    files: &'a [FileTodo],
    packs: &'a [PackTodo],
    next: AtomicUsize,
    failed: AtomicBool,
    first_error: Mutex<Option<String>>,
    ownership: bool,
}

impl Readers<'_> {
    fn run(&self) -> Result<(), String> {
        let mut sealed_plain = Vec::new();
        let mut plain = Vec::new();
        let mut zstd = zstd::bulk::Decompressor::new()
            .map_err(|e| format!("cannot start zstd's decompressor: {e}"))?;
        while !self.failed.load(Ordering::Relaxed) {
            let Some(pack) = self.packs.get(self.next.fetch_add(1, Ordering::Relaxed)) else {
                return Ok(());
            };
            for span in spans(&pack.blobs) {
                let start = span[0].offset;
                let end = span
                    .iter()
                    .map(|b| b.offset + b.length)
                    .max()
                    .unwrap_or(start);
                let data = self
                    .backend
                    .read_partial(FileType::Pack, &pack.id, false, start, end - start)
                    .map_err(|e| format!("cannot read pack {}: {e}", &*pack.id.to_hex()))?;
                for blob in span {
                    let at = (blob.offset - start) as usize;
                    let sealed = data.get(at..at + blob.length as usize).ok_or_else(|| {
                        format!("pack {} is shorter than its index says", &*pack.id.to_hex())
                    })?;
                    let damaged = |what: &str| {
                        format!(
                            "blob {} in pack {} {what}: the repository is damaged (`restic check --read-data` tells more)",
                            &*blob.id.to_hex(),
                            &*pack.id.to_hex()
                        )
                    };
                    if !decrypt_into(self.cipher, sealed, &mut sealed_plain) {
                        return Err(damaged("fails its MAC"));
                    }
                    let bytes = match blob.uncompressed {
                        Some(n) => {
                            plain.clear();
                            plain.reserve(n as usize);
                            zstd.decompress_to_buffer(&sealed_plain, &mut plain)
                                .map_err(|e| damaged(&format!("does not decompress ({e})")))?;
                            &plain
                        }
                        None => &sealed_plain,
                    };
                    if Id::new(sha2::Sha256::digest(bytes).into()) != *blob.id {
                        return Err(damaged("does not match its id"));
                    }
                    for &(file, offset) in &blob.targets {
                        self.write(&self.files[file], offset, bytes)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Writes one blob's bytes into `file` at `offset`; the last write of a file reads it back
    /// and sets its metadata.
    fn write(&self, file: &FileTodo, offset: u64, bytes: &[u8]) -> Result<(), String> {
        let failed = |e: std::io::Error| format!("cannot write {}: {e}", file.path.display());
        let mut options = OpenOptions::new();
        options.read(true).write(true);
        let handle = if file.blobs.len() == 1 {
            // the whole file in one blob: made, written, checked and closed in one go
            let mut handle = options
                .create(true)
                .truncate(true)
                .open(&file.path)
                .map_err(failed)?;
            handle.write_all(bytes).map_err(failed)?;
            handle
        } else {
            let handle = options.open(&file.path).map_err(failed)?;
            handle.write_all_at(bytes, offset).map_err(failed)?;
            if file.left.fetch_sub(1, Ordering::AcqRel) != 1 {
                return Ok(());
            }
            handle
        };
        read_back(&handle, &file.path, &file.blobs)?;
        set_metadata(&handle, &file.path, &file.meta, self.ownership)
    }
}

/// A pack's blobs (sorted by offset) in runs that are read with one request each.
fn spans(blobs: &[BlobTodo]) -> impl Iterator<Item = &[BlobTodo]> {
    let mut rest = blobs;
    std::iter::from_fn(move || {
        let first = rest.first()?;
        let mut end = first.offset + first.length;
        let mut n = 1;
        while let Some(next) = rest.get(n) {
            let next_end = next.offset + next.length;
            if next.offset > end.saturating_add(MAX_GAP) || next_end - first.offset > MAX_SPAN {
                break;
            }
            end = end.max(next_end);
            n += 1;
        }
        let (run, tail) = rest.split_at(n);
        rest = tail;
        Some(run)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repository::{init_or_open, Location, RepositoryError};
    use rustic_core::{BackupOptions, PathList, SnapshotOptions};
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    /// Bytes that neither repeat nor compress, so that big files span several blobs.
    fn noise(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    /// Backs `src` up into a new repository under `dir`; returns it and the snapshot's id.
    fn backed_up(dir: &Path, src: &Path) -> (Location, String) {
        let location = Location::File(dir.join("repo"));
        let (repo, _) = init_or_open(&location, "pw").unwrap();
        let repo = repo.to_indexed_ids().unwrap();
        let source = PathList::from_string(&src.to_string_lossy())
            .unwrap()
            .sanitize()
            .unwrap();
        let snap = SnapshotOptions::default().to_snapshot().unwrap();
        let snap = repo
            .backup(&BackupOptions::default(), &source, snap)
            .unwrap();
        (location, snap.id.to_string())
    }

    /// Every entry under `root`: kind, permissions, owner, size, mtime, link count and content.
    fn listing(root: &Path) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                let m = std::fs::symlink_metadata(&p).unwrap();
                let what = if m.file_type().is_symlink() {
                    format!("-> {}", std::fs::read_link(&p).unwrap().display())
                } else if m.is_dir() {
                    stack.push(p.clone());
                    "dir".to_string()
                } else if m.is_file() {
                    Id::new(sha2::Sha256::digest(std::fs::read(&p).unwrap()).into())
                        .to_hex()
                        .to_string()
                } else {
                    format!("special {:o}", m.mode() & libc::S_IFMT)
                };
                let size = if m.is_dir() { 0 } else { m.len() };
                out.push(format!(
                    "{} {:o} {}:{} {size} {} {} {what}",
                    p.strip_prefix(root).unwrap().display(),
                    m.permissions().mode() & 0o7777,
                    m.uid(),
                    m.gid(),
                    if m.file_type().is_symlink() {
                        0
                    } else {
                        m.mtime()
                    },
                    if m.is_file() { m.nlink() } else { 0 },
                ));
            }
        }
        out.sort();
        out
    }

    #[test]
    fn a_tree_of_every_kind_of_entry_restores_with_its_content_metadata_and_hard_links() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        std::fs::create_dir_all(src.join("deep/er/est")).unwrap();
        std::fs::create_dir_all(src.join("locked")).unwrap();
        let big = noise(5 << 20, 1);
        std::fs::write(src.join("deep/big.bin"), &big).unwrap();
        // the same content twice in one file and in another: blobs shared within and across
        let twice = [big.clone(), big.clone()].concat();
        std::fs::write(src.join("deep/er/twice.bin"), &twice).unwrap();
        std::fs::write(src.join("empty"), b"").unwrap();
        std::fs::write(src.join("deep/er/est/small.txt"), b"small").unwrap();
        std::fs::write(src.join("locked/inside.txt"), b"in a read-only directory").unwrap();
        std::fs::write(src.join("setuid"), b"#!/bin/sh\n").unwrap();
        std::fs::set_permissions(src.join("setuid"), std::fs::Permissions::from_mode(0o4750))
            .unwrap();
        std::fs::hard_link(
            src.join("deep/er/est/small.txt"),
            src.join("also-small.txt"),
        )
        .unwrap();
        std::os::unix::fs::symlink("deep/big.bin", src.join("link")).unwrap();
        std::os::unix::fs::symlink("/nowhere/at/all", src.join("dangling")).unwrap();
        make_node(&src.join("fifo"), libc::S_IFIFO, 0).unwrap();
        std::fs::set_permissions(src.join("fifo"), std::fs::Permissions::from_mode(0o640)).unwrap();
        std::fs::set_permissions(src.join("locked"), std::fs::Permissions::from_mode(0o555))
            .unwrap();
        let (location, snapshot) = backed_up(dir.path(), &src);

        let target = dir.path().join("restored");
        let r = crate::repository::restore(&location, "pw", &snapshot, &src, None, &target, false)
            .unwrap();
        assert_eq!(listing(&target), listing(&src));
        // hard links are one file again, not two
        assert_eq!(
            std::fs::metadata(target.join("also-small.txt"))
                .unwrap()
                .ino(),
            std::fs::metadata(target.join("deep/er/est/small.txt"))
                .unwrap()
                .ino()
        );
        assert_eq!((r.files, r.verified), (6 + 1, 7), "{r:?}");
        assert_eq!(r.dirs, 4, "{r:?}");
        assert_eq!(r.bytes, (big.len() + twice.len() + 5 + 24 + 10) as u64);

        // one file out of the snapshot, to a path of its own
        let one = dir.path().join("one/twice.bin");
        crate::repository::restore(
            &location,
            "pw",
            &snapshot,
            &src,
            Some("deep/er/twice.bin"),
            &one,
            false,
        )
        .unwrap();
        assert_eq!(std::fs::read(&one).unwrap(), twice);
        std::fs::set_permissions(src.join("locked"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        std::fs::set_permissions(
            target.join("locked"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
    }

    #[test]
    fn overwriting_replaces_files_and_links_in_place_and_never_writes_through_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        std::fs::create_dir_all(src.join("sub")).unwrap();
        std::fs::write(src.join("sub/a.txt"), b"the recovery point's a").unwrap();
        std::fs::write(src.join("b.bin"), noise(3 << 20, 2)).unwrap();
        std::os::unix::fs::symlink("b.bin", src.join("ln")).unwrap();
        std::fs::hard_link(src.join("b.bin"), src.join("hard")).unwrap();
        let (location, snapshot) = backed_up(dir.path(), &src);
        let target = dir.path().join("restored");
        std::fs::create_dir_all(target.join("sub")).unwrap();
        let outside = dir.path().join("outside.txt");
        std::fs::write(&outside, b"must stay").unwrap();
        std::os::unix::fs::symlink(&outside, target.join("sub/a.txt")).unwrap();
        std::fs::write(target.join("b.bin"), b"longer than nothing, shorter than b").unwrap();
        std::fs::write(target.join("extra"), b"not in the point").unwrap();
        // regular files where the point has a symlink and a second name of a hard link
        std::fs::write(target.join("ln"), b"a file, not a link").unwrap();
        std::fs::write(target.join("hard"), b"a file of its own").unwrap();

        let refused =
            crate::repository::restore(&location, "pw", &snapshot, &src, None, &target, false);
        assert!(matches!(refused, Err(RepositoryError::Failed(e)) if e.contains("is not empty")));
        crate::repository::restore(&location, "pw", &snapshot, &src, None, &target, true).unwrap();
        assert_eq!(std::fs::read(&outside).unwrap(), b"must stay");
        assert!(!std::fs::symlink_metadata(target.join("sub/a.txt"))
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(
            std::fs::read(target.join("b.bin")).unwrap(),
            std::fs::read(src.join("b.bin")).unwrap()
        );
        assert_eq!(
            std::fs::read(target.join("extra")).unwrap(),
            b"not in the point"
        );

        // a directory where the point has a file is not removed
        std::fs::remove_file(target.join("b.bin")).unwrap();
        std::fs::create_dir(target.join("b.bin")).unwrap();
        let err = crate::repository::restore(&location, "pw", &snapshot, &src, None, &target, true)
            .unwrap_err()
            .to_string();
        assert!(err.contains("b.bin is a directory"), "{err}");
    }

    #[test]
    fn a_damaged_pack_fails_the_restore_naming_the_blob_and_the_check_to_run() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("data.bin"), noise(1 << 20, 3)).unwrap();
        let (location, snapshot) = backed_up(dir.path(), &src);
        // flip one byte in the middle of every data pack
        let mut flipped = 0;
        let mut stack = vec![dir.path().join("repo/data")];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                    continue;
                }
                let mut bytes = std::fs::read(&p).unwrap();
                if bytes.len() > (1 << 19) {
                    bytes[1 << 18] ^= 0x40;
                    std::fs::write(&p, bytes).unwrap();
                    flipped += 1;
                }
            }
        }
        assert_eq!(flipped, 1);
        let target = dir.path().join("restored");
        let err =
            crate::repository::restore(&location, "pw", &snapshot, &src, None, &target, false)
                .unwrap_err()
                .to_string();
        assert!(
            err.contains("fails its MAC") && err.contains("restic check"),
            "{err}"
        );
    }

    fn blob(offset: u32, length: u32) -> BlobTodo {
        BlobTodo {
            id: DataId::default(),
            offset,
            length,
            uncompressed: None,
            targets: Vec::new(),
        }
    }

    #[test]
    fn neighbouring_blobs_are_read_together_and_far_or_huge_runs_apart() {
        let lengths = |blobs: &[BlobTodo]| spans(blobs).map(|s| s.len()).collect::<Vec<_>>();
        let near = [blob(0, 100), blob(100, 100), blob(300 + MAX_GAP - 100, 5)];
        assert_eq!(lengths(&near), vec![3]);
        let far = [blob(0, 100), blob(100 + MAX_GAP + 1, 100)];
        assert_eq!(lengths(&far), vec![1, 1]);
        let huge = [
            blob(0, MAX_SPAN - 10),
            blob(MAX_SPAN - 10, 20),
            blob(MAX_SPAN + 10, 1),
        ];
        assert_eq!(lengths(&huge), vec![1, 2]);
        assert_eq!(lengths(&[]), Vec::<usize>::new());
    }

    #[test]
    fn reading_back_finds_changed_missing_and_extra_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let (a, b) = (b"first blob".to_vec(), b"second".to_vec());
        let id = |d: &[u8]| DataId::from(Id::new(sha2::Sha256::digest(d).into()));
        let blobs = [(id(&a), a.len() as u32), (id(&b), b.len() as u32)];
        let check = |content: &[u8]| {
            std::fs::write(&path, content).unwrap();
            read_back(&File::open(&path).unwrap(), &path, &blobs)
        };
        assert_eq!(check(&[a.clone(), b.clone()].concat()), Ok(()));
        let changed = check(&[a.clone(), b"sec0nd".to_vec()].concat()).unwrap_err();
        assert!(changed.contains("the bytes at offset 10"), "{changed}");
        assert!(check(&a).unwrap_err().contains("reading it back"));
        let longer = check(&[a.clone(), b.clone(), b"!".to_vec()].concat()).unwrap_err();
        assert!(longer.contains("longer than"), "{longer}");
    }

    #[test]
    fn go_modes_become_unix_permission_bits() {
        assert_eq!(permissions(0o644), 0o644);
        assert_eq!(permissions((1 << 31) | 0o755), 0o755); // a directory's type bit dropped
        assert_eq!(
            permissions((1 << 23) | (1 << 22) | (1 << 20) | 0o700),
            0o7700
        );
    }
}
