//! A one-pass reader of a Stratum line's JSON, meaning exactly what serde_json means by it.
//!
//! Why not serde_json: through its `Deserializer`, every string of a line was looked at three
//! times (a scan for its end, a UTF-8 check, then our own hex check), every value went through
//! a visitor, and the message under construction (about 200 bytes) was moved by `memcpy` at each
//! level it was handed up. On a scan of real traffic the parse was a fifth of the whole run
//! (docs/PERFORMANCE.md). Here a string's end is found sixteen bytes a step, in the same step
//! as whether it is plain ASCII (only a string that is not needs a UTF-8 check), and a value
//! is built where it will stay, in the arena the caller hands over.
//!
//! What it accepts and refuses is serde_json's, held to it by tests that compare both on real
//! and mutated lines (`parser::tests`; the string search in `tests` here):
//! - grammar of RFC 8259; whitespace is space, tab, CR and LF;
//! - a string that holds an escape, and a number that is not a plain integer, are handed to
//!   serde_json itself, so escapes, surrogates, float rounding and range are its own;
//! - values that are kept (the members a message is made of) may nest 127 deep, as serde_json's
//!   recursion limit of 128 allows; values that are skipped (other members, what is inside a
//!   batch item that is not an object) are walked without recursion and without a limit, and
//!   their strings and numbers only checked for form, as serde_json's `IgnoredAny` does.

use super::json::Json;
use bumpalo::Bump;
use bumpalo::collections::Vec as BumpVec;
use serde_json::Number;

/// serde_json's recursion limit: the nesting level at which a built value is refused.
const LIMIT: usize = 128;

/// Where and why a line is not JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// Byte offset in the line.
    pub at: usize,
    /// What was wrong there.
    pub what: &'static str,
}

impl std::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at byte {}", self.what, self.at)
    }
}

/// A failed read; what and where are kept in the [`Reader`] ([`Reader::error`]). A unit
/// error keeps every result small enough to come back in registers: with the error's offset
/// and text inside, a value or a string came back through memory, written in parts and read
/// whole, and the load waited on the stores (a store-forwarding stall at every member of every
/// line, docs/PERFORMANCE.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fail;

/// What the reader's steps return.
pub(crate) type Res<T> = Result<T, Fail>;

/// The items a container is given room for when it opens; a larger one grows by doubling (most
/// of a Stratum line's arrays hold three to nine). Two keeps a line of small containers within
/// the arena it took when containers were staged and copied out, under 32 times the line (the
/// scanner keeps lines up to 256 KiB, `inspect::MAX_BUFFER`; the arena of a line past 256 KiB
/// is dropped after it): room for four read real traffic's lines 3 % faster and took twice
/// that.
const ROOM: usize = 2;

/// A cursor over one line.
pub(crate) struct Reader<'a> {
    b: &'a [u8],
    /// Where arrays, objects and unescaped strings are kept.
    arena: &'a Bump,
    at: usize,
    /// Why the read failed, set where it failed.
    failed: std::cell::Cell<Option<SyntaxError>>,
}

/// A quote, a backslash or a control character: where a string ends, escapes, or goes wrong.
fn special_byte(c: u8) -> bool {
    (c == b'"') | (c == b'\\') | (c < 0x20)
}

/// `0x0101…01`: one in every byte of a word.
const ONES: u64 = u64::MAX / 255;

/// The high bit of every byte of `w` that is a [`special_byte`], and possibly of bytes above
/// the first such one (a borrow can run upwards), never below it: the lowest bit set is exact.
/// The classic test for a zero byte, `(x - 0x01…) & !x & 0x80…`, applied to `w` with the quote
/// and the backslash cancelled out, and as `w - 0x20…` for the control characters.
fn special_bits(w: u64) -> u64 {
    let zero = |x: u64| x.wrapping_sub(ONES) & !x;
    let control = w.wrapping_sub(ONES * 0x20) & !w;
    (zero(w ^ (ONES * u64::from(b'"'))) | zero(w ^ (ONES * u64::from(b'\\'))) | control)
        & (ONES << 7)
}

/// How much of a string is searched a word at a time before vector search takes over.
const SHORT: usize = 32;

