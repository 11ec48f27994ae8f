//! Lines of an input, read in blocks into one buffer of fixed size; their newlines found
//! a block at a time.
//!
//! Invariant: memory does not grow with the input: a line longer than the limit is an
//! error as soon as more than the limit is buffered without a newline, so an endless line
//! (`/dev/zero`) ends at once. A line is never read until the caller has been told that
//! nothing whole is buffered, so it can send what it holds before a read that may wait.

use std::io::{self, ErrorKind, Read};

/// The shortest line limit, in bytes (see `limit`).
pub(crate) const LINE: usize = 4096;

/// The line limit of an input that holds lines of stream `name`: as long as a short line
/// of that name, and no shorter than `LINE`.
pub(crate) fn limit(name: &str) -> usize {
    LINE.max(name.len() + 64)
}

/// The size of a line buffer, unless the caller asks for less: large reads cost less.
const BUFFER: usize = 1 << 16;

/// Reads lines of at most `limit` bytes, newline not counted.
pub(crate) struct Lines<R> {
    input: R,
    buf: Box<[u8]>,
    /// `buf[start..end]` is read and not yet taken.
    start: usize,
    end: usize,
    ended: bool,
    limit: usize,
    /// The number of the last line taken, counting every line.
    number: u64,
}

/// What `Lines::next` finds.
pub(crate) enum Next<'a> {
    /// A line, numbered from 1, without its newline.
    Line(u64, &'a [u8]),
    /// Nothing whole is buffered: `read` is next, and it may wait.
    Empty,
    /// The input has ended.
    End,
}

/// Why a line could not be had.
pub(crate) enum Problem {
    /// Line `.0` is longer than the limit.
    Long(u64),
    /// The input could not be read at line `.0`.
    Unreadable(u64, io::Error),
}

impl<R: Read> Lines<R> {
    /// Lines of at most `limit` bytes, in a buffer of `BUFFER` bytes or `most`, if that is
    /// less, and never less than such a line and more: a read then always has room.
    pub(crate) fn new(input: R, limit: usize, most: usize) -> Self {
        let size = (limit + 2).max(BUFFER.min(most));
        Lines {
            input,
            buf: vec![0; size].into_boxed_slice(),
            start: 0,
            end: 0,
            ended: false,
            limit,
            number: 0,
        }
    }

    /// The next line, if a whole one is buffered or the input has ended.
    pub(crate) fn next(&mut self) -> Result<Next<'_>, Problem> {
        let held = &self.buf[self.start..self.end];
        let line = match newline(held) {
            Some(at) => {
                self.start += at + 1;
                &held[..at]
            }
            None if held.len() > self.limit => return Err(Problem::Long(self.number + 1)),
            None if !self.ended => return Ok(Next::Empty),
            None if held.is_empty() => return Ok(Next::End),
            None => {
                self.start = self.end; // the last line, without a newline
                held
            }
        };
        self.number += 1;
        if line.len() > self.limit {
            return Err(Problem::Long(self.number));
        }
        Ok(Next::Line(self.number, line))
    }

    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// The whole lines buffered, each with its newline, for a caller that takes many at a
    /// time; `consume` says how many it took.
    pub(crate) fn whole_lines(&self) -> &[u8] {
        let held = &self.buf[self.start..self.end];
        &held[..held.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)]
    }

    /// Takes the first `bytes` of what `whole_lines` gave, which are `lines` lines.
    pub(crate) fn consume(&mut self, bytes: usize, lines: u64) {
        debug_assert_eq!(
            self.buf[self.start..self.start + bytes]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64,
            lines,
            "the bytes taken are the lines counted"
        );
        self.start += bytes;
        self.number += lines;
    }

    /// Reads what the input has next, waiting for it if need be.
    pub(crate) fn read(&mut self) -> Result<(), Problem> {
        self.buf.copy_within(self.start..self.end, 0);
        self.end -= self.start;
        self.start = 0;
        debug_assert!(
            self.end < self.buf.len(),
            "a line within the limit leaves room"
        );
        loop {
            match self.input.read(&mut self.buf[self.end..]) {
                Ok(0) => self.ended = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(Problem::Unreadable(self.number + 1, e)),
            }
            return Ok(());
        }
    }
}

/// The top bit of each byte of `word` that is a newline, and no other: SWAR, eight bytes
/// in one register (see `marks_of`).
#[inline]
fn marks(word: u64) -> u64 {
    marks_of(word, b'\n')
}

