//! A small bounded pool of store connections: at most [`MAX_IDLE`] kept between requests; a
//! request that finds none idle opens one, so the pool never blocks, and the cap bounds what
//! stays open.

use std::sync::Mutex;

use minewatch_store::{Conn, StoreError};

/// Connections kept open between requests.
pub const MAX_IDLE: usize = 8;

/// The pool.
pub struct Pool {
    target: String,
    idle: Mutex<Vec<Conn>>,
    max_idle: usize,
}

impl Pool {
    /// A pool for a store path or URL (already migrated).
    pub fn new(target: &str, max_idle: usize) -> Pool {
        Pool {
            target: target.to_string(),
            idle: Mutex::new(Vec::new()),
            max_idle,
        }
    }

    /// An idle connection, or a new one.
    pub fn get(&self) -> Result<Conn, StoreError> {
        let idle = self.idle.lock().ok().and_then(|mut v| v.pop());
        match idle {
            Some(c) => Ok(c),
            None => Conn::open(&self.target),
        }
    }

    /// Returns a connection; beyond the cap it is closed.
    pub fn put(&self, c: Conn) {
        if let Ok(mut v) = self.idle.lock()
            && v.len() < self.max_idle
        {
            v.push(c);
        }
    }

    /// Connections idle now.
    pub fn idle(&self) -> usize {
        self.idle.lock().map(|v| v.len()).unwrap_or(0)
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // A PostgreSQL client blocks on its own runtime when closed, which may not happen on
        // an async thread: close idle connections on a plain thread.
        let idle = self.idle.get_mut().map(std::mem::take).unwrap_or_default();
        if !idle.is_empty() {
            let _ = std::thread::spawn(move || drop(idle)).join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_keeps_at_most_its_cap() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("p.db").display().to_string();
        let pool = Pool::new(&target, 2);
        let conns: Vec<Conn> = (0..5).map(|_| pool.get().unwrap()).collect();
        for c in conns {
            pool.put(c);
        }
        assert_eq!(pool.idle(), 2);
    }
}
