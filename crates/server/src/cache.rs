//! Figures computed over every case, kept for a short while: the regional report (0.6 s at
//! 100,000 cases, docs/PERFORMANCE.md "Cases"), which the dashboard asks for on every view,
//! and the number of cases matching a list filter (a count over the matching cases, which the
//! list pages need for their page count). Changes made through the server drop every entry at
//! once; changes made beside it (a `minewatch ingest` on the same store) show within [`TTL`].

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long an entry is served before it is computed again.
pub const TTL: Duration = Duration::from_secs(30);

/// Entries by key, each with the instant and the generation it was computed in; at most `cap`
/// of them, the oldest going first.
pub struct FreshCache<K, V> {
    entries: Mutex<HashMap<K, (Instant, u64, V)>>,
    generation: AtomicU64,
    cap: usize,
    /// Held while a missing value is computed: requests that miss together wait for the one
    /// computation instead of each running the same pass over every case.
    computing: tokio::sync::Mutex<()>,
}

impl<K: Eq + Hash + Clone, V: Clone> FreshCache<K, V> {
    /// An empty cache of at most `cap` entries.
    pub fn new(cap: usize) -> Self {
        FreshCache {
            entries: Mutex::new(HashMap::new()),
            generation: AtomicU64::new(0),
            cap: cap.max(1),
            computing: tokio::sync::Mutex::new(()),
        }
    }

    /// The generation a value computed from now on belongs to.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// The value for a key, if it is fresh and no change came since it was computed.
    pub fn get(&self, key: &K, now: Instant) -> Option<V> {
        let generation = self.generation();
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|(at, g, _)| *g == generation && now.saturating_duration_since(*at) < TTL)
            .map(|(_, _, v)| v.clone())
    }

    /// Keeps a value computed in `generation` (read before computing, so a change made while
    /// it was computed leaves it stale).
    pub fn put(&self, key: K, generation: u64, now: Instant, value: V) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= self.cap && !entries.contains_key(&key) {
                let oldest = entries
                    .iter()
                    .min_by_key(|(_, (at, _, _))| *at)
                    .map(|(k, _)| k.clone());
                if let Some(k) = oldest {
                    entries.remove(&k);
                }
            }
            entries.insert(key, (now, generation, value));
        }
    }

    /// The value for a key, computing and keeping it when it is missing or stale.
    pub async fn get_or<E, F>(&self, key: K, compute: F) -> Result<V, E>
    where
        F: std::future::Future<Output = Result<V, E>>,
    {
        if let Some(v) = self.get(&key, Instant::now()) {
            return Ok(v);
        }
        let _one_at_a_time = self.computing.lock().await;
        let now = Instant::now();
        if let Some(v) = self.get(&key, now) {
            return Ok(v);
        }
        let generation = self.generation();
        let v = compute.await?;
        self.put(key, generation, now, v.clone());
        Ok(v)
    }

    /// Something changed: every entry is stale.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }

    /// Entries held now.
    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_values_are_served_until_a_change_or_the_ttl() {
        let c: FreshCache<Option<String>, &str> = FreshCache::new(8);
        let t0 = Instant::now();
        let scope = Some("1502".to_string());
        assert!(c.get(&scope, t0).is_none());
        c.put(scope.clone(), c.generation(), t0, "a");
        assert_eq!(c.get(&scope, t0), Some("a"));
        assert!(c.get(&None, t0).is_none(), "keys are kept apart");
        assert!(c.get(&scope, t0 + TTL).is_none(), "expired");
        c.invalidate();
        assert!(c.get(&scope, t0).is_none(), "a change drops it");
        // A value computed before a change that lands while it is computed is not served.
        let g = c.generation();
        c.invalidate();
        c.put(scope.clone(), g, t0, "b");
        assert!(c.get(&scope, t0).is_none());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_that_miss_together_compute_once() {
        let c: std::sync::Arc<FreshCache<u8, u32>> = std::sync::Arc::new(FreshCache::new(4));
        let runs = std::sync::Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let (c, runs) = (c.clone(), runs.clone());
            tasks.push(tokio::spawn(async move {
                c.get_or(1, async {
                    runs.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Ok::<u32, ()>(7)
                })
                .await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), Ok(7));
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn flooding_with_keys_keeps_the_cap() {
        let cap = 64;
        let c: FreshCache<String, u32> = FreshCache::new(cap);
        let t0 = Instant::now();
        for i in 0..(cap * 4) {
            c.put(
                format!("{i:06}"),
                c.generation(),
                t0 + Duration::from_millis(i as u64),
                1,
            );
        }
        assert_eq!(c.len(), cap);
        // The newest stay.
        let newest = format!("{:06}", cap * 4 - 1);
        assert!(
            c.get(&newest, t0 + Duration::from_millis(cap as u64 * 4))
                .is_some()
        );
    }
}