/// The index in `line` of the first [`special_byte`] at or after `from` (inside a string),
/// and whether any byte between is outside ASCII.
///
/// A string's end is mostly a few bytes away (member names, ids, job ids, nonces), sometimes
/// hundreds (coinbase halves, merkle branches, an Equihash solution). On x86_64 the search
/// goes thirty-two bytes a step with AVX2 where the CPU has it (found at run time), then, and
/// on other x86_64 CPUs, sixteen a step with SSE2 (part of every x86_64 CPU), each
/// step testing for the quote, the backslash and the control characters at once; a string
/// shorter than a step is searched within the line's next sixteen bytes all the same, and
/// near the line's end the last sixteen bytes are read and the bits before `from` dropped.
/// Only a line shorter than a step, and other CPUs, take [`special_words`]. Before, a word at
/// a time for 32 bytes and then `memchr` with a separate pass for control characters: the
/// strings' search was 40 % of reading a line (docs/PERFORMANCE.md).
///
/// The ASCII answer comes from the same step: a string without a byte outside ASCII is valid
/// UTF-8 as it stands, so only the others need checking (a check of every line as a whole
/// was 2 % of a scan's instructions).
fn special(line: &[u8], from: usize) -> Option<(usize, bool)> {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, just checked (std caches the answer).
            let (at, flags) = unsafe { avx2_special(line, from) };
            let high = u32::from(flags & HIGH != 0);
            return if flags & FOUND != 0 {
                Some((at, high != 0))
            } else {
                sse2_special(line, at, high)
            };
        }
        sse2_special(line, from, 0)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let tail = line.get(from..).unwrap_or_default();
        special_words(tail).map(|i| (from + i, !ascii(tail.get(..i).unwrap_or_default())))
    }
}

/// [`special`] sixteen bytes a step from `base`, `high_seen` telling whether the bytes
/// searched before it held one outside ASCII.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn sse2_special(line: &[u8], mut base: usize, mut high_seen: u32) -> Option<(usize, bool)> {
    while let Some(block) = line.get(base..base + 16) {
        let (bits, high) = sse2_special_bits(block);
        if bits != 0 {
            return Some(found(base, bits, high, high_seen));
        }
        high_seen |= high;
        base += 16;
    }
    if base >= line.len() {
        return None;
    }
    // Fewer than sixteen bytes left: the line's last sixteen, less those before `base`.
    if let Some(last) = line.len().checked_sub(16)
        && let Some(block) = line.get(last..)
    {
        let skip = base - last;
        let (bits, high) = sse2_special_bits(block);
        let (bits, high) = (bits >> skip, high >> skip);
        return (bits != 0).then(|| found(base, bits, high, high_seen));
    }
    let tail = line.get(base..).unwrap_or_default();
    special_words(tail).map(|i| (base + i, !ascii(tail.get(..i).unwrap_or_default())))
}

/// The first hit of a special byte in a line's block of sixteen or thirty-two, from the
/// block's masks.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn found(base: usize, bits: u32, high: u32, high_seen: u32) -> (usize, bool) {
    let at = bits.trailing_zeros();
    // The high bits of the bytes below the special one.
    let below = high & ((1u32 << at) - 1);
    (base + at as usize, (high_seen | below) != 0)
}

/// [`avx2_special`]'s flag: the special byte was found.
#[cfg(target_arch = "x86_64")]
const FOUND: u32 = 1;
/// [`avx2_special`]'s flag: a byte outside ASCII came before where it stopped.
#[cfg(target_arch = "x86_64")]
const HIGH: u32 = 2;

/// [`special`]'s search thirty-two bytes a step, for CPUs with AVX2 (nearly every x86_64 of
/// the last decade; found at run time): the hex of coinbases, merkle branches and Equihash
/// solutions in half the steps. Where the special byte is, with [`FOUND`] set, or where the
/// search stands (fewer than 32 bytes left), for the 16-byte steps to go on; [`HIGH`] set when
/// a byte outside ASCII came before. Two words, so the answer comes back in registers: as a
/// `Result` of pairs it came back through memory, and the caller's read of it waited on the
/// writes (a stall at every string, docs/PERFORMANCE.md).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn avx2_special(line: &[u8], from: usize) -> (usize, u32) {
    use std::arch::x86_64::{
        _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_min_epu8, _mm256_movemask_epi8,
        _mm256_or_si256, _mm256_set1_epi8,
    };
    let mut base = from;
    let mut high_seen = 0u32;
    while let Some(block) = line.get(base..base + 32) {
        // SAFETY: the unaligned load reads the 32 bytes of `block`.
        let v = unsafe { _mm256_loadu_si256(block.as_ptr().cast()) };
        let quote = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'"' as i8));
        let backslash = _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'\\' as i8));
        // Unsigned `c < 0x20` as `min(c, 0x1f) == c`, as in the 16-byte step.
        let control = _mm256_cmpeq_epi8(_mm256_min_epu8(v, _mm256_set1_epi8(0x1f)), v);
        let special = _mm256_or_si256(_mm256_or_si256(quote, backslash), control);
        let bits = _mm256_movemask_epi8(special) as u32;
        let high = _mm256_movemask_epi8(v) as u32;
        if bits != 0 {
            let (at, wide) = found(base, bits, high, high_seen);
            return (at, FOUND | if wide { HIGH } else { 0 });
        }
        high_seen |= high;
        base += 32;
    }
    (base, if high_seen != 0 { HIGH } else { 0 })
}

