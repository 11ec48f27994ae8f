//! Runs of ASCII digits read eight bytes at a time: how the fast paths read a number in
//! one pass, without a branch per digit.
//!
//! Invariant: `run` finds exactly the leading ASCII digits of its text, and their value
//! whenever they are at most `MAX` digits; every step of the word trick below says why it
//! is exact, and the tests try every byte at every position of a word.

/// The most digits `run` gives a value for: 10^18 - 1 fits in an `i64`.
pub(crate) const MAX: usize = 18;

/// 10^n for the digits of one word.
const TENS: [u64; 9] = [
    1,
    10,
    100,
    1000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
];

/// `b'0'` in every byte.
const ZEROS: u64 = 0x3030_3030_3030_3030;
/// The high bit of every byte.
const HIGH: u64 = 0x8080_8080_8080_8080;
/// Every bit but the high one of every byte.
const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
/// 0x80 - 10 in every byte: added to a byte below 0x80, it sets the byte's high bit
/// exactly when the byte is 10 or more.
const TO_TEN: u64 = 0x7676_7676_7676_7676;

/// The leading ASCII digits of `word`, eight bytes in memory order (little-endian): how
/// many, 0 to 8, and their value.
#[inline(always)]
pub(crate) fn leading(word: u64) -> (usize, u64) {
    // Step 1. XOR with '0' maps the digits '0'..='9' to 0..=9, and, being one-to-one, every
    // other byte to something else: a byte is a digit exactly when it is now below 10.
    let x = word ^ ZEROS;
    // Step 2. Mark the bytes of 10 or more. The low seven bits plus 0x76 are at most 0xf5,
    // so no byte carries into the next, and a byte below 0x80 gets its high bit exactly
    // when it is 10 or more; a byte of 0x80 or more has it already, from `x`.
    let marks = (x | ((x & LOW) + TO_TEN)) & HIGH;
    // Step 3. The lowest mark is the first byte that is not a digit: none means all 8 are.
    let count = (marks.trailing_zeros() / 8) as usize;
    match count {
        0 => return (0, 0),
        1 => return (1, x & 0xf), // one digit is its own value: the common case, made short
        _ => {}
    }
    // Step 4. Shift the digits up to the word's top bytes: the bytes below them are zeros,
    // leading zeros of the same number, and the bytes after the digits fall off the top.
    let v = x << (8 * (8 - count));
    // Step 5. Combine neighbours, the first being the more significant: each byte pair
    // becomes 10·a + b (at most 99, in the pair's low byte), each pair of pairs 100·a + b
    // (at most 9999, in 16 bits), and the two halves 10^4·a + b. No lane overflows into
    // the next, so each multiplication adds only within its lane.
    let v = (v.wrapping_mul(10 * (1 << 8) + 1) >> 8) & 0x00ff_00ff_00ff_00ff;
    let v = (v.wrapping_mul(100 * (1 << 16) + 1) >> 16) & 0x0000_ffff_0000_ffff;
    let v = v.wrapping_mul(10_000 * (1 << 32) + 1) >> 32;
    (count, v)
}

/// The leading ASCII digits of `text`: how many, and, if that is at most `MAX`, their
/// value. Words of eight bytes while `text` has them, then a byte at a time.
#[inline(always)]
pub(crate) fn run(text: &[u8]) -> (usize, u64) {
    let (mut count, mut value) = (0, 0u64);
    while let Some(word) = text.get(count..count + 8) {
        let (n, v) = leading(u64::from_le_bytes(word.try_into().expect("8 bytes")));
        // Past `MAX` digits the value wraps, and is not used.
        value = value.wrapping_mul(TENS[n]).wrapping_add(v);
        count += n;
        if n < 8 || count > MAX {
            return (count, value);
        }
    }
    while let Some(&d) = text.get(count).filter(|d| d.is_ascii_digit()) {
        value = value.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
        count += 1;
    }
    (count, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The leading digits of `bytes`, one at a time.
    fn scalar(bytes: &[u8]) -> (usize, u64) {
        let count = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
        let value = bytes[..count].iter().fold(0u64, |n, d| {
            n.wrapping_mul(10).wrapping_add(u64::from(d - b'0'))
        });
        (count, value)
    }

    #[test]
    fn every_byte_at_every_position_ends_a_run_exactly_when_it_is_not_a_digit() {
        for position in 0..8 {
            for byte in 0..=255u8 {
                for filler in b'0'..=b'9' {
                    let mut bytes = [filler; 8];
                    bytes[7 - position] = b'0' + (position as u8 + filler) % 10;
                    bytes[position] = byte;
                    let word = u64::from_le_bytes(bytes);
                    assert_eq!(leading(word), scalar(&bytes), "{bytes:?}");
                }
            }
        }
    }

    #[test]
    fn runs_across_words_and_the_tail_agree_with_one_byte_at_a_time() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 24) as usize;
            let digits = (state >> 8) % 21;
            let text: Vec<u8> = (0..len)
                .map(|k| {
                    let r = state.rotate_left(k as u32 * 3);
                    if (k as u64) < digits {
                        b'0' + (r % 10) as u8
                    } else {
                        (r >> 5) as u8
                    }
                })
                .collect();
            let (count, value) = run(&text);
            let expected = scalar(&text);
            assert_eq!(count, expected.0, "{text:?}");
            if count <= MAX {
                assert_eq!(value, expected.1, "{text:?}");
            }
        }
    }
}
