//! Blocks from Bitcoin Core's block directory (`blk*.dat`, with `xor.dat` obfuscation), from
//! files of raw or hex blocks, and from block-record files.
//!
//! Core writes `magic | size (u32 LE) | block` records in arrival order, in files grown in
//! 16 MiB chunks that end in zero padding; since Core 28 every byte at file offset p is XORed with
//! `key[p mod 8]` from `xor.dat` (docs/FACTS.md §C1). A record cut short (the file was being written)
//! is a warning; a record with another magic or an absurd size is an error naming the file and
//! offset, and that file is read no further.

use std::path::{Path, PathBuf};
use thiserror::Error;

/// The largest block a record may hold (the 4 MWU weight limit bounds the size at 4,000,000
/// bytes; twice that is certainly corruption).
pub const MAX_BLOCK: usize = 8_000_000;

/// Networks by their record magic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Net {
    /// Bitcoin mainnet (`f9beb4d9`).
    Main,
    /// testnet3 (`0b110907`).
    Testnet3,
    /// testnet4 (`1c163f28`).
    Testnet4,
    /// signet (`0a03cf40`).
    Signet,
    /// regtest (`fabfb5da`).
    Regtest,
}

impl Net {
    /// The network of a record magic.
    pub fn from_magic(m: [u8; 4]) -> Option<Net> {
        match m {
            [0xf9, 0xbe, 0xb4, 0xd9] => Some(Net::Main),
            [0x0b, 0x11, 0x09, 0x07] => Some(Net::Testnet3),
            [0x1c, 0x16, 0x3f, 0x28] => Some(Net::Testnet4),
            [0x0a, 0x03, 0xcf, 0x40] => Some(Net::Signet),
            [0xfa, 0xbf, 0xb5, 0xda] => Some(Net::Regtest),
            _ => None,
        }
    }

    /// The rust-bitcoin network, for address encoding.
    pub fn network(self) -> bitcoin::Network {
        match self {
            Net::Main => bitcoin::Network::Bitcoin,
            Net::Testnet3 => bitcoin::Network::Testnet,
            Net::Testnet4 => bitcoin::Network::Testnet4,
            Net::Signet => bitcoin::Network::Signet,
            Net::Regtest => bitcoin::Network::Regtest,
        }
    }
}

/// Where a block was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The file.
    pub file: PathBuf,
    /// Byte offset of the record (or of the block in a raw file), or the line of a hex file.
    pub offset: u64,
}

/// Reading failures.
#[derive(Debug, Error)]
pub enum ReadError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// `xor.dat` is not an 8-byte key.
    #[error("{path}: xor.dat must hold exactly 8 bytes, it holds {len}")]
    BadXorKey {
        /// The key file.
        path: PathBuf,
        /// Its length.
        len: u64,
    },
    /// A record that is not a block record.
    #[error("{path}: byte offset {offset}: {what}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Offset of the record.
        offset: u64,
        /// What is wrong.
        what: String,
    },
    /// The file shrank while it was read: records from the offset on are not the file's.
    #[error("{path}: the file shrank while it was read: bytes from offset {offset} are gone")]
    Shrunk {
        /// The file.
        path: PathBuf,
        /// The first byte lost.
        offset: u64,
    },
    /// Nothing to read.
    #[error("{path}: no blk*.dat files")]
    Empty {
        /// The folder.
        path: PathBuf,
    },
}