/// Whether every byte of `s` is ASCII.
fn ascii(s: &[u8]) -> bool {
    s.iter().all(|&c| c < 0x80)
}

/// One bit per byte of a 16-byte `block`, set where the byte is a [`special_byte`], and one
/// per byte set where the byte is outside ASCII.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn sse2_special_bits(block: &[u8]) -> (u32, u32) {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    debug_assert!(block.len() >= 16);
    // SAFETY: SSE2 is part of every x86_64 CPU; the unaligned load reads the 16 bytes of
    // `block`, which holds at least 16 (its callers take it as `s.get(i..i + 16)`).
    unsafe {
        let v = _mm_loadu_si128(block.as_ptr().cast());
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        // Unsigned `c < 0x20` as `min(c, 0x1f) == c`: SSE2 compares bytes only as signed.
        let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
        let special = _mm_or_si128(_mm_or_si128(quote, backslash), control);
        // The mask of each byte's top bit: set exactly for the bytes outside ASCII.
        (
            _mm_movemask_epi8(special) as u32,
            _mm_movemask_epi8(v) as u32,
        )
    }
}

/// [`special`] without vector instructions: the first [`SHORT`] bytes eight at a time (no
/// call, no set-up); past them the quote or backslash found by `memchr`, and the bytes before
/// it checked for control characters without an early exit, which the compiler vectorises.
fn special_words(s: &[u8]) -> Option<usize> {
    let head = s.get(..SHORT).unwrap_or(s);
    let mut words = head.chunks_exact(8);
    let mut base = 0;
    for w in words.by_ref() {
        let bits = special_bits(u64::from_le_bytes(w.try_into().unwrap_or([0; 8])));
        if bits != 0 {
            return Some(base + bits.trailing_zeros() as usize / 8);
        }
        base += 8;
    }
    if let Some(i) = words.remainder().iter().position(|&c| special_byte(c)) {
        return Some(base + i);
    }
    let rest = s.get(head.len()..).unwrap_or_default();
    let end = memchr::memchr2(b'"', b'\\', rest);
    let before = rest.get(..end.unwrap_or(rest.len())).unwrap_or_default();
    let at = if before.iter().fold(false, |a, &c| a | (c < 0x20)) {
        before.iter().position(|&c| c < 0x20)
    } else {
        end
    };
    at.map(|i| head.len() + i)
}

/// A member name followed by its closing quote as a little-endian word, and the mask of the
/// bytes that word covers.
const fn known(name: &'static str) -> (&'static str, u64, u64) {
    let mut want = 0u64;
    let mut rest = name.as_bytes();
    let mut shift = 0;
    while let [c, tail @ ..] = rest {
        want |= (*c as u64) << shift;
        shift += 8;
        rest = tail;
    }
    want |= (b'"' as u64) << shift;
    (name, u64::MAX >> (56 - shift), want)
}

/// The member names every message uses, for [`Reader::known_name`], by first letter.
const KNOWN: [(&str, u64, u64); 7] = [
    known("id"),
    known("method"),
    known("params"),
    known("result"),
    known("error"),
    known("jsonrpc"),
    known("worker"),
];

/// The bytes a number may be made of; the token is then checked as a whole.
fn numeric(c: u8) -> bool {
    matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
}

