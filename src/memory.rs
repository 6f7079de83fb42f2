//! Giving memory back to the system after a large, short-lived piece of work (an import, a
//! search batch of thousands of messages).
//!
//! glibc's malloc keeps what is freed for reuse: after an import of a 50,000-message
//! conversation the server stayed ~50 MB above its idle size, every page of it free but held
//! (`malloc_trim` measured it: resident memory fell from 77 MB to 26 MB). Returning it takes
//! `malloc_trim`, a foreign call this library may not make (it forbids `unsafe`), so the
//! program registers it at start ([`set_release`]) and the library calls [`release`]. Without
//! a registration (tests, other allocators) `release` does nothing.

use std::sync::OnceLock;

static RELEASE: OnceLock<fn()> = OnceLock::new();

/// Registers how to return freed memory to the system; the first registration wins.
pub fn set_release(f: fn()) {
    let _ = RELEASE.set(f);
}

/// Returns freed memory to the system, if the program said how. Takes a few milliseconds for
/// a large heap: call it after large work, not per request.
pub fn release() {
    if let Some(f) = RELEASE.get() {
        f();
    }
}