/// The top bit of each byte of `word` that is `byte`, and no other: SWAR, eight bytes in
/// one register. Step by step, for each byte:
/// 1. `w = word ^ BYTES`, `byte` in every byte: zero exactly where `word` has `byte`.
/// 2. `w & !HIGH`: its low seven bits, 0 to 0x7F.
/// 3. `+ !HIGH`, adding 0x7F: at most 0x7F + 0x7F = 0xFE, below 0x100, so no carry ever
///    crosses into the next byte; the top bit is set exactly when the low seven bits are
///    not all zero.
/// 4. `| w`: the top bit is set too when the byte's own top bit is; now it is set exactly
///    when the byte of `w` is not zero.
/// 5. `!… & HIGH`: the top bit set exactly when the byte of `w` is zero, nothing else.
#[inline]
pub(crate) fn marks_of(word: u64, byte: u8) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let w = word ^ (ONES * u64::from(byte));
    !(((w & !HIGH) + !HIGH) | w) & HIGH
}

/// The marks of `marks` (top bits) gathered into 8 bits, bit i for byte i. `marks >> 7`
/// leaves bit 8i for a mark at byte i; the factor is the sum of 2^(7j+7) for j from 0 to
/// 7, so the partial products are 2^(8i+7j+7). They never collide: 8i+7j = 8i'+7j' means
/// 8 divides j'-j, which is less than 8 in size, so j = j' and i = i'. So the product is
/// their sum with no carry at all, and its top byte, bits 56 to 63, holds exactly the
/// products with i+j = 7, at bit 56+i; those with i+j > 7 fall past bit 63, which the
/// wrapping multiplication drops, and those with i+j < 7 stay below bit 56.
#[inline]
fn gather(marks: u64) -> u64 {
    (marks >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56
}

/// Where the first newline of `bytes` is, looking eight bytes at a time.
fn newline(bytes: &[u8]) -> Option<usize> {
    let mut words = bytes.chunks_exact(8);
    for (k, word) in words.by_ref().enumerate() {
        let marks = marks(u64::from_le_bytes(word.try_into().unwrap()));
        if marks != 0 {
            return Some(8 * k + marks.trailing_zeros() as usize / 8);
        }
    }
    let rest = words.remainder();
    let at = bytes.len() - rest.len();
    rest.iter().position(|&b| b == b'\n').map(|i| at + i)
}

/// Where the newlines of `block` are, in order: found 64 bytes at a time, as a mask of
/// bits, so that a short line costs a few instructions.
pub(crate) struct Newlines<'a> {
    block: &'a [u8],
    /// Where the bytes of `mask` start, and a bit for each newline among them not yet given.
    base: usize,
    mask: u64,
}

/// Where the newline after `n` others is in `block`: 64 bytes at a time, counting a
/// chunk's newlines at once and skipping the chunks that hold fewer than are left.
pub(crate) fn nth_newline(block: &[u8], mut n: usize) -> Option<usize> {
    let newlines = Newlines::new(block);
    let mut base = 0;
    while base < block.len() {
        let mut mask = newlines.chunk(base);
        let count = mask.count_ones() as usize;
        if n < count {
            for _ in 0..n {
                mask &= mask - 1;
            }
            return Some(base + mask.trailing_zeros() as usize);
        }
        n -= count;
        base += 64;
    }
    None
}

impl<'a> Newlines<'a> {
    pub(crate) fn new(block: &'a [u8]) -> Self {
        let mut newlines = Newlines {
            block,
            base: 0,
            mask: 0,
        };
        newlines.mask = newlines.chunk(0);
        newlines
    }

    /// A bit for each newline of the 64 bytes from `at` (see `chunk_marks`); past the
    /// block's end, none.
    #[inline]
    fn chunk(&self, at: usize) -> u64 {
        // Found in two comparisons: the range `at..at + 64` would also check that its end
        // does not overflow.
        let rest = self.block.get(at..).unwrap_or_default();
        let Some(chunk) = rest.first_chunk::<64>() else {
            return rest
                .iter()
                .enumerate()
                .filter(|&(_, &b)| b == b'\n')
                .fold(0, |mask, (i, _)| mask | 1 << i);
        };
        #[cfg(target_arch = "x86_64")]
        // SAFETY: SSE2 is part of x86_64 itself, so every processor this code runs on has
        // it: `chunk_marks` needs nothing else.
        return unsafe { chunk_marks(chunk) };
        #[cfg(not(target_arch = "x86_64"))]
        return chunk_words(chunk);
    }
}

