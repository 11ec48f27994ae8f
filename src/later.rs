//! A stream's time before its next value's, and how a fast path reads the next time
//! against it: a time in canonical form, later than the one before. A time one more than
//! the one before, as times that count ticks, seconds or rounds mostly are, is known by its
//! text alone, the text before with one added to its last digit: one comparison of two
//! words, with no digit read.
//!
//! Invariant: `Before::take` takes a time exactly when `decimal::canonical_in` reads it and
//! it is later than the time before; `next` holds the text of the time before plus one
//! whenever `room` is not 0. The tests try every byte at every position of that text.

use crate::decimal::{self, Decimal};

/// The time before a stream's next value, if it has had one.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Before {
    time: Option<Decimal>,
    /// The text of `time` plus one, in ASCII, its first digit in the lowest byte, zeros
    /// after it; it has `len` digits.
    next: u128,
    len: u8,
    /// How many of the times after `time` can follow by adding one to the last digit: 9
    /// less `time`'s last digit, or 0 when none can (no time yet, or one that is not an
    /// integer from 0 to below 10^15, or whose last digit is 9).
    room: u8,
}

/// For a time of `len` digits: the mask that keeps its bytes of a word, and one in the byte
/// of its last digit, which adding one to that digit adds to the word.
const WORDS: [(u128, u128); 16] = {
    let mut words = [(0, 0); 16];
    let mut len = 1;
    while len < 16 {
        words[len] = (u128::MAX >> (8 * (16 - len)), 1 << (8 * (len - 1)));
        len += 1;
    }
    words
};

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

    /// The time `block[start..end]`, if it is in canonical form and later than this one,
    /// which it then becomes. One more than this one, it is known by its text where the
    /// block has 16 bytes from its start; else `canonical_in` reads it.
    #[inline(always)]
    pub(crate) fn take(&mut self, block: &[u8], (start, end): (usize, usize)) -> Option<Decimal> {
        let len = end - start;
        if let (true, Some(bytes)) = (
            self.room > 0 && len == usize::from(self.len),
            block.get(start..start + 16),
        ) {
            // `len` is from 1 to 15 here, as `after` leaves it.
            let (mask, step) = WORDS[len & 15];
            if u128::from_le_bytes(bytes.try_into().expect("16 bytes")) & mask == self.next {
                let time = Decimal::new(self.time.map_or(0, Decimal::mantissa) + 1, 0);
                (self.time, self.next, self.room) = (time, self.next + step, self.room - 1);
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
    /// an integer from 0 to below 10^15 whose last digit is not 9, with 16 bytes in the block
    /// from its start, its text plus one, so that the next is known by its text.
    fn after(time: Decimal, block: &[u8], (start, end): (usize, usize)) -> Before {
        let len = end - start;
        let (m, bytes) = (time.mantissa(), block.get(start..start + 16));
        let (Some(bytes), 0, 1..=15) = (bytes.filter(|_| m >= 0), time.scale(), len) else {
            return Before::of(Some(time));
        };
        let (mask, step) = WORDS[len];
        // The last digit is below 9, so adding one to it carries into no other digit.
        let last = (m % 10) as u8;
        let word = u128::from_le_bytes(bytes.try_into().expect("16 bytes"));
        Before {
            time: Some(time),
            next: (word & mask) + step,
            len: len as u8,
            room: 9 - last,
        }
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
            }
        }
        before
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
    fn times_that_count_are_read_one_after_another_across_every_carry() {
        let texts: Vec<String> = (0..=2100)
            .chain(999_990..1_000_010)
            .map(|t| t.to_string())
            .collect();
        let texts: Vec<&[u8]> = texts.iter().map(|t| t.as_bytes()).collect();
        let last = read(&texts, b'\n');
        assert_eq!(last.time, Decimal::new(1_000_009, 0));
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
        let (t, next) = (b"999999999999998".as_slice(), b"999999999999999".as_slice());
        let before = read(&[t], b'\n');
        assert_eq!(before.room, 1);
        let after = read(&[t, next], b'\n');
        assert_eq!(after.room, 0, "a last digit of 9");
        let before = read(&[b"1000000000000000"], b'\n');
        assert_eq!(before.room, 0, "16 digits");
        // At the end of a block: no 16 bytes to load.
        let (block, field) = (b"12".as_slice(), (0, 2));
        let mut before = Before::default();
        assert_eq!(before.take(block, field), Decimal::new(12, 0));
        assert_eq!(before.room, 0);
        let mut before = Before::default();
        before.take(b"11\n..............", (0, 2));
        assert_eq!(before.take(block, field), Decimal::new(12, 0));
    }
}
