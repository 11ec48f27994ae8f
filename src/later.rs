//! A stream's time before its next value's, and how a fast path reads the next time
//! against it: a time in canonical form, later than the one before. A time one more than
//! the one before, as times that count ticks, seconds or rounds mostly are, is known by its
//! text alone, the text of the one before plus one: one comparison of two words, with no
//! digit read. That text is kept one step ahead: one added to its last digit, or carried.
//!
//! Invariant: `Before::take` takes a time exactly when `decimal::canonical_in` reads it and
//! it is later than the time before; `next` holds the text of the time before plus one
//! whenever `len` is not 0, and `word` the mask and the one that go with its length. The
//! tests try every byte at every position of that text, and every carry.

use crate::decimal::{self, Decimal};

/// The time before a stream's next value, if it has had one.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Before {
    time: Option<Decimal>,
    /// The text of `time` plus one, in ASCII, its first digit in the lowest byte, zeros
    /// after it; it has `len` digits, 1 to 15, or `len` is 0 when the next time is read in
    /// full (no time yet, or one that is not an integer from 0 to below 10^15 - 1).
    next: u128,
    /// At most 15, so `& 15` keeps it as it is, and a lookup by it needs no check.
    len: u8,
    /// `WORDS[len]` whenever `len` is not 0: kept here, as a lookup at every line costs
    /// more than the comparison it serves.
    word: (u128, u128),
    /// 9 less the last digit of `next`: how many times after it follow by adding one to
    /// that digit alone, with no carry.
    steps: u8,
}

/// For a time of `len` digits: the mask that keeps its bytes of a word, and one in the byte
/// of its last digit, which adding one to that digit adds to the word.
const WORDS: [(u128, u128); 17] = {
    let mut words = [(0, 0); 17];
    let mut len = 1;
    while len <= 16 {
        words[len] = (u128::MAX >> (8 * (16 - len)), 1 << (8 * (len - 1)));
        len += 1;
    }
    words
};

/// `byte` in every byte of a word.
const fn every(byte: u8) -> u128 {
    u128::from_le_bytes([byte; 16])
}

impl Before {
    /// A time before, read some other way: the next is read in full.
    pub(crate) fn of(time: Option<Decimal>) -> Self {
        Before {
            time,
            ..Before::default()
        }
    }

    pub(crate) fn time(&self) -> Option<Decimal> {
        self.time
    }

    /// How many bytes the time one more than this one takes, if the next is known by its
    /// text when it is that one.
    pub(crate) fn next_len(&self) -> Option<usize> {
        (self.len > 0).then_some(usize::from(self.len))
    }

    /// Whether the `len` bytes of `span` from `at` are the text of the time one more than
    /// this one, `len` being `next_len`. `at` must be at most 15: `& 15` keeps it in the
    /// span with no check, and a larger one would read the span's start.
    #[inline(always)]
    pub(crate) fn is_next(&self, span: &[u8; 32], at: usize) -> bool {
        let bytes: [u8; 16] = span[at & 15..][..16].try_into().expect("16 bytes");
        u128::from_le_bytes(bytes) & self.word.0 == self.next
    }

    /// Takes the time one more than this one, which `is_next` has found.
    #[inline(always)]
    pub(crate) fn take_next(&mut self) -> Decimal {
        let time = Decimal::new(self.time.map_or(0, Decimal::mantissa) + 1, 0).expect("scale 0");
        self.time = Some(time);
        self.advance();
        time
    }

