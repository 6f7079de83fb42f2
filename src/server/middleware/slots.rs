//! A few at a time per account: long uploads (imports, files) each hold a slot while they
//! stream, so one account cannot tie up the server with many slow ones at once.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

/// Slots in use, by kind of work and account.
static IN_USE: LazyLock<Mutex<HashMap<(&'static str, String), usize>>> =
    LazyLock::new(Default::default);

/// A slot held until dropped.
pub struct Slot {
    kind: &'static str,
    user_id: String,
}

impl Slot {
    /// Takes one of the account's `per_account` slots for `kind`, if one is free.
    pub fn take(kind: &'static str, user_id: &str, per_account: usize) -> Option<Slot> {
        let mut all = IN_USE.lock().expect("slots");
        let n = all.entry((kind, user_id.to_owned())).or_default();
        if *n >= per_account {
            return None;
        }
        *n += 1;
        Some(Slot {
            kind,
            user_id: user_id.to_owned(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut all = IN_USE.lock().expect("slots");
        let key = (self.kind, std::mem::take(&mut self.user_id));
        if let Some(n) = all.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                all.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_per_kind_and_account_and_come_back() {
        let a = Slot::take("t", "u1", 2).unwrap();
        let _b = Slot::take("t", "u1", 2).unwrap();
        assert!(Slot::take("t", "u1", 2).is_none());
        assert!(Slot::take("t", "u2", 2).is_some());
        assert!(Slot::take("other", "u1", 2).is_some());
        drop(a);
        assert!(Slot::take("t", "u1", 2).is_some());
    }
}
