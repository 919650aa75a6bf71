//! The regional report, cached per region scope: it is computed over every case (0.6 s at
//! 100,000 cases, docs/PERFORMANCE.md "Cases") and the dashboard asks for it on every view.
//! Changes made through the server drop the cache at once; changes made beside it (a
//! `minewatch ingest` on the same store) show within [`TTL`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use minewatch_store::report::Report;

/// How long a report is served before it is computed again.
pub const TTL: Duration = Duration::from_secs(30);
/// Scopes held at most; when full, the oldest entry goes.
pub const CAP: usize = 64;

/// Reports by region scope (None: everywhere).
#[derive(Default)]
pub struct ReportCache {
    entries: Mutex<HashMap<Option<String>, (Instant, u64, Arc<Report>)>>,
    generation: AtomicU64,
}

impl ReportCache {
    /// The generation a report computed from now on belongs to.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// The cached report for a scope, if it is fresh and no change came since.
    pub fn get(&self, scope: &Option<String>, now: Instant) -> Option<Arc<Report>> {
        let generation = self.generation();
        let entries = self.entries.lock().ok()?;
        entries
            .get(scope)
            .filter(|(at, g, _)| *g == generation && now.duration_since(*at) < TTL)
            .map(|(_, _, r)| r.clone())
    }

    /// Keeps a report computed in `generation` (read before computing, so a change made while
    /// it was computed leaves it stale).
    pub fn put(&self, scope: Option<String>, generation: u64, now: Instant, report: Arc<Report>) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CAP && !entries.contains_key(&scope) {
                let oldest = entries
                    .iter()
                    .min_by_key(|(_, (at, _, _))| *at)
                    .map(|(k, _)| k.clone());
                if let Some(k) = oldest {
                    entries.remove(&k);
                }
            }
            entries.insert(scope, (now, generation, report));
        }
    }

    /// Something changed: every cached report is stale.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }

    /// Scopes held now.
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

    fn report(tag: &str) -> Arc<Report> {
        Arc::new(Report {
            as_of: tag.into(),
            ..Report::default()
        })
    }

    #[test]
    fn fresh_reports_are_served_until_a_change_or_the_ttl() {
        let c = ReportCache::default();
        let t0 = Instant::now();
        let scope = Some("1502".to_string());
        assert!(c.get(&scope, t0).is_none());
        c.put(scope.clone(), c.generation(), t0, report("a"));
        assert_eq!(c.get(&scope, t0).unwrap().as_of, "a");
        assert!(c.get(&None, t0).is_none(), "scopes are kept apart");
        assert!(c.get(&scope, t0 + TTL).is_none(), "expired");
        c.invalidate();
        assert!(c.get(&scope, t0).is_none(), "a change drops it");
        // A report computed before a change that lands while it is computed is not served.
        let g = c.generation();
        c.invalidate();
        c.put(scope.clone(), g, t0, report("b"));
        assert!(c.get(&scope, t0).is_none());
    }

    #[test]
    fn flooding_with_scopes_keeps_the_cap() {
        let c = ReportCache::default();
        let t0 = Instant::now();
        for i in 0..(CAP * 4) {
            c.put(
                Some(format!("{i:06}")),
                c.generation(),
                t0 + Duration::from_millis(i as u64),
                report("x"),
            );
        }
        assert_eq!(c.len(), CAP);
        // The newest stay.
        let newest = Some(format!("{:06}", CAP * 4 - 1));
        assert!(
            c.get(&newest, t0 + Duration::from_millis(CAP as u64 * 4))
                .is_some()
        );
    }
}
