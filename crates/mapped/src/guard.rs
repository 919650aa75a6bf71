//! The `SIGBUS` guard: a fixed table of live maps and the handler that reads it.
//!
//! The handler runs in signal context, so it touches only atomics and makes only system calls
//! (`mmap`, `sigaction`); the table is a static array so that nothing is allocated or locked.

use std::ffi::c_void;
use std::io;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};

/// Maps that can be guarded at once. A scan holds one capture map at a time per file being
/// read; past this many, opening another map is refused with an error rather than unguarded.
pub const SLOTS: usize = 256;

const FREE: u8 = 0;
const CLAIMED: u8 = 1;
const LIVE: u8 = 2;
const NOT_LOST: u64 = u64::MAX;

struct Entry {
    state: AtomicU8,
    start: AtomicUsize,
    len: AtomicUsize,
    lost: AtomicU64,
}

#[allow(clippy::declare_interior_mutable_const)] // used only to build the array below
const EMPTY: Entry = Entry {
    state: AtomicU8::new(FREE),
    start: AtomicUsize::new(0),
    len: AtomicUsize::new(0),
    lost: AtomicU64::new(NOT_LOST),
};

static TABLE: [Entry; SLOTS] = [EMPTY; SLOTS];
static PAGE: AtomicUsize = AtomicUsize::new(0);
/// The action that was in place before ours, handed the faults that are not ours.
static PREVIOUS: OnceLock<libc::sigaction> = OnceLock::new();
static INSTALLED: OnceLock<io::Result<()>> = OnceLock::new();

/// The system's page size (known once the first map was registered).
pub fn page() -> usize {
    PAGE.load(Ordering::Relaxed).max(1)
}

/// A registered map; leaving the table on drop.
pub struct Slot(usize);

impl Slot {
    /// The lowest offset lost to a shrink, if any.
    pub fn lost_from(&self) -> Option<u64> {
        let e = TABLE.get(self.0)?;
        match e.lost.load(Ordering::Relaxed) {
            NOT_LOST => None,
            at => Some(at),
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(e) = TABLE.get(self.0) {
            e.state.store(FREE, Ordering::Release);
        }
    }
}

/// Registers the map at `start..start + len` (installing the handler the first time).
pub fn register(start: usize, len: usize) -> io::Result<Slot> {
    install()?;
    for (i, e) in TABLE.iter().enumerate() {
        if e.state
            .compare_exchange(FREE, CLAIMED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
        {
            e.start.store(start, Ordering::Relaxed);
            e.len.store(len, Ordering::Relaxed);
            e.lost.store(NOT_LOST, Ordering::Relaxed);
            e.state.store(LIVE, Ordering::Release);
            return Ok(Slot(i));
        }
    }
    Err(io::Error::other(format!(
        "more than {SLOTS} files mapped at once: refusing to map another without its guard"
    )))
}

fn install() -> io::Result<()> {
    let r = INSTALLED.get_or_init(|| {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        let page = usize::try_from(page)
            .ok()
            .filter(|p| p.is_power_of_two())
            .ok_or_else(|| io::Error::other("the system reports no page size"))?;
        PAGE.store(page, Ordering::Relaxed);
        // SAFETY: a zeroed sigaction is a valid value to be filled in; querying the current
        // action changes nothing.
        let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
        if unsafe { libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut old) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let _ = PREVIOUS.set(old);
        // SAFETY: as above; the handler below is async-signal-safe (atomics and syscalls).
        let mut new: libc::sigaction = unsafe { std::mem::zeroed() };
        new.sa_sigaction = on_sigbus as extern "C" fn(_, _, _) as usize;
        new.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
        unsafe { libc::sigemptyset(&mut new.sa_mask) };
        if unsafe { libc::sigaction(libc::SIGBUS, &new, std::ptr::null_mut()) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    });
    match r {
        Ok(()) => Ok(()),
        Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
    }
}

extern "C" fn on_sigbus(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut c_void) {
    // SAFETY: the kernel hands a valid siginfo to an SA_SIGINFO handler.
    let addr = unsafe { (*info).si_addr() } as usize;
    if cover(addr) {
        return;
    }
    pass_on(sig, info, ctx);
}

/// Puts a zero page over the lost page at `addr` if it lies in a guarded map.
fn cover(addr: usize) -> bool {
    let page = PAGE.load(Ordering::Relaxed);
    for e in &TABLE {
        if e.state.load(Ordering::Acquire) != LIVE {
            continue;
        }
        let start = e.start.load(Ordering::Relaxed);
        let len = e.len.load(Ordering::Relaxed);
        if addr < start || addr - start >= len {
            continue;
        }
        let at = addr & !(page - 1);
        // SAFETY: `at` is a page of a live, read-only map of ours that no longer has a file
        // page behind it; replacing it with an anonymous zero page changes no byte that could
        // still be read from the file. errno is saved around the call for the interrupted code.
        let covered = unsafe {
            let errno = *libc::__errno_location();
            let r = libc::mmap(
                at as *mut c_void,
                page,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            );
            *libc::__errno_location() = errno;
            r != libc::MAP_FAILED
        };
        if covered {
            // Maps start on a page boundary, so `at >= start`.
            e.lost
                .fetch_min(at.saturating_sub(start) as u64, Ordering::Relaxed);
        }
        return covered;
    }
    false
}

/// A fault that is not ours: to the handler that was there before, or, when that was the
/// default action, back to it, so that returning re-runs the faulting access and ends the
/// process as it would have ended without us.
fn pass_on(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut c_void) {
    let prev = PREVIOUS.get().map(|p| (p.sa_sigaction, p.sa_flags));
    match prev {
        Some((h, flags)) if h != libc::SIG_DFL && h != libc::SIG_IGN => {
            if flags & libc::SA_SIGINFO != 0 {
                // SAFETY: the previous action declared itself an SA_SIGINFO handler.
                let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut c_void) =
                    unsafe { std::mem::transmute(h) };
                f(sig, info, ctx);
            } else {
                // SAFETY: the previous action was a plain handler.
                let f: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(h) };
                f(sig);
            }
        }
        _ => {
            // SAFETY: restoring the default action is async-signal-safe.
            unsafe {
                let mut dfl: libc::sigaction = std::mem::zeroed();
                dfl.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(libc::SIGBUS, &dfl, std::ptr::null_mut());
            }
        }
    }
}
