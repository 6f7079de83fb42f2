//! Embeds the SQL files of `migrations/` into the binary, in order, and refuses to build when
//! their numbering has a gap or a duplicate (a migration is identified by its position);
//! embeds the bundled web app's `assets/` gzipped; and records the git commit built, for
//! `--version`.

use std::fmt::Write;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::Digest;

fn main() {
    embed_migrations();
    embed_assets();
    record_commit();
    pack_relocations();
}

/// `LIBRECHAT_GIT_COMMIT`: the commit being built (12 hex digits), from the environment when a
/// packager sets it (a source tarball has no .git), else from git, else `unknown`.
fn record_commit() {
    println!("cargo:rerun-if-env-changed=LIBRECHAT_GIT_COMMIT");
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(&manifest)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    // Built again when HEAD moves: HEAD itself (per worktree), and the branch it names and the
    // packed refs (shared by worktrees). Only files that exist are named: cargo takes a
    // missing one as changed on every build.
    let mut watch = Vec::new();
    if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        watch.push(Path::new(&dir).join("HEAD"));
    }
    if let Some(common) = git(&["rev-parse", "--git-common-dir"]) {
        let common = Path::new(&manifest).join(common);
        watch.push(common.join("packed-refs"));
        if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
            watch.push(common.join(branch));
        }
    }
    for path in watch.iter().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    let commit = std::env::var("LIBRECHAT_GIT_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=LIBRECHAT_GIT_COMMIT={commit}");
}

fn embed_migrations() {
    println!("cargo:rerun-if-changed=migrations");
    // Read at run time: a build script binary can be reused from another checkout of the
    // same target folder, and then a path baked in when it was compiled would be stale.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest).join("migrations");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("migrations/ exists")
        .map(|e| e.expect("readable migrations/").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    let mut out = String::from(
        "/// `(name, sql)` of every migration, oldest first.\npub static MIGRATIONS: &[(&str, &str)] = &[\n",
    );
    for (i, path) in files.iter().enumerate() {
        let stem = path.file_stem().unwrap().to_str().expect("UTF-8 file name");
        let number: usize = stem
            .split('_')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("migration {stem} must start with its number, like 0001_"));
        assert_eq!(
            number,
            i + 1,
            "migration {stem} is out of sequence: expected number {}",
            i + 1
        );
        // Named from the crate's folder when the crate compiles, not here: this output can be
        // reused by a checkout in another place.
        let file = path.file_name().unwrap().to_str().expect("UTF-8 file name");
        writeln!(
            out,
            "    ({stem:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/migrations/{file}\"))),"
        )
        .unwrap();
    }
    out.push_str("];\n");
    // PostgreSQL's twins (`migrations/postgres/NNNN_*.sql`): a baseline numbered as the SQLite
    // migration it catches up with, then one file per later SQLite migration.
    out.push_str(
        "/// `(number, name, sql)` of every PostgreSQL migration, oldest first.\npub static POSTGRES_MIGRATIONS: &[(usize, &str, &str)] = &[\n",
    );
    let mut pg: Vec<_> = std::fs::read_dir(dir.join("postgres"))
        .map(|d| {
            d.map(|e| e.expect("readable migrations/postgres/").path())
                .filter(|p| p.extension().is_some_and(|e| e == "sql"))
                .collect()
        })
        .unwrap_or_default();
    pg.sort();
    for path in &pg {
        let stem = path.file_stem().unwrap().to_str().expect("UTF-8 file name");
        let number: usize = stem
            .split('_')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("migration postgres/{stem} must start with its number"));
        assert!(
            number <= files.len(),
            "postgres/{stem} has no SQLite migration of its number"
        );
        let file = path.file_name().unwrap().to_str().expect("UTF-8 file name");
        writeln!(
            out,
            "    ({number}, {stem:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/migrations/postgres/{file}\"))),"
        )
        .unwrap();
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("migrations.rs");
    std::fs::write(dest, out).unwrap();
}

/// `assets.rs`: every file of `assets/` but `index.html` (which the server rewrites and
/// embeds as it is), gzipped at the best level (a third of the size: 0.23 MB less binary),
/// sorted by path, each with the strong ETags of its plain and gzipped forms (from a SHA-256
/// of the plain file). See `src/web/bundled.rs`.
fn embed_assets() {
    println!("cargo:rerun-if-changed=assets");
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest).join("assets");
    let mut files = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable assets/") {
            let path = entry.expect("readable assets/").path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    let name = |p: &PathBuf| {
        let rel = p
            .strip_prefix(&root)
            .unwrap()
            .to_str()
            .expect("UTF-8 file name");
        rel.replace(std::path::MAIN_SEPARATOR, "/")
    };
    files.sort_by_key(name);
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let gz_dir = out_dir.join("assets");
    std::fs::create_dir_all(&gz_dir).unwrap();
    let mut out = String::from(
        "/// `(path, gzipped file, ETag, ETag of the gzip)` of the bundled app's files, by path.\n\
         pub static ASSETS: &[(&str, &[u8], &str, &str)] = &[\n",
    );
    for (i, path) in files.iter().enumerate() {
        let rel = name(path);
        if rel == "index.html" {
            continue;
        }
        let plain = std::fs::read(path).expect("readable asset");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&plain).unwrap();
        std::fs::write(gz_dir.join(format!("{i}.gz")), gz.finish().unwrap()).unwrap();
        let hash = sha2::Sha256::digest(&plain);
        let hex: String = hash[..12].iter().map(|b| format!("{b:02x}")).collect();
        writeln!(
            out,
            "    ({rel:?}, include_bytes!(concat!(env!(\"OUT_DIR\"), \"/assets/{i}.gz\")), \
             \"\\\"{hex}\\\"\", \"\\\"{hex}-gz\\\"\"),"
        )
        .unwrap();
    }
    out.push_str("];\n");
    std::fs::write(out_dir.join("assets.rs"), out).unwrap();
}

/// Packs the binary's relative relocations (`-z pack-relative-relocs`, DT_RELR): a
/// position-independent executable otherwise carries 24 bytes of relocation per pointer in its
/// read-only data (1.3 MB here). The binary then needs glibc 2.36 or later to start (it needed
/// 2.35 already), so this is done only when building on such a glibc for the same target, and
/// `LIBRECHAT_PACK_RELOCS=0` turns it off (a binary meant for an older system).
fn pack_relocations() {
    println!("cargo:rerun-if-env-changed=LIBRECHAT_PACK_RELOCS");
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    if var("CARGO_CFG_TARGET_OS") != "linux"
        || var("CARGO_CFG_TARGET_ENV") != "gnu"
        || var("HOST") != var("TARGET")
        || var("LIBRECHAT_PACK_RELOCS") == "0"
    {
        return;
    }
    // "glibc 2.36" from getconf; anything else (musl, no getconf) leaves the relocations as
    // they are.
    let glibc = std::process::Command::new("getconf")
        .arg("GNU_LIBC_VERSION")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let Some(version) = glibc.strip_prefix("glibc ") else {
        return;
    };
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if (major, minor) >= (2, 36) {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
