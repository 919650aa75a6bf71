//! Writing Bitcoin Core block files: records of magic, length and block (docs/FACTS.md §C1),
//! in one file or rolled over as Core does at 128 MiB. The one writer of the project: the node
//! fetcher (`rpc`), the test builders (`synth`) and `minewatch chain generate` all use it.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Bitcoin Core starts a new block file past this size.
pub const MAX_FILE_BYTES: u64 = 128 << 20;

/// Writes one record: `magic`, the block's length (u32, little-endian), the block.
pub fn write_record(w: &mut dyn Write, magic: [u8; 4], block: &[u8]) -> io::Result<()> {
    let len = u32::try_from(block.len()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("a block of {} bytes does not fit a record", block.len()),
        )
    })?;
    w.write_all(&magic)?;
    w.write_all(&len.to_le_bytes())?;
    w.write_all(block)
}

/// Block files `blk00000.dat`, `blk00001.dat`… in a folder, a new one when the next record would
/// pass [`MAX_FILE_BYTES`].
pub struct BlockDir {
    dir: PathBuf,
    magic: [u8; 4],
    files: u32,
    written: u64,
    w: Option<BufWriter<std::fs::File>>,
}

impl BlockDir {
    /// Block files for `magic` in `dir` (which must exist).
    pub fn new(dir: &Path, magic: [u8; 4]) -> BlockDir {
        BlockDir {
            dir: dir.to_path_buf(),
            magic,
            files: 0,
            written: 0,
            w: None,
        }
    }

    /// Appends a block.
    pub fn push(&mut self, block: &[u8]) -> io::Result<()> {
        let need = block.len() as u64 + 8;
        if self.w.is_none() || self.written + need > MAX_FILE_BYTES {
            if let Some(mut old) = self.w.take() {
                old.flush()?;
            }
            let path = self.dir.join(format!("blk{:05}.dat", self.files));
            self.files += 1;
            self.w = Some(BufWriter::new(std::fs::File::create(path)?));
            self.written = 0;
        }
        if let Some(w) = self.w.as_mut() {
            write_record(w, self.magic, block)?;
        }
        self.written += need;
        Ok(())
    }

    /// Flushes the last file; the number of files written.
    pub fn finish(mut self) -> io::Result<u32> {
        if let Some(mut w) = self.w.take() {
            w.flush()?;
        }
        Ok(self.files)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_roll_over_into_new_files() {
        let d = tempfile::tempdir().unwrap();
        let mut b = BlockDir::new(d.path(), [0xfa, 0xbf, 0xb5, 0xda]);
        // Two records of this size fill a file exactly; the third starts the next.
        let size = (MAX_FILE_BYTES / 2 - 8) as usize;
        let big = vec![7u8; size];
        for _ in 0..3 {
            b.push(&big).unwrap();
        }
        assert_eq!(b.finish().unwrap(), 2);
        let first = std::fs::read(d.path().join("blk00000.dat")).unwrap();
        assert_eq!(first.len() as u64, MAX_FILE_BYTES);
        assert_eq!(&first[..4], &[0xfa, 0xbf, 0xb5, 0xda]);
        assert_eq!(
            u32::from_le_bytes(first[4..8].try_into().unwrap()) as usize,
            size
        );
        let second = std::fs::metadata(d.path().join("blk00001.dat"))
            .unwrap()
            .len();
        assert_eq!(second, MAX_FILE_BYTES / 2);
    }
}