/// A bit for each newline of `chunk`, bit i for byte i: SSE2 compares 16 bytes at a time
/// with newlines, and gathers each compare's top bits into 16 bits: about 20 instructions,
/// against about 110 for `chunk_words`, and lines of a dozen bytes spend most of their
/// search here.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn chunk_marks(chunk: &[u8; 64]) -> u64 {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_movemask_epi8, _mm_set_epi64x, _mm_set1_epi8};
    let newline = _mm_set1_epi8(b'\n' as i8);
    (0..4).fold(0, |mask, k| {
        let half = |h: usize| u64::from_le_bytes(chunk[16 * k + 8 * h..][..8].try_into().unwrap());
        let bytes = _mm_set_epi64x(half(1) as i64, half(0) as i64);
        let marks = _mm_movemask_epi8(_mm_cmpeq_epi8(bytes, newline)) as u16;
        mask | u64::from(marks) << (16 * k)
    })
}

/// A bit for each newline of `chunk`, eight bytes a word: a multiplication gathers each
/// word's marks into a byte.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn chunk_words(chunk: &[u8; 64]) -> u64 {
    (0..8).fold(0, |mask, k| {
        let word = u64::from_le_bytes(chunk[8 * k..8 * k + 8].try_into().unwrap());
        mask | gather(marks(word)) << (8 * k)
    })
}

impl Newlines<'_> {
    /// Where the next newline is, without moving past it: so that a reader that stops at a
    /// line leaves it for the next, on the same pass.
    #[inline(always)]
    pub(crate) fn peek(&mut self) -> Option<usize> {
        while self.mask == 0 {
            self.base += 64;
            if self.base >= self.block.len() {
                return None;
            }
            self.mask = self.chunk(self.base);
        }
        Some(self.base + self.mask.trailing_zeros() as usize)
    }

    /// Moves past the newline that `peek` gave.
    #[inline(always)]
    pub(crate) fn advance(&mut self) {
        self.mask &= self.mask.wrapping_sub(1);
    }
}

impl Iterator for Newlines<'_> {
    type Item = usize;

    #[inline(always)]
    fn next(&mut self) -> Option<usize> {
        let at = self.peek()?;
        self.advance();
        Some(at)
    }
}

