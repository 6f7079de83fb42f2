//! Bounded, expiring in-memory caches: every cache of the server is one [`BoundedCache`].
//!
//! They are moka caches, but all of one concrete type underneath: keys are strings and values
//! are kept behind `Arc<dyn Any>`, with this typed wrapper restoring the type at each use.
//! Each distinct `moka::sync::Cache<K, V>` compiles its own copy of moka's maintenance code
//! (about 60 KB of machine code per pair of types); with a dozen caches that was 0.8 MB of a
//! release binary kept under 30 MB. One downcast per read is the whole price.
//!
//! A leaf module: it knows nothing else of this crate, so every room may use it.

use std::any::Any;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

type Erased = Arc<dyn Any + Send + Sync>;

/// A bounded map from string keys to `V`, with moka's eviction (least recently used within a
/// frequency sketch) and optional expiry. `V` is cloned out on reads: keep it cheap to clone
/// (an `Arc`, a number, a short string).
pub struct BoundedCache<V> {
    inner: moka::sync::Cache<String, Erased>,
    _value: PhantomData<fn() -> V>,
}

impl<V: Clone + Send + Sync + 'static> BoundedCache<V> {
    /// A cache of at most `max_entries` values (or, with [`Builder::weigher`], that many units
    /// of weight).
    pub fn builder(max_entries: u64) -> Builder<V> {
        Builder {
            inner: moka::sync::Cache::builder().max_capacity(max_entries),
            _value: PhantomData,
        }
    }

    /// Drops every value now.
    pub fn clear(&self) {
        self.inner.invalidate_all();
        self.inner.run_pending_tasks();
    }

    /// Drops the values whose time is up now (otherwise they go on later use of the cache).
    pub fn run_pending_tasks(&self) {
        self.inner.run_pending_tasks();
    }

    pub fn get(&self, key: &str) -> Option<V> {
        self.inner.get(key).map(|v| downcast(&v))
    }

    pub fn insert(&self, key: String, value: V) {
        self.inner.insert(key, Arc::new(value));
    }

    /// Takes the value out, if there is one.
    pub fn remove(&self, key: &str) -> Option<V> {
        self.inner.remove(key).map(|v| downcast(&v))
    }

    pub fn invalidate(&self, key: &str) {
        self.inner.invalidate(key);
    }

    /// The value for `key`, made by `init` when there is none; concurrent callers for one key
    /// wait for the same `init` rather than each running their own.
    pub fn get_with(&self, key: String, init: impl FnOnce() -> V) -> V {
        downcast(&self.inner.get_with(key, || Arc::new(init()) as Erased))
    }

    /// Replaces the value for `key` with `f(old)`, atomically with respect to other updates of
    /// the same key; the new value.
    pub fn upsert_with(&self, key: String, f: impl FnOnce(Option<V>) -> V) -> V {
        let entry = self.inner.entry(key).and_upsert_with(|old| {
            let old = old.map(|e| downcast::<V>(e.value()));
            Arc::new(f(old)) as Erased
        });
        downcast(entry.value())
    }
}

/// Settings of a [`BoundedCache`] being made.
pub struct Builder<V> {
    inner: moka::sync::CacheBuilder<String, Erased, moka::sync::Cache<String, Erased>>,
    _value: PhantomData<fn() -> V>,
}

impl<V: Clone + Send + Sync + 'static> Builder<V> {
    /// Each value is dropped this long after it was written.
    pub fn time_to_live(self, ttl: Duration) -> Self {
        Self {
            inner: self.inner.time_to_live(ttl),
            ..self
        }
    }

    /// Each value is dropped when it has not been read or written for this long.
    pub fn time_to_idle(self, tti: Duration) -> Self {
        Self {
            inner: self.inner.time_to_idle(tti),
            ..self
        }
    }

    /// Counts each entry as `weight(key, value)` units against the capacity instead of one.
    pub fn weigher(self, weight: impl Fn(&str, &V) -> u32 + Send + Sync + 'static) -> Self {
        Self {
            inner: self
                .inner
                .weigher(move |k: &String, v: &Erased| weight(k, &downcast::<V>(v))),
            ..self
        }
    }

    pub fn build(self) -> BoundedCache<V> {
        BoundedCache {
            inner: self.inner.build(),
            _value: PhantomData,
        }
    }
}

/// Every value of a `BoundedCache<V>` was stored as a `V` by that cache's own methods.
fn downcast<V: Clone + 'static>(v: &Erased) -> V {
    v.downcast_ref::<V>()
        .expect("a BoundedCache holds only its own value type")
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_keep_their_type_and_updates_see_the_old_value() {
        let scores = BoundedCache::<u32>::builder(10).build();
        assert_eq!(scores.get("a"), None);
        assert_eq!(
            scores.upsert_with("a".into(), |old| old.unwrap_or(0) + 5),
            5
        );
        assert_eq!(
            scores.upsert_with("a".into(), |old| old.unwrap_or(0) + 5),
            10
        );
        assert_eq!(scores.get_with("b".into(), || 7), 7);
        assert_eq!(scores.get_with("b".into(), || 8), 7, "made once");
        assert_eq!(scores.remove("a"), Some(10));
        assert_eq!(scores.get("a"), None);
        scores.insert("c".into(), 1);
        scores.invalidate("c");
        assert_eq!(scores.get("c"), None);
    }

    #[test]
    fn a_weigher_bounds_the_total_weight() {
        let pages = BoundedCache::<String>::builder(100)
            .weigher(|k, v| (k.len() + v.len()) as u32)
            .build();
        for i in 0..50 {
            pages.insert(format!("{i:02}"), "x".repeat(20));
        }
        pages.inner.run_pending_tasks();
        assert!(pages.inner.weighted_size() <= 100);
    }
}