/// What reading a source came to, besides the blocks.
#[derive(Debug, Default)]
pub struct ReadReport {
    /// Blocks delivered.
    pub blocks: u64,
    /// Files ending inside a record: (file, offset, declared size, bytes present).
    pub truncated: Vec<(PathBuf, u64, u64, u64)>,
    /// Files read no further because of a corrupt record.
    pub errors: Vec<ReadError>,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> ReadError + '_ {
    move |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The key in `xor.dat` beside the block files, or all zeros when there is none.
pub fn xor_key(dir: &Path) -> Result<[u8; 8], ReadError> {
    let p = dir.join("xor.dat");
    match std::fs::read(&p) {
        Ok(b) if b.len() == 8 => Ok(b.try_into().unwrap_or([0; 8])),
        Ok(b) => Err(ReadError::BadXorKey {
            path: p,
            len: b.len() as u64,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok([0; 8]),
        Err(e) => Err(io(&p)(e)),
    }
}

/// The `blkNNNNN.dat` files of a block directory, in file-number order.
pub fn blk_files(dir: &Path) -> Result<Vec<PathBuf>, ReadError> {
    let mut v: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter_map(|p| {
            let n = p.file_name()?.to_str()?;
            let num = n.strip_prefix("blk")?.strip_suffix(".dat")?.parse().ok()?;
            Some((num, p))
        })
        .collect();
    v.sort();
    if v.is_empty() {
        return Err(ReadError::Empty {
            path: dir.to_path_buf(),
        });
    }
    Ok(v.into_iter().map(|(_, p)| p).collect())
}

/// Reads a whole file and removes the XOR obfuscation (offsets from the file's start).
pub fn read_deobfuscated(path: &Path, key: &[u8; 8]) -> Result<Vec<u8>, ReadError> {
    let mut b = std::fs::read(path).map_err(io(path))?;
    if key.iter().any(|k| *k != 0) {
        for (x, k) in b.iter_mut().zip(key.iter().cycle()) {
            *x ^= k;
        }
    }
    Ok(b)
}

/// A block file mapped into memory with its xor key. Blocks are sliced from the map and
/// deobfuscated one at a time when there is a key, so reading headers touches only the pages
/// that hold them and no pass copies a whole file.
pub struct BlockFile {
    bytes: minewatch_mapped::MappedFile,
    key: [u8; 8],
}

impl BlockFile {
    /// Maps a block file.
    pub fn open(path: &Path, key: [u8; 8]) -> Result<BlockFile, ReadError> {
        // Core appends to its newest block file while it runs; a record cut short by that
        // reads as truncated and is reported. A file shrinking under the map (rewritten by a
        // reindex) reads as zeros past the cut instead of ending the process, and the loss is
        // reported (minewatch_mapped).
        let bytes = minewatch_mapped::MappedFile::open(path).map_err(io(path))?;
        Ok(BlockFile { bytes, key })
    }

    /// The file's bytes as stored (still obfuscated when there is a key).
    fn raw(&self) -> &[u8] {
        self.bytes.bytes()
    }

    /// `len` bytes from offset `from`, deobfuscated (borrowed from the map without a key).
    pub fn slice(&self, from: usize, len: usize) -> Option<std::borrow::Cow<'_, [u8]>> {
        let end = from.checked_add(len)?;
        let b = self.raw().get(from..end)?;
        if !self.bytes.intact_to(end as u64) {
            return None;
        }
        if self.key == [0; 8] {
            return Some(std::borrow::Cow::Borrowed(b));
        }
        Some(std::borrow::Cow::Owned(
            b.iter()
                .zip(self.key.iter().cycle().skip(from % 8))
                .map(|(x, k)| x ^ k)
                .collect(),
        ))
    }

    /// Walks the file's records: each block's network, the offset of its record and its size.
    pub fn records(
        &self,
        path: &Path,
        report: &mut ReadReport,
        f: &mut dyn FnMut(Net, u64, usize),
    ) {
        walk(path, self.raw(), &self.key, report, f);
        if let Some(offset) = self.bytes.lost_from().or_else(|| self.bytes.shrunk_to()) {
            report.errors.push(ReadError::Shrunk {
                path: path.to_path_buf(),
                offset,
            });
        }
    }
}

/// Walks the records of one block file's bytes, handing each block's bytes and offset to `f`.
pub fn records(
    path: &Path,
    bytes: &[u8],
    report: &mut ReadReport,
    f: &mut dyn FnMut(Net, u64, &[u8]),
) {
    walk(path, bytes, &[0; 8], report, &mut |net, at, size| {
        // The walk has checked the record lies within the bytes.
        let at = at as usize;
        if let Some(block) = bytes.get(at + 8..at + 8 + size) {
            f(net, at as u64, block);
        }
    });
}

/// The record walk over bytes obfuscated with `key` (all zeros: none): only each record's
/// eight-byte preamble is deobfuscated here.
fn walk(
    path: &Path,
    bytes: &[u8],
    key: &[u8; 8],
    report: &mut ReadReport,
    f: &mut dyn FnMut(Net, u64, usize),
) {
    let mut at = 0usize;
    while let Some(raw) = bytes.get(at..).filter(|r| !r.is_empty()) {
        let mut pre = [0u8; 8];
        for ((p, b), k) in pre.iter_mut().zip(raw).zip(key.iter().cycle().skip(at % 8)) {
            *p = b ^ k;
        }
        if raw.len() < 8 {
            if pre.iter().take(raw.len()).any(|b| *b != 0) {
                report
                    .truncated
                    .push((path.to_path_buf(), at as u64, 0, raw.len() as u64));
            }
            return;
        }
        let [m0, m1, m2, m3, s0, s1, s2, s3] = pre;
        let magic = [m0, m1, m2, m3];
        if magic == [0; 4] {
            // Pre-allocated zero padding: the end of the written part.
            return;
        }
        let Some(net) = Net::from_magic(magic) else {
            report.errors.push(ReadError::Corrupt {
                path: path.to_path_buf(),
                offset: at as u64,
                what: format!(
                    "no block-record magic (found {}); a wrong xor.dat key reads like this",
                    hex::encode(magic)
                ),
            });
            return;
        };
        let size = u32::from_le_bytes([s0, s1, s2, s3]) as usize;
        if !(81..=MAX_BLOCK).contains(&size) {
            report.errors.push(ReadError::Corrupt {
                path: path.to_path_buf(),
                offset: at as u64,
                what: format!("record size {size} is not a block's"),
            });
            return;
        }
        if raw.len() < 8 + size {
            report.truncated.push((
                path.to_path_buf(),
                at as u64,
                size as u64,
                (raw.len() - 8) as u64,
            ));
            return;
        }
        report.blocks += 1;
        f(net, at as u64, size);
        at += 8 + size;
    }
}

/// How a single file holds its blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// Block records (`magic | size | block`).
    Records,
    /// Hex text, one block per line.
    Hex,
    /// One raw serialized block.
    Raw,
}

/// The kind of a block file, from its first bytes.
pub fn sniff(bytes: &[u8]) -> FileKind {
    if let Some(&magic) = bytes.first_chunk::<4>()
        && Net::from_magic(magic).is_some()
    {
        FileKind::Records
    } else if bytes
        .iter()
        .take(160)
        .all(|b| b.is_ascii_hexdigit() || b.is_ascii_whitespace())
        && bytes.len() >= 160
    {
        FileKind::Hex
    } else {
        FileKind::Raw
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(magic: [u8; 4], body: &[u8]) -> Vec<u8> {
        let mut r = magic.to_vec();
        r.extend_from_slice(&(body.len() as u32).to_le_bytes());
        r.extend_from_slice(body);
        r
    }

    #[test]
    fn records_padding_truncation_and_bad_magic() {
        let main = [0xf9, 0xbe, 0xb4, 0xd9];
        let mut b = record(main, &[1u8; 100]);
        b.extend(record(main, &[2u8; 120]));
        b.extend([0u8; 64]);
        let mut rep = ReadReport::default();
        let mut seen = Vec::new();
        records(
            Path::new("blk00000.dat"),
            &b,
            &mut rep,
            &mut |n, off, blk| seen.push((n, off, blk.len())),
        );
        assert_eq!(seen, vec![(Net::Main, 0, 100), (Net::Main, 108, 120)]);
        assert!(rep.truncated.is_empty() && rep.errors.is_empty());

        let cut = &record(main, &[3u8; 200])[..150];
        let mut rep = ReadReport::default();
        records(Path::new("f"), cut, &mut rep, &mut |_, _, _| {});
        assert_eq!(rep.truncated, vec![(PathBuf::from("f"), 0, 200, 142)]);

        let mut rep = ReadReport::default();
        records(
            Path::new("f"),
            &record([1, 2, 3, 4], &[0u8; 100]),
            &mut rep,
            &mut |_, _, _| {},
        );
        assert!(
            rep.errors[0]
                .to_string()
                .contains("byte offset 0: no block-record magic"),
            "{}",
            rep.errors[0]
        );
    }

    #[test]
    fn xor_keys() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(xor_key(d.path()).unwrap(), [0; 8]);
        std::fs::write(d.path().join("xor.dat"), [1, 2, 3]).unwrap();
        assert!(
            xor_key(d.path())
                .unwrap_err()
                .to_string()
                .contains("exactly 8 bytes")
        );
        let key = [0xea, 0x8f, 0x28, 0x7a, 0xce, 0x2a, 0xf8, 0xa5];
        std::fs::write(d.path().join("xor.dat"), key).unwrap();
        std::fs::write(
            d.path().join("blk00000.dat"),
            [0xf9 ^ 0xea, 0xbe ^ 0x8f, 0xb4 ^ 0x28, 0xd9 ^ 0x7a],
        )
        .unwrap();
        let k = xor_key(d.path()).unwrap();
        assert_eq!(
            read_deobfuscated(&d.path().join("blk00000.dat"), &k).unwrap(),
            [0xf9, 0xbe, 0xb4, 0xd9]
        );
    }

    #[test]
    fn a_mapped_obfuscated_file_walks_like_its_plain_bytes() {
        let main = [0xf9, 0xbe, 0xb4, 0xd9];
        let mut plain = record(main, &(0..100).collect::<Vec<u8>>());
        plain.extend(record(main, &[7u8; 90]));
        plain.extend(&record(main, &[3u8; 200])[..150]);
        let key = [0xea, 0x8f, 0x28, 0x7a, 0xce, 0x2a, 0xf8, 0xa5];
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("blk00000.dat");
        let hidden: Vec<u8> = plain
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ key[i % 8])
            .collect();
        std::fs::write(&path, &hidden).unwrap();
        let file = BlockFile::open(&path, key).unwrap();
        let (mut rep, mut seen) = (ReadReport::default(), Vec::new());
        file.records(&path, &mut rep, &mut |n, off, size| {
            seen.push((
                n,
                off,
                file.slice(off as usize + 8, size).unwrap().into_owned(),
            ))
        });
        let (mut want_rep, mut want) = (ReadReport::default(), Vec::new());
        records(&path, &plain, &mut want_rep, &mut |n, off, b| {
            want.push((n, off, b.to_vec()))
        });
        assert_eq!(seen, want);
        assert_eq!(seen.len(), 2);
        assert_eq!(rep.truncated, want_rep.truncated);
        assert_eq!(rep.truncated, vec![(path.clone(), 206, 200, 142)]);
        // A wrong key reads as a missing magic, at the record's offset.
        let wrong = BlockFile::open(&path, [1; 8]).unwrap();
        let mut rep = ReadReport::default();
        wrong.records(&path, &mut rep, &mut |_, _, _| {});
        assert!(
            rep.errors[0].to_string().contains("wrong xor.dat key"),
            "{}",
            rep.errors[0]
        );
        // An empty file has no records and maps without error.
        std::fs::write(d.path().join("blk00001.dat"), b"").unwrap();
        let empty = BlockFile::open(&d.path().join("blk00001.dat"), key).unwrap();
        let mut rep = ReadReport::default();
        empty.records(&path, &mut rep, &mut |_, _, _| panic!("no records"));
        assert_eq!(rep.blocks, 0);
    }
}
