//! A field of up to 8 ASCII digits read as one word: how the fast paths read a value or a
//! time without a step per digit; up to 4 in a word of 4 bytes (`short`), whose constants
//! fit an instruction.
//!
//! Invariant: `integer` and `short` give a field's value exactly when every byte of it is a
//! digit; each step of the word trick says why it is exact, and the tests try every byte at
//! every position of every field length.

/// `b'0'` in every byte.
const ZEROS: u64 = 0x3030_3030_3030_3030;
/// The high bit of every byte.
const HIGH: u64 = 0x8080_8080_8080_8080;
/// Every bit but the high one of every byte.
const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
/// 0x80 - 10 in every byte: added to a byte below 0x80, it sets the byte's high bit
/// exactly when the byte is 10 or more.
const TO_TEN: u64 = 0x7676_7676_7676_7676;

/// The value of the field that is the first `len` bytes of `word` (1 to 8, in memory
/// order: little-endian), if they are all ASCII digits; the bytes past it do not count.
#[inline(always)]
pub(crate) fn integer(word: u64, len: usize) -> Option<u64> {
    debug_assert!((1..=8).contains(&len));
    // Step 1. Keep the field's bytes only, and XOR them with '0': the digits '0'..='9'
    // become 0..=9 and, XOR being one-to-one, every other byte something else; a byte is a
    // digit exactly when it is now below 10. The bytes past the field become 0, a digit.
    let x = (word ^ ZEROS) & (u64::MAX >> (8 * (8 - len)));
    // Step 2. Mark the bytes of 10 or more. The low seven bits plus 0x76 are at most 0xf5,
    // so no byte carries into the next, and a byte below 0x80 gets its high bit exactly
    // when it is 10 or more; a byte of 0x80 or more has it already, from `x`.
    if (x | ((x & LOW) + TO_TEN)) & HIGH != 0 {
        return None;
    }
    // Step 3. Shift the digits up to the word's top bytes: the bytes below them are zeros,
    // leading zeros of the same number.
    let v = x << (8 * (8 - len));
    // Step 4. Combine neighbours, the first being the more significant: each byte pair
    // becomes 10·a + b (at most 99, in the pair's low byte), each pair of pairs 100·a + b
    // (at most 9999, in 16 bits), and the two halves 10^4·a + b. No lane overflows into the
    // next, so each multiplication adds only within its lane.
    let v = (v.wrapping_mul(10 * (1 << 8) + 1) >> 8) & 0x00ff_00ff_00ff_00ff;
    let v = (v.wrapping_mul(100 * (1 << 16) + 1) >> 16) & 0x0000_ffff_0000_ffff;
    Some(v.wrapping_mul(10_000 * (1 << 32) + 1) >> 32)
}

/// `integer` for a field of 1 to 4 bytes, in a word of 4: the same steps on half the lanes,
/// the last combining step left out.
#[inline(always)]
pub(crate) fn short(word: u32, len: usize) -> Option<u32> {
    debug_assert!((1..=4).contains(&len));
    let x = (word ^ ZEROS as u32) & (u32::MAX >> (8 * (4 - len)));
    if (x | ((x & LOW as u32) + TO_TEN as u32)) & HIGH as u32 != 0 {
        return None;
    }
    let v = x << (8 * (4 - len));
    let v = (v.wrapping_mul(10 * (1 << 8) + 1) >> 8) & 0x00ff_00ff;
    Some(v.wrapping_mul(100 * (1 << 16) + 1) >> 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of `field`, one byte at a time, if it is all digits.
    fn scalar(field: &[u8]) -> Option<u64> {
        field.iter().try_fold(0u64, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u64::from(d - b'0'))
        })
    }

    #[test]
    fn every_byte_at_every_position_of_every_field_length_is_read_as_one_at_a_time() {
        for len in 1..=8 {
            for position in 0..8 {
                for byte in 0..=255u8 {
                    for filler in [b'0', b'7', b'9'] {
                        let mut bytes = [filler; 8];
                        bytes[position] = byte;
                        let word = u64::from_le_bytes(bytes);
                        assert_eq!(integer(word, len), scalar(&bytes[..len]), "{bytes:?} {len}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_short_field_is_read_as_the_long_way_reads_it() {
        for len in 1..=4 {
            for position in 0..4 {
                for byte in 0..=255u8 {
                    for filler in [b'0', b'7', b'9', b' '] {
                        let mut bytes = [filler; 8];
                        bytes[position] = byte;
                        let word = u32::from_le_bytes(bytes[..4].try_into().unwrap());
                        let long = integer(u64::from_le_bytes(bytes), len);
                        assert_eq!(short(word, len).map(u64::from), long, "{bytes:?} {len}");
                        assert_eq!(long, scalar(&bytes[..len]), "{bytes:?} {len}");
                    }
                }
            }
        }
    }
}
