//! How often probes may connect: a global rate for the whole run, and per target a cap on
//! connections and a gap between them. The published probers (sMaSheD, MineShark) learnt that
//! an active scanner must be gentle to stay welcome; every connection waits its turn here.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The limits.
#[derive(Clone, Copy, Debug)]
pub struct Pace {
    /// Connections per second across the run (at least 0.01).
    pub per_second: f64,
    /// Connections to one target (address and port) in a run at most.
    pub per_target: u32,
    /// Between two connections to the same target at least this long.
    pub target_gap: Duration,
}

impl Default for Pace {
    fn default() -> Pace {
        Pace {
            per_second: 10.0,
            per_target: 16,
            target_gap: Duration::from_millis(200),
        }
    }
}

/// The shared clock of a run.
pub struct Pacer {
    pace: Pace,
    state: Mutex<State>,
}

struct State {
    next: Instant,
    /// Per target: connections made, and the slot of the last.
    targets: HashMap<String, (u32, Instant)>,
    /// Targets in the order their slots were given, each with the slot it got then: the least
    /// recently used is the first whose slot is still its latest (the others are stale and are
    /// dropped on the way), so forgetting one is amortised O(1), not a walk over the table.
    order: VecDeque<(String, Instant)>,
}

/// The most targets remembered; a run with more forgets the least recently used (its cap
/// restarts, its gap has long passed at the global rate).
const MAX_TARGETS: usize = 100_000;

impl State {
    /// Forgets the least recently used target.
    fn forget_oldest(&mut self) {
        while let Some((k, at)) = self.order.pop_front() {
            if self.targets.get(&k).is_some_and(|(_, last)| *last == at) {
                self.targets.remove(&k);
                return;
            }
        }
    }

    /// Records that `target` got `slot`, its `count`th connection.
    fn record(&mut self, target: &str, count: u32, slot: Instant) {
        self.targets.insert(target.to_string(), (count, slot));
        self.order.push_back((target.to_string(), slot));
        // Stale entries past twice the table are dropped at once: the queue stays bounded.
        if self.order.len() > 2 * self.targets.len() + 16 {
            let targets = &self.targets;
            self.order
                .retain(|(k, at)| targets.get(k).is_some_and(|(_, last)| last == at));
        }
    }
}

impl Pacer {
    /// A pacer for `pace`.
    pub fn new(pace: Pace) -> Pacer {
        Pacer {
            pace,
            state: Mutex::new(State {
                next: Instant::now(),
                targets: HashMap::new(),
                order: VecDeque::new(),
            }),
        }
    }

    /// Waits for a connection slot to `target`; `false` when the target's cap is spent.
    pub fn acquire(&self, target: &str) -> bool {
        let interval = Duration::from_secs_f64(1.0 / self.pace.per_second.max(0.01));
        let wait_until = {
            let mut st = self
                .state
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = Instant::now();
            if st.targets.len() >= MAX_TARGETS && !st.targets.contains_key(target) {
                st.forget_oldest();
            }
            let (count, last) = st
                .targets
                .get(target)
                .copied()
                .unwrap_or((0, now.checked_sub(self.pace.target_gap).unwrap_or(now)));
            if count >= self.pace.per_target {
                return false;
            }
            let slot = st.next.max(now).max(last + self.pace.target_gap);
            st.next = slot + interval;
            st.record(target, count + 1, slot);
            slot
        };
        let now = Instant::now();
        if wait_until > now {
            std::thread::sleep(wait_until - now);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_global_rate_and_the_per_target_cap_hold() {
        let p = Pacer::new(Pace {
            per_second: 50.0,
            per_target: 3,
            target_gap: Duration::ZERO,
        });
        let start = Instant::now();
        for _ in 0..3 {
            assert!(p.acquire("a:1"));
        }
        assert!(
            !p.acquire("a:1"),
            "the fourth connection to one target is refused"
        );
        for i in 0..7 {
            assert!(p.acquire(&format!("b{i}:1")));
        }
        // Ten connections at 50/s: the tenth waits nine intervals.
        assert!(
            start.elapsed() >= Duration::from_millis(170),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn a_flood_of_targets_stays_within_the_table_and_forgets_the_least_recent() {
        let p = Pacer::new(Pace {
            per_second: 1e9,
            per_target: 1000,
            target_gap: Duration::ZERO,
        });
        for i in 0..MAX_TARGETS + 500 {
            assert!(p.acquire(&format!("t{i}:1")));
            // One target comes back now and then: it is never the least recently used.
            if i % 1000 == 0 {
                assert!(p.acquire("kept:1"));
            }
        }
        let st = p.state.lock().unwrap();
        assert_eq!(st.targets.len(), MAX_TARGETS);
        assert!(st.order.len() <= 2 * MAX_TARGETS + 16, "{}", st.order.len());
        assert!(!st.targets.contains_key("t0:1"));
        assert!(!st.targets.contains_key("t500:1"));
        assert!(st.targets.contains_key("t501:1"));
        assert_eq!(st.targets.get("kept:1").map(|t| t.0), Some(101));
    }

    #[test]
    fn connections_to_one_target_keep_their_gap() {
        let p = Pacer::new(Pace {
            per_second: 1000.0,
            per_target: 10,
            target_gap: Duration::from_millis(60),
        });
        let start = Instant::now();
        for _ in 0..3 {
            assert!(p.acquire("a:1"));
        }
        assert!(
            start.elapsed() >= Duration::from_millis(115),
            "{:?}",
            start.elapsed()
        );
    }
}
