//! Monero's block-wise Base58.
//!
//! Monero does not use Bitcoin's whole-number Base58: it cuts the data into 8-byte blocks and
//! writes each as exactly 11 characters (a shorter last block uses fewer, per
//! `ENCODED_BLOCK_SIZES`), so leading zero bytes do not change the length. Written here because
//! no maintained crate decodes it without pulling in a wallet library. Format reference:
//! monero-project/monero `src/common/base58.cpp`.

const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
/// Characters used to encode a block of 0..=8 bytes.
const ENCODED_BLOCK_SIZES: [usize; 9] = [0, 2, 3, 5, 6, 7, 9, 10, 11];
const FULL_BLOCK: usize = 8;
const FULL_ENCODED_BLOCK: usize = 11;

fn digit(c: u8) -> Option<u64> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u64)
}

/// Decodes Monero Base58 text; `None` when a character or a block is not valid.
pub fn decode(s: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    let full = bytes.len() / FULL_ENCODED_BLOCK;
    let last = bytes.len() % FULL_ENCODED_BLOCK;
    let last_size = ENCODED_BLOCK_SIZES.iter().position(|&n| n == last)?;
    let mut out = Vec::with_capacity(full * FULL_BLOCK + last_size);
    for chunk in bytes.chunks(FULL_ENCODED_BLOCK) {
        let size = if chunk.len() == FULL_ENCODED_BLOCK {
            FULL_BLOCK
        } else {
            last_size
        };
        let mut num: u128 = 0;
        for &c in chunk {
            num = num * 58 + u128::from(digit(c)?);
        }
        if size < FULL_BLOCK && num >> (8 * size) != 0 {
            return None;
        }
        if num > u128::from(u64::MAX) {
            return None;
        }
        let be = (num as u64).to_be_bytes();
        out.extend_from_slice(be.get(FULL_BLOCK.checked_sub(size)?..)?);
    }
    Some(out)
}

/// Encodes bytes as Monero Base58 (used by tests and the capture generator).
pub fn encode(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(FULL_BLOCK) {
        let mut num = chunk.iter().fold(0u64, |a, &b| (a << 8) | u64::from(b));
        // `chunks(FULL_BLOCK)` yields 1..=8 bytes; the table has a size for each.
        let n = ENCODED_BLOCK_SIZES.get(chunk.len()).copied().unwrap_or(0);
        let mut buf = vec![b'1'; n];
        for slot in buf.iter_mut().rev() {
            *slot = ALPHABET.get((num % 58) as usize).copied().unwrap_or(b'1');
            num /= 58;
        }
        out.push_str(std::str::from_utf8(&buf).unwrap_or_default());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_any_length() {
        for len in 0..40usize {
            let data: Vec<u8> = (0..len as u8).map(|i| i.wrapping_mul(37) ^ 0xa5).collect();
            let text = encode(&data);
            assert_eq!(decode(&text), Some(data), "len {len}");
        }
    }

    #[test]
    fn rejects_bad_characters_and_lengths() {
        assert_eq!(decode("0OIl"), None);
        // 1 or 4 characters is no valid last block.
        assert_eq!(decode("2"), None);
        assert_eq!(decode("2222"), None);
    }
}
