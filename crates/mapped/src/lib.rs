//! Read-only file maps that survive the file shrinking under them.
//!
//! A scan reads captures, meter files and block files through a memory map: no copy, and the
//! kernel's read-ahead. A mapped file that is truncated while it is read (a `tcpdump -W` ring
//! rotating onto the file being scanned, a log rotation, a node rewriting a block file) turns
//! every later touch of the lost pages into `SIGBUS`, which ends the process. Reading without a
//! map would trade that for a copy of every byte and would break the readers that lend packets
//! out of the file to worker threads, so this crate keeps the map and handles the signal:
//!
//! - every live map registers its address range in a fixed table (no allocation, so the
//!   handler may read it);
//! - a `SIGBUS` handler, installed once, looks the faulting address up; inside a registered
//!   map it puts a page of zeros over the lost page (`mmap` with `MAP_FIXED`, a plain system
//!   call) and records the lowest lost offset, then returns, and the faulting read completes
//!   with zeros;
//! - outside every registered map it hands the signal to the handler that was there before, or
//!   restores the default action so that the fault ends the process as it would have.
//!
//! Readers ask [`MappedFile::intact_to`] for each record (a read of the byte after the record's
//! page and one relaxed atomic load) and stop with an error naming the offset: nothing read
//! past it is believed. [`MappedFile::shrunk_to`] (one `fstat`) catches a cut inside the map's
//! last page, which no fault shows.

use std::fs::File;
use std::io;
use std::path::Path;

// The handler saves errno through glibc's and musl's `__errno_location`: Linux only; elsewhere
// a map is unguarded, as memmap2's own are.
#[cfg(target_os = "linux")]
mod guard;

/// A read-only map of a whole file, guarded against the file shrinking under it.
pub struct MappedFile {
    map: Option<memmap2::Mmap>,
    file: File,
    #[cfg(target_os = "linux")]
    slot: Option<guard::Slot>,
}

impl MappedFile {
    /// Maps the file at `path` (an empty file maps to no bytes).
    pub fn open(path: &Path) -> io::Result<MappedFile> {
        MappedFile::map(File::open(path)?)
    }

    /// Maps an open file.
    pub fn map(file: File) -> io::Result<MappedFile> {
        if file.metadata()?.len() == 0 {
            return Ok(MappedFile {
                map: None,
                file,
                #[cfg(target_os = "linux")]
                slot: None,
            });
        }
        // SAFETY: a read-only shared view of the file; we never write through it. The bytes
        // behind the slice can change if another process rewrites the file (every reader
        // treats them as untrusted input), and fail if it shrinks, which the guard registered
        // below catches (on Linux) before any byte of the map is read.
        let map = unsafe { memmap2::Mmap::map(&file) }?;
        #[cfg(target_os = "linux")]
        {
            let slot = guard::register(map.as_ptr() as usize, map.len())?;
            Ok(MappedFile {
                map: Some(map),
                file,
                slot: Some(slot),
            })
        }
        #[cfg(not(target_os = "linux"))]
        Ok(MappedFile {
            map: Some(map),
            file,
        })
    }

    /// The file's bytes.
    pub fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }

    /// The offset from which the file's pages were lost (the file shrank while mapped), if
    /// they were: bytes from there on read as zeros and are not the file's.
    pub fn lost_from(&self) -> Option<u64> {
        #[cfg(target_os = "linux")]
        {
            self.slot.as_ref().and_then(guard::Slot::lost_from)
        }
        #[cfg(not(target_os = "linux"))]
        None
    }

    /// Whether the bytes up to `end` are still the file's. A page is known lost only once it
    /// is touched, and the page that holds a new end of file reads as zeros past it without a
    /// fault; so this touches the page after `end`'s own, and takes the page before the first
    /// lost one as lost too. One read of a byte that the reader's next record usually shares.
    pub fn intact_to(&self, end: u64) -> bool {
        let Some(m) = &self.map else { return true };
        #[cfg(target_os = "linux")]
        {
            let page = guard::page() as u64;
            // Pages come in powers of two: a mask, not a division (a division for every
            // packet was 0.4 % of a scan of real traffic's instructions, docs/PERFORMANCE.md).
            let probe = if page.is_power_of_two() {
                end.checked_add(page - 1).map(|e| e & !(page - 1))
            } else {
                end.checked_next_multiple_of(page)
            };
            if let Some(probe) = probe
                && let Ok(probe) = usize::try_from(probe)
                && let Some(byte) = m.get(probe)
            {
                // SAFETY: a reference into the live map; the read may fault, which the guard
                // resolves with a zero page.
                unsafe { std::ptr::read_volatile(byte) };
            }
            match self.lost_from() {
                None => end <= m.len() as u64,
                Some(at) => end <= at.saturating_sub(page),
            }
        }
        #[cfg(not(target_os = "linux"))]
        {
            end <= m.len() as u64
        }
    }

    /// Whether the file on disk is now shorter than the map (checked with one `fstat`): the
    /// loss inside a map's last page, which no fault shows.
    pub fn shrunk_to(&self) -> Option<u64> {
        let now = self.file.metadata().ok()?.len();
        (now < self.bytes().len() as u64).then_some(now)
    }

    /// Tells the kernel the map will be read front to back.
    pub fn advise_sequential(&self) {
        #[cfg(unix)]
        if let Some(m) = &self.map {
            let _ = m.advise(memmap2::Advice::Sequential);
        }
    }

    /// Drops the pages of `from..from + len` from this process's resident set. They stay in
    /// the page cache and read back identically, so no byte anyone reads changes; it keeps the
    /// resident set of a front-to-back reading of a file larger than memory flat.
    pub fn release(&self, from: usize, len: usize) {
        #[cfg(unix)]
        if let Some(m) = &self.map
            && len > 0
            && from.checked_add(len).is_some_and(|end| end <= m.len())
        {
            // SAFETY: a read-only, file-backed map: MADV_DONTNEED discards nothing that cannot
            // be read back from the file (or, past a loss, from the guard's zero pages).
            unsafe {
                let _ = m.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, from, len);
            }
        }
    }
}

