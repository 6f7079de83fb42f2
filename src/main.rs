//! The `librechat` command: parse the command line, dispatch. Errors end as one line on stderr.

use std::process::ExitCode;

fn main() -> ExitCode {
    tune_allocator();
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    librechat::memory::set_release(release_memory);
    match librechat::cli::run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("librechat: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Two defaults of glibc's malloc suit a long-running server poorly: it keeps one arena per
/// thread (up to eight per core), each holding on to memory freed in it, and after the first
/// large block is freed it stops returning large blocks to the system. Hashing a password with
/// argon2 takes 19 MiB at a time, so together they keep tens of megabytes resident that
/// nothing uses. Here large blocks always go straight back to the system and the arenas are
/// few (measured with `cargo bench --bench chat`; see the README). The library forbids
/// `unsafe`; this file is the program's only use of it.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes malloc's parameters; it runs before any other thread
    // exists, with values inside glibc's documented ranges.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1024 * 1024);
    }
}

/// Hands the pages malloc holds free back to the system (see `librechat::memory`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release_memory() {
    // SAFETY: malloc_trim only walks malloc's own free lists, under its locks; it is safe to
    // call from any thread at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
