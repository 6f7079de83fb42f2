//! Filler text for long documents, in tests (tests/file_search_long.rs) and benchmarks
//! (benches/file_search.rs, which includes this file by its path): words of one small
//! vocabulary drawn by a tiny deterministic generator, the same text for the same seed.
#![allow(dead_code)]

/// The vocabulary: an observatory's log words, among them the questions' own, so that a
/// question's words alone do not single out the passage that answers it.
pub const WORDS: &[&str] = &[
    "the",
    "a",
    "of",
    "for",
    "is",
    "and",
    "to",
    "in",
    "with",
    "on",
    "engine",
    "valve",
    "pressure",
    "filter",
    "cabin",
    "report",
    "weekly",
    "staff",
    "telescope",
    "mirror",
    "lens",
    "schedule",
    "maintenance",
    "inspection",
    "record",
    "night",
    "shift",
    "weather",
    "cloud",
    "wind",
    "humidity",
    "sensor",
    "cable",
    "power",
    "supply",
    "backup",
    "door",
    "roof",
    "motor",
    "gear",
    "code",
    "dome",
    "launch",
    "observatory",
    "what",
    "check",
    "replace",
    "clean",
    "log",
    "entry",
    "visitor",
    "access",
    "badge",
    "key",
    "storage",
    "room",
    "north",
    "south",
];

/// A linear congruential generator (Knuth's MMIX constants): no random crate needed.
pub struct Filler(u64);

impl Filler {
    pub fn new(seed: u64) -> Self {
        Filler(seed)
    }

    /// The next number, below 2^31.
    pub fn number(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }

    /// `n` words of [`WORDS`], joined by spaces.
    pub fn words(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| WORDS[self.number() % WORDS.len()])
            .collect::<Vec<_>>()
            .join(" ")
    }
}