    /// The time `block[start..end]`, if it is in canonical form and later than this one,
    /// which it then becomes. One more than this one, it is known by its text where the
    /// block has 16 bytes from its start; else `canonical_in` reads it.
    #[inline(always)]
    pub(crate) fn take(&mut self, block: &[u8], (start, end): (usize, usize)) -> Option<Decimal> {
        let len = end - start;
        if let (true, Some(bytes)) = (
            self.len > 0 && len == usize::from(self.len),
            block.get(start..start + 16),
        ) {
            let mask = self.word.0;
            if u128::from_le_bytes(bytes.try_into().expect("16 bytes")) & mask == self.next {
                let time = Decimal::new(self.time.map_or(0, Decimal::mantissa) + 1, 0);
                self.time = time;
                self.advance();
                return time;
            }
        }
        let time = decimal::canonical_in(block, (start, end))?;
        if self
            .time
            .is_some_and(|before| decimal::compare(time, before).is_le())
        {
            return None;
        }
        *self = Self::after(time, block, (start, end));
        Some(time)
    }

    /// What `time`, whose text is `block[start..end]`, leaves as the time before the next:
    /// an integer from 0 to below 10^15 - 1, with 16 bytes in the block from its start, its
    /// text plus one, so that the next is known by its text.
    fn after(time: Decimal, block: &[u8], (start, end): (usize, usize)) -> Before {
        let len = end - start;
        let (m, bytes) = (time.mantissa(), block.get(start..start + 16));
        let (Some(bytes), 0, 1..=15) = (bytes.filter(|_| m >= 0), time.scale(), len) else {
            return Before::of(Some(time));
        };
        let word = u128::from_le_bytes(bytes.try_into().expect("16 bytes"));
        // Its own text, as if it were the next, taken.
        let mut before = Before {
            time: Some(time),
            next: word & WORDS[len].0,
            len: len as u8,
            word: WORDS[len],
            steps: 9 - (m % 10) as u8,
        };
        before.advance();
        before
    }

    /// `next` plus one, once `next` is taken: one added to its last digit, or carried.
    #[inline(always)]
    fn advance(&mut self) {
        if self.steps > 0 {
            self.next += self.word.1;
            self.steps -= 1;
        } else {
            self.carry();
        }
    }