impl<'a> Reader<'a> {
    /// A reader at the start of `b`.
    pub(crate) fn new(b: &'a [u8], arena: &'a Bump) -> Reader<'a> {
        Reader {
            b,
            arena,
            at: 0,
            failed: std::cell::Cell::new(None),
        }
    }

    fn err<T>(&self, what: &'static str) -> Res<T> {
        self.failed.set(Some(SyntaxError { at: self.at, what }));
        Err(Fail)
    }

    /// Where and why the read failed, after a step returned [`Fail`].
    pub(crate) fn error(&self) -> SyntaxError {
        self.failed.get().unwrap_or(SyntaxError {
            at: self.at,
            what: "invalid JSON",
        })
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.at).copied()
    }

    /// Skips JSON whitespace and returns the next byte.
    pub(crate) fn ws(&mut self) -> Option<u8> {
        while let Some(c) = self.peek() {
            if !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                return Some(c);
            }
            self.at += 1;
        }
        None
    }

    /// Succeeds when only whitespace is left.
    pub(crate) fn end(&mut self) -> Res<()> {
        match self.ws() {
            None => Ok(()),
            Some(_) => self.err("trailing characters"),
        }
    }

    /// Consumes `c` after whitespace.
    pub(crate) fn expect(&mut self, c: u8, what: &'static str) -> Res<()> {
        if self.ws() == Some(c) {
            self.at += 1;
            Ok(())
        } else {
            self.err(what)
        }
    }

    /// After an item of a container closed by `close`: true for another item (the comma
    /// consumed), false at the end (the closing byte consumed).
    pub(crate) fn more(&mut self, close: u8) -> Res<bool> {
        match self.ws() {
            Some(b',') => {
                self.at += 1;
                Ok(true)
            }
            Some(c) if c == close => {
                self.at += 1;
                Ok(false)
            }
            _ => self.err("expected `,` or the container's end"),
        }
    }

    /// Opens a container: consumes `open` and tells whether it is empty (then its end is
    /// consumed too).
    pub(crate) fn open(&mut self, open: u8, close: u8) -> Res<bool> {
        self.expect(open, "expected a container")?;
        if self.ws() == Some(close) {
            self.at += 1;
            return Ok(true);
        }
        Ok(false)
    }

    /// The end of the string that opens at `self.at` (the index of its closing quote),
    /// whether it holds an escape, and whether it holds a byte outside ASCII. Escapes are
    /// checked for form only.
    fn string_end(&mut self) -> Res<(usize, bool, bool)> {
        let mut i = self.at + 1;
        let mut escaped = false;
        let mut wide = false;
        loop {
            let Some((q, w)) = special(self.b, i) else {
                self.at = self.b.len();
                return self.err("end of line inside a string");
            };
            wide |= w;
            self.at = q;
            match self.peek() {
                Some(b'"') => return Ok((q, escaped, wide)),
                Some(b'\\') => {}
                _ => return self.err("control character inside a string"),
            }
            escaped = true;
            self.at = q + 1;
            match self.peek() {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i = q + 2,
                Some(b'u') => {
                    let hex = self.b.get(q + 2..q + 6).unwrap_or_default();
                    if hex.len() != 4 || !hex.iter().all(u8::is_ascii_hexdigit) {
                        return self.err("invalid \\u escape");
                    }
                    i = q + 6;
                }
                _ => return self.err("invalid escape"),
            }
        }
    }

    /// Reads a string, borrowed from the line when it holds no escape, else decoded into the
    /// arena; UTF-8 checked.
    pub(crate) fn string(&mut self) -> Res<&'a str> {
        let open = self.at;
        let (close, escaped, wide) = self.string_end()?;
        if escaped {
            // Escapes and surrogate pairs decoded as serde_json decodes them.
            let token = self.b.get(open..=close).unwrap_or_default();
            self.at = open;
            let s: String =
                serde_json::from_slice(token).or_else(|_| self.err("invalid escape"))?;
            self.at = close + 1;
            return Ok(self.arena.alloc_str(&s));
        }
        let body = self.b.get(open + 1..close).unwrap_or_default();
        if !wide {
            self.at = close + 1;
            // SAFETY: the search for the string's end saw every byte of the body and found
            // none with its top bit set; bytes under 0x80 are each a UTF-8 character.
            return Ok(unsafe { std::str::from_utf8_unchecked(body) });
        }
        match std::str::from_utf8(body) {
            Ok(s) => {
                self.at = close + 1;
                Ok(s)
            }
            Err(e) => {
                self.at = open + 1 + e.valid_up_to();
                self.err("invalid UTF-8 inside a string")
            }
        }
    }

    /// Reads a member name and the colon after it.
    pub(crate) fn key(&mut self) -> Res<&'a str> {
        if self.ws() != Some(b'"') {
            return self.err("expected a member name");
        }
        let k = match self.known_name() {
            Some(k) => k,
            None => self.string()?,
        };
        self.expect(b':', "expected `:`")?;
        Ok(k)
    }

    /// One of the member names every message uses, when the string at `self.at` is exactly
    /// it (no escape can hide inside: the closing quote follows the letters), consumed.
    /// Member names are half a line's strings, and searching each for its end was 4 % of a
    /// scan of real traffic's instructions (docs/PERFORMANCE.md).
    fn known_name(&mut self) -> Option<&'static str> {
        // The name and its closing quote (at most eight bytes) compared as one word: a call
        // to `memcmp` per member name was 2 % of reading a line. A name within the line's last
        // eight bytes is read the long way.
        let rest = self.b.get(self.at + 1..)?;
        let word = u64::from_le_bytes(rest.get(..8)?.try_into().ok()?);
        let (name, mask, want) = match word as u8 {
            b'i' => KNOWN[0],
            b'm' => KNOWN[1],
            b'p' => KNOWN[2],
            b'r' => KNOWN[3],
            b'e' => KNOWN[4],
            b'j' => KNOWN[5],
            b'w' => KNOWN[6],
            _ => return None,
        };
        if word & mask == want {
            self.at += name.len() + 2;
            Some(name)
        } else {
            None
        }
    }

    /// The extent of the number that starts here, checked for form.
    fn number_token(&mut self) -> Res<&'a [u8]> {
        let start = self.at;
        let b = self.b;
        let len = b
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take_while(|&&c| numeric(c))
            .count();
        let t = b.get(start..start + len).unwrap_or_default();
        if !well_formed_number(t) {
            return self.err("invalid number");
        }
        self.at = start + len;
        Ok(t)
    }

    /// Reads a number: a plain integer directly, anything else by serde_json.
    fn number(&mut self) -> Res<Number> {
        let start = self.at;
        let t = self.number_token()?;
        if t.len() <= 19 && t.iter().all(u8::is_ascii_digit) {
            // Well formed, so no leading zero; 19 digits always fit a u64.
            let n = t.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
            return Ok(Number::from(n));
        }
        serde_json::from_slice(t).or_else(|_| {
            self.at = start;
            self.err("number out of range")
        })
    }

    /// Reads a literal that starts with `lit`'s first byte.
    fn literal(&mut self, lit: &'static [u8]) -> Res<()> {
        if self.b.get(self.at..self.at + lit.len()) == Some(lit) {
            self.at += lit.len();
            Ok(())
        } else {
            self.err("invalid literal")
        }
    }

    /// Reads a value to keep, `depth` levels inside (the line's own value is level 1).
    ///
    /// Inlined where it is called, so that the value is built in the place it goes (a member's
    /// slot, the array being read): returned from a call, it came back through memory written
    /// in parts and was read whole, and the read waited on the writes (a store-forwarding
    /// stall at every value of every line, docs/PERFORMANCE.md). Containers are read by calls
    /// of their own, which return their slice in registers.
    #[inline(always)]
    pub(crate) fn value(&mut self, depth: usize) -> Res<Json<'a>> {
        match self.ws() {
            Some(b'"') => Ok(Json::Str(self.string()?)),
            Some(b'{') => Ok(Json::Obj(self.object(depth)?)),
            Some(b'[') => Ok(Json::Arr(self.array(depth)?)),
            Some(b't') => self.literal(b"true").map(|()| Json::Bool(true)),
            Some(b'f') => self.literal(b"false").map(|()| Json::Bool(false)),
            Some(b'n') => self.literal(b"null").map(|()| Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number().map(Json::Num),
            Some(_) => self.err("expected a value"),
            None => self.err("end of line where a value was expected"),
        }
    }

    /// Reads the object that opens here, `depth` levels inside, into the arena.
    #[inline(never)]
    fn object(&mut self, depth: usize) -> Res<&'a [(&'a str, Json<'a>)]> {
        self.container(depth, (b'{', b'}'), |r| {
            let k = r.key()?;
            Ok((k, r.value(depth + 1)?))
        })
    }

    /// Reads the array that opens here, `depth` levels inside, into the arena.
    #[inline(never)]
    fn array(&mut self, depth: usize) -> Res<&'a [Json<'a>]> {
        self.container(depth, (b'[', b']'), |r| r.value(depth + 1))
    }

    /// The items of the container that opens here with `open` and closes with `close`, each
    /// read by `item`, straight into their own slice of the arena, with [`ROOM`] to start.
    /// Staged on a stack shared by the line and copied out when the container closed, each
    /// value was read back just after it was written, in another width, and the copy waited on
    /// the writes (docs/PERFORMANCE.md).
    #[inline(always)]
    fn container<T>(
        &mut self,
        depth: usize,
        (open, close): (u8, u8),
        mut item: impl FnMut(&mut Self) -> Res<T>,
    ) -> Res<&'a [T]> {
        self.nest(depth)?;
        if self.open(open, close)? {
            return Ok(&[]);
        }
        let mut items = BumpVec::with_capacity_in(ROOM, self.arena);
        loop {
            items.push(item(self)?);
            if !self.more(close)? {
                break;
            }
        }
        Ok(items.into_bump_slice())
    }

    /// Refuses a container at `depth` past serde_json's limit.
    pub(crate) fn nest(&self, depth: usize) -> Res<()> {
        if depth >= LIMIT {
            return self.err("nested too deep");
        }
        Ok(())
    }

    /// Walks over a value nobody keeps, without recursion and without a depth limit; its
    /// strings and numbers are checked for form only (serde_json's `IgnoredAny`).
    pub(crate) fn skip(&mut self) -> Res<()> {
        // The closing byte of each open container, innermost last.
        let mut open: Vec<u8> = Vec::new();
        loop {
            // A value.
            match self.ws() {
                Some(b'"') => {
                    let (close, ..) = self.string_end()?;
                    self.at = close + 1;
                }
                Some(c @ (b'{' | b'[')) => {
                    let close = if c == b'{' { b'}' } else { b']' };
                    self.at += 1;
                    if self.ws() == Some(close) {
                        self.at += 1;
                    } else {
                        open.push(close);
                        if close == b'}' {
                            self.skip_key()?;
                        }
                        continue;
                    }
                }
                Some(b't') => self.literal(b"true")?,
                Some(b'f') => self.literal(b"false")?,
                Some(b'n') => self.literal(b"null")?,
                Some(b'-' | b'0'..=b'9') => {
                    self.number_token()?;
                }
                Some(_) => return self.err("expected a value"),
                None => return self.err("end of line where a value was expected"),
            }
            // After a value: close what ends here, or go on to the next item.
            loop {
                let Some(&close) = open.last() else {
                    return Ok(());
                };
                if self.more(close)? {
                    if close == b'}' {
                        self.skip_key()?;
                    }
                    break;
                }
                open.pop();
            }
        }
    }

    /// A member name in a skipped object: checked for form only, then the colon.
    fn skip_key(&mut self) -> Res<()> {
        if self.ws() != Some(b'"') {
            return self.err("expected a member name");
        }
        let (close, ..) = self.string_end()?;
        self.at = close + 1;
        self.expect(b':', "expected `:`")
    }
}