impl Drop for MappedFile {
    fn drop(&mut self) {
        // The range leaves the table before it is unmapped: a fault in it after this point
        // cannot happen (nothing borrows the map any more).
        #[cfg(target_os = "linux")]
        drop(self.slot.take());
        drop(self.map.take());
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::io::Write;

    fn page() -> usize {
        // SAFETY: sysconf has no preconditions.
        usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096)
    }

    /// The file shrinks to a third while mapped: reading the whole map completes, the lost
    /// part reads as zeros, and the map says from where. Without the guard this test dies of
    /// SIGBUS.
    #[test]
    fn a_file_truncated_under_the_map_reads_zeros_past_the_cut_and_says_where() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ring.pcap");
        let pages = 12;
        let mut f = File::create(&path).unwrap();
        f.write_all(&vec![0xabu8; pages * page()]).unwrap();
        drop(f);
        let m = MappedFile::open(&path).unwrap();
        assert_eq!(m.lost_from(), None);
        let keep = 4 * page() + 100;
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(keep as u64)
            .unwrap();
        let b = m.bytes();
        let sum: u64 = b.iter().map(|&x| u64::from(x)).sum();
        // The kept bytes, and the zero-filled rest of their page, read as the file has them.
        assert_eq!(sum, keep as u64 * 0xab);
        let lost = m.lost_from().unwrap();
        assert_eq!(
            lost,
            (5 * page()) as u64,
            "the first page wholly past the cut"
        );
        // A second map of another file is not disturbed, and its own loss is its own.
        let other = dir.path().join("other");
        std::fs::write(&other, vec![1u8; 3 * page()]).unwrap();
        let m2 = MappedFile::open(&other).unwrap();
        assert_eq!(
            m2.bytes().iter().map(|&x| u64::from(x)).sum::<u64>(),
            3 * page() as u64
        );
        assert_eq!(m2.lost_from(), None);
    }

    /// Threads reading maps that shrink, at once: each fault is resolved on its own thread.
    #[test]
    fn faults_on_several_threads_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let maps: Vec<(std::path::PathBuf, MappedFile)> = (0..4)
            .map(|i| {
                let p = dir.path().join(format!("f{i}"));
                std::fs::write(&p, vec![7u8; 64 * page()]).unwrap();
                let m = MappedFile::open(&p).unwrap();
                (p, m)
            })
            .collect();
        for (p, _) in &maps {
            std::fs::OpenOptions::new()
                .write(true)
                .open(p)
                .unwrap()
                .set_len(0)
                .unwrap();
        }
        std::thread::scope(|s| {
            for (_, m) in &maps {
                s.spawn(move || {
                    let sum: u64 = m.bytes().iter().map(|&x| u64::from(x)).sum();
                    assert_eq!(sum, 0);
                    assert_eq!(m.lost_from(), Some(0));
                });
            }
        });
    }

    #[test]
    fn empty_files_map_to_no_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("empty");
        std::fs::write(&p, b"").unwrap();
        let m = MappedFile::open(&p).unwrap();
        assert!(m.bytes().is_empty());
        assert_eq!(m.lost_from(), None);
    }
}