    /// `next` plus one, where its last digit is 9. Step by step:
    /// 1. `next ^ every(b'9')` is zero in the bytes of nines only. Shifted so that the last
    ///    digit is the top byte, the nines it ends with are the zero bytes at the top: their
    ///    count is the leading zero bits over 8, at least 1.
    /// 2. If every digit is a nine, one more is 1 and `len` zeros: `len + 1` digits, and past
    ///    15 digits the next is read in full.
    /// 3. Else those nines become zeros, 9 less in each of their bytes, which borrows from
    ///    none, and the digit before them, not a nine, gets one, which carries into none.
    #[inline(always)]
    fn carry(&mut self) {
        let len = usize::from(self.len);
        let nines = ((self.next ^ every(b'9')) << (8 * (16 - len))).leading_zeros() as usize / 8;
        let (mask, kept) = (WORDS[len].0, WORDS[len - nines.min(len)].0);
        if nines >= len {
            let len = len + 1;
            (self.next, self.len) = ((every(b'0') & WORDS[len].0) + 1, len as u8);
            self.word = WORDS[len];
            if len > 15 {
                self.len = 0;
            }
        } else {
            self.next = self.next - (every(9) & mask & !kept) + WORDS[len - nines].1;
        }
        self.steps = 9;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `next` must give: the time as `canonical_in` reads it, if it is later.
    fn slowly(before: Option<Decimal>, block: &[u8], field: (usize, usize)) -> Option<Decimal> {
        let time = decimal::canonical_in(block, field)?;
        before
            .is_none_or(|b| decimal::compare(time, b).is_gt())
            .then_some(time)
    }

    /// `text` in a block with 16 bytes of `filler` after it, as a line's time is followed
    /// by its newline and the next lines.
    fn block(text: &[u8], filler: u8) -> Vec<u8> {
        [text, &[filler; 16]].concat()
    }

    /// Reads the times of `texts` in turn, as a stream's lines give them, each checked
    /// against `slowly`; returns what the last leaves.
    fn read(texts: &[&[u8]], filler: u8) -> Before {
        let mut before = Before::default();
        for text in texts {
            let block = block(text, filler);
            let field = (0, text.len());
            let expected = slowly(before.time, &block, field);
            let mut after = before;
            let got = after.take(&block, field);
            assert_eq!(got, expected, "{text:?}");
            if got.is_some() {
                before = after;
                assert_keeps_its_invariant(&before);
            }
        }
        before
    }

    /// `next` is the text of the time plus one whenever `len` is not 0, and `steps` counts
    /// what may be added to its last digit.
    fn assert_keeps_its_invariant(before: &Before) {
        let Some(len) = before.next_len() else {
            return;
        };
        let text = &before.next.to_le_bytes()[..len];
        let time = before.time.expect("a time before");
        assert_eq!((time.mantissa() + 1).to_string().as_bytes(), text, "{time}");
        assert_eq!(before.next >> (8 * len), 0, "zeros after its text");
        assert_eq!(before.word, WORDS[len], "{time}");
        assert_eq!(before.steps, b'9' - text[len - 1], "{time}");
    }

    #[test]
    fn every_byte_at_every_position_of_the_next_time_is_read_as_a_parse_reads_it() {
        let times = [0, 1, 7, 8, 9, 10, 18, 98, 99, 1234, 99_999_998, 1764614400];
        let times = times.into_iter().chain((2..=15).map(|k| 10i64.pow(k) - 2));
        for t in times {
            let text = t.to_string();
            let next = (t + 1).to_string().into_bytes();
            for position in 0..next.len() {
                for byte in 0..=255u8 {
                    for filler in [b'\n', b'0', b'9'] {
                        let mut candidate = next.clone();
                        candidate[position] = byte;
                        read(&[text.as_bytes(), &candidate], filler);
                    }
                }
            }
        }
    }

    #[test]
    fn times_that_count_are_known_by_their_text_across_every_carry() {
        let counting = (0..=2100)
            .chain(999_990..1_000_010)
            .chain(99_999_999_999_990..100_000_000_000_010)
            .chain(999_999_999_999_990..=999_999_999_999_998);
        let mut before = Before::default();
        for t in counting {
            let text = t.to_string();
            let block = block(text.as_bytes(), b'\n');
            let known = before.next_len().is_some();
            assert_eq!(before.take(&block, (0, text.len())), Decimal::new(t, 0));
            assert_keeps_its_invariant(&before);
            assert!(known || t == 0, "{t} was read in full");
            assert!(before.next_len().is_some(), "{t}: the next is known");
        }
    }

    #[test]
    fn a_repeated_earlier_or_other_time_is_read_in_full() {
        let texts: [&[u8]; 9] = [b"5", b"6", b"6", b"5", b"7", b"7.5", b"8", b"-1", b"9"];
        assert_eq!(read(&texts, b'\n').time, Decimal::new(9, 0));
        let texts: [&[u8]; 4] = [b"1764614400", b"1764614401", b"1764614401.5", b"1764614402"];
        assert_eq!(read(&texts, b'\n').time, Decimal::new(1764614402, 0));
    }

    #[test]
    fn a_time_of_16_digits_or_with_fewer_than_16_bytes_after_it_is_read_in_full() {
        let last = b"999999999999999".as_slice();
        let before = read(&[b"999999999999998", last], b'\n');
        assert_eq!(before.next_len(), None, "its next has 16 digits");
        let before = read(&[b"1000000000000000"], b'\n');
        assert_eq!(before.next_len(), None, "16 digits");
        // At the end of a block: no 16 bytes to load.
        let (block, field) = (b"12".as_slice(), (0, 2));
        let mut before = Before::default();
        assert_eq!(before.take(block, field), Decimal::new(12, 0));
        assert_eq!(before.next_len(), None);
        let mut before = Before::default();
        before.take(b"11\n..............", (0, 2));
        assert_eq!(before.take(block, field), Decimal::new(12, 0));
    }
}