/// Reads one JSON text into `arena`, the way a Stratum line's members are read.
pub fn value<'a>(text: &'a [u8], arena: &'a Bump) -> Result<Json<'a>, SyntaxError> {
    let mut r = Reader::new(text, arena);
    let read = r.value(1).and_then(|v| r.end().map(|()| v));
    read.map_err(|Fail| r.error())
}

/// RFC 8259's number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
fn well_formed_number(t: &[u8]) -> bool {
    let mut i = 0;
    let at = |i: usize| t.get(i).copied();
    let digits = |mut i: usize| {
        let s = i;
        while at(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
        }
        (i, i > s)
    };
    if at(i) == Some(b'-') {
        i += 1;
    }
    match at(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = digits(i).0,
        _ => return false,
    }
    if at(i) == Some(b'.') {
        let (j, some) = digits(i + 1);
        if !some {
            return false;
        }
        i = j;
    }
    if matches!(at(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(at(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let (j, some) = digits(i);
        if !some {
            return false;
        }
        i = j;
    }
    i == t.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_string_ends_at_the_first_special_byte_whatever_surrounds_it() {
        let naive = |s: &[u8]| {
            let i = s.iter().position(|&c| special_byte(c))?;
            Some((i, s.iter().take(i).any(|&c| c >= 0x80)))
        };
        // Every byte value at every place of words and tails, alone and after a byte that
        // borrows (0x00, 0x01, 0x1f) or not (0x20, 0x7f, 0x80, 0xff).
        for len in [0usize, 1, 7, 8, 9, 15, 16, 17, 23, 31, 32, 33, 40, 48, 71] {
            for at in 0..len {
                for v in 0..=255u8 {
                    for before in [b'a', 0x00, 0x01, 0x1f, 0x20, 0x7f, 0x80, 0xff] {
                        let mut s = vec![b'0'; len];
                        s[at] = v;
                        if at > 0 {
                            s[at - 1] = before;
                        }
                        // Alone, and at three places in a longer line (the last sixteen
                        // bytes read with some before the string's start).
                        assert_eq!(special(&s, 0), naive(&s), "{s:?}");
                        for lead in [3usize, 11, 16] {
                            let mut line = vec![0x80; lead];
                            line.extend_from_slice(&s);
                            let want = naive(&s).map(|(i, w)| (lead + i, w));
                            assert_eq!(special(&line, lead), want, "{lead} {s:?}");
                            // The 16-byte steps alone, as on a CPU without AVX2.
                            #[cfg(target_arch = "x86_64")]
                            assert_eq!(sse2_special(&line, lead, 0), want, "{lead} {s:?}");
                        }
                        assert_eq!(special_words(&s), naive(&s).map(|(i, _)| i), "{s:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn reads_what_value_reads_and_borrows_plain_strings() {
        let arena = Bump::new();
        let lines = [
            r#"{"a":[1,-2,3.5,1e3,18446744073709551615,"x\"y",null,true,{"b":{}}],"a":"last"}"#,
            r#"["\u00e9t\u00e9", "plain", [], {}]"#,
            r#"12.0"#,
        ];
        for l in lines {
            let j = value(l.as_bytes(), &arena).unwrap();
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert_eq!(j.to_value(), v, "{l}");
            assert_eq!(j.to_value().to_string(), v.to_string(), "{l}");
        }
        let line = br#"{"k":"plain","e":"\n"}"#;
        let j = value(line, &arena).unwrap();
        let inside = |s: &str| line.as_ptr_range().contains(&s.as_ptr());
        assert!(j.get("k").and_then(Json::as_str).is_some_and(inside));
        assert_eq!(j.get("e").and_then(Json::as_str), Some("\n"));
        assert!(!j.get("e").and_then(Json::as_str).is_some_and(inside));
        let dup = value(br#"{"a":1,"a":2}"#, &arena).unwrap();
        assert_eq!(dup.get("a"), Some(&Json::Num(2.into())));
    }

    #[test]
    fn finds_strings_anywhere() {
        let arena = Bump::new();
        let j = value(
            br#"[[["mining.notify","1"]],{"k":"EthereumStratum/1.0.0"}]"#,
            &arena,
        )
        .unwrap();
        assert!(j.any_str(&|s| s == "mining.notify"));
        assert!(j.any_str(&|s| s.contains("EthereumStratum/")));
        assert!(!j.any_str(&|s| s == "mining"));
    }

    #[test]
    fn a_line_of_small_containers_keeps_its_arena_within_room_times_the_line() {
        // The flood a container's room invites: as many one-item arrays and objects as the
        // longest line the scanner keeps holds (256 KiB), each given room for [`ROOM`].
        for (item, want) in [(&b"[1],"[..], 32_768), (&b"{\"a\":1},"[..], 18_724)] {
            let mut line = b"[".to_vec();
            while line.len() + item.len() < 256 * 1024 {
                line.extend_from_slice(item);
            }
            line.extend_from_slice(b"0]");
            let arena = Bump::new();
            let Json::Arr(items) = value(&line, &arena).unwrap() else {
                panic!("an array")
            };
            assert!(items.len() > want, "{} items", items.len());
            // The outer array's doublings and each item's room: under 32 times the line, as
            // when containers were staged and copied out (8.4 MB for this line then).
            assert!(
                arena.allocated_bytes() < 32 * line.len(),
                "{} bytes of arena for a line of {}",
                arena.allocated_bytes(),
                line.len()
            );
        }
    }
}