/// What went wrong with a line, for a message.
pub(crate) fn problem(place: &str, problem: Problem, limit: usize) -> (String, String) {
    let (line, what) = match problem {
        Problem::Long(line) => (line, format!("a line longer than {limit} bytes")),
        Problem::Unreadable(line, e) => (line, format!("cannot read: {e}")),
    };
    (format!("{place}:{line}"), what)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line of `input`, or the first problem's line number.
    fn all(input: &[u8], limit: usize) -> Result<Vec<(u64, String)>, u64> {
        all_in(input, limit, usize::MAX)
    }

    /// The same, with a line buffer of at most `most` bytes.
    fn all_in(input: &[u8], limit: usize, most: usize) -> Result<Vec<(u64, String)>, u64> {
        let mut lines = Lines::new(input, limit, most);
        let mut taken = Vec::new();
        loop {
            match lines.next() {
                Ok(Next::Line(n, line)) => {
                    taken.push((n, String::from_utf8_lossy(line).into_owned()))
                }
                Ok(Next::Empty) => {
                    if lines.read().is_err() {
                        return Err(0);
                    }
                }
                Ok(Next::End) => return Ok(taken),
                Err(Problem::Long(n) | Problem::Unreadable(n, _)) => return Err(n),
            }
        }
    }

    #[test]
    fn lines_are_numbered_and_the_last_needs_no_newline() {
        let lines = all(b"a 1\n\nb 2\r\nc", 10).unwrap();
        let expected = [(1, "a 1"), (2, ""), (3, "b 2\r"), (4, "c")];
        assert_eq!(lines, expected.map(|(n, s)| (n, s.to_string())));
        assert_eq!(all(b"", 10), Ok(vec![]));
    }

    #[test]
    fn the_smallest_buffer_still_takes_every_line_within_the_limit() {
        let input = b"12345\n1\n\n1234\n12345";
        let expected = all(input, 5).unwrap();
        assert_eq!(expected.len(), 5);
        for most in 0..16 {
            assert_eq!(all_in(input, 5, most), Ok(expected.clone()), "{most}");
            assert_eq!(all_in(b"1\n123456\n", 5, most), Err(2), "{most}");
        }
    }

    #[test]
    fn a_line_over_the_limit_is_a_problem_however_it_ends() {
        assert_eq!(all(b"12345\n123456\n", 5), Err(2));
        assert_eq!(all(b"12345\n123456", 5), Err(2));
        // Endless: found with no more than the buffer read.
        let endless = io::repeat(b'0');
        let mut lines = Lines::new(endless, LINE, usize::MAX);
        let found = loop {
            match lines.next() {
                Ok(Next::Empty) => assert!(lines.read().is_ok()),
                Err(Problem::Long(n)) => break n,
                _ => panic!("a line from an endless one"),
            }
        };
        assert_eq!(found, 1);
    }

    #[test]
    fn every_byte_at_every_place_of_a_word_is_marked_exactly_when_it_is_the_one_sought() {
        // A newline, as lines are split, and a space, as `shared` finds a name's end.
        for sought in [b'\n', b' '] {
            for filler in 0..=255u8 {
                for byte in 0..=255u8 {
                    for at in 0..8 {
                        let mut bytes = [filler; 8];
                        bytes[at] = byte;
                        let word = u64::from_le_bytes(bytes);
                        let expected = (0..8)
                            .filter(|&i| bytes[i] == sought)
                            .fold(0u64, |mask, i| mask | 1 << i);
                        let marks = marks_of(word, sought);
                        assert_eq!(
                            gather(marks),
                            expected,
                            "{sought:#x} in {filler:#x} {byte:#x} at {at}"
                        );
                        assert_eq!(marks, marks & 0x8080_8080_8080_8080);
                    }
                }
            }
        }
    }

    #[test]
    fn every_byte_at_every_place_of_a_chunk_is_marked_exactly_when_it_is_a_newline() {
        for filler in [b'a', b'\n', 0x8a, 0x0b] {
            for byte in 0..=255u8 {
                for at in 0..64 {
                    let mut chunk = [filler; 64];
                    chunk[at] = byte;
                    let expected = (0..64)
                        .filter(|&i| chunk[i] == b'\n')
                        .fold(0u64, |mask, i| mask | 1 << i);
                    assert_eq!(
                        chunk_words(&chunk),
                        expected,
                        "{filler:#x} {byte:#x} at {at}"
                    );
                    let block = Newlines::new(&chunk);
                    assert_eq!(block.chunk(0), expected, "{filler:#x} {byte:#x} at {at}");
                }
            }
        }
    }

    #[test]
    fn newlines_are_found_wherever_they_are() {
        for len in 0..40 {
            for at in 0..len {
                let mut bytes = vec![b'a'; len];
                bytes[at] = b'\n';
                bytes[len - 1] = b'\n';
                assert_eq!(newline(&bytes), Some(at), "{len} {at}");
                if at < len - 1 {
                    bytes[at] = 0x0a ^ 0x80; // differs from '\n' in its top bit alone
                    assert_eq!(newline(&bytes), Some(len - 1), "{len} {at}");
                }
            }
            assert_eq!(newline(&vec![b'\x0b'; len]), None);
        }
    }

    #[test]
    fn the_nth_newline_is_the_nth_the_iterator_gives() {
        let block: Vec<u8> = (0..1000u32)
            .map(|i| [b'a', b'\n', b'\n', b'x'][(i * i % 11 % 4) as usize])
            .collect();
        for len in [0, 1, 63, 64, 65, 200, 1000] {
            let block = &block[..len];
            let all: Vec<usize> = Newlines::new(block).collect();
            for n in 0..=all.len() {
                assert_eq!(nth_newline(block, n), all.get(n).copied(), "{len} {n}");
            }
        }
    }

    #[test]
    fn every_newline_of_a_block_is_found_in_order() {
        let mut block: Vec<u8> = (0..1000u32)
            .map(|i| [b'a', b'\n', 0x8a, b'\x0b'][(i * i % 7 % 4) as usize])
            .collect();
        block.extend(b"\n\n");
        for len in [0, 1, 63, 64, 65, 127, 128, 129, 1002] {
            let block = &block[..len];
            let expected: Vec<usize> = (0..len).filter(|&i| block[i] == b'\n').collect();
            assert_eq!(Newlines::new(block).collect::<Vec<_>>(), expected, "{len}");
        }
    }
}
