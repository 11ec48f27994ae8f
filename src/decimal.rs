//! Exact decimal values: a value is m·10^-s, with m an `i64` and s, its scale, the number
//! of digits after the point, from 0 to 18.
//!
//! Invariant: a `Decimal`'s scale is at most `MAX_SCALE`, as its constructor checks.
//! Nothing is ever rounded. Text either is exactly such a value, or is refused; a value
//! prints (see `text`) in its canonical form (no `+`, no leading zeros, no exponent, s
//! digits after the point), which parses back to the same m and s.

use std::fmt;
use std::str::FromStr;

use std::cmp::Ordering;

use crate::digits;
use crate::quote::quote;

/// The most digits a value may have after the point.
pub const MAX_SCALE: u8 = 18;

/// 10^k for every scale k.
pub(crate) const POW10: [i64; MAX_SCALE as usize + 1] = {
    let mut table = [1; MAX_SCALE as usize + 1];
    let mut k = 1;
    while k < table.len() {
        table[k] = table[k - 1] * 10;
        k += 1;
    }
    table
};

/// m·10^-s: `mantissa` and `scale` (s), the scale at most `MAX_SCALE`.
///
/// The fields are private, so that the scale's bound is the type's: `new` checks it, and
/// every value is made by `new` or `parse`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decimal {
    mantissa: i64,
    scale: u8,
}

impl Decimal {
    /// `mantissa`·10^-`scale`, or `None` if `scale` is past `MAX_SCALE`.
    pub const fn new(mantissa: i64, scale: u8) -> Option<Decimal> {
        if scale > MAX_SCALE {
            None
        } else {
            Some(Decimal { mantissa, scale })
        }
    }

    /// m, the value times 10^s.
    pub const fn mantissa(self) -> i64 {
        self.mantissa
    }

    /// s, the number of digits after the point: 0 to `MAX_SCALE`.
    pub const fn scale(self) -> u8 {
        self.scale
    }
}

/// The canonical form, as `Text::line` writes it: `-` for a negative value, the digits
/// before the point (`0` if none), and, with a scale, the point and s digits after it.
/// Width and other flags are not applied.
impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.mantissa < 0 { "-" } else { "" };
        let magnitude = self.mantissa.unsigned_abs();
        if self.scale == 0 {
            write!(f, "{sign}{magnitude}")
        } else {
            let unit = 10u64.pow(u32::from(self.scale));
            let (before, after) = (magnitude / unit, magnitude % unit);
            let digits = usize::from(self.scale);
            write!(f, "{sign}{before}.{after:0digits$}")
        }
    }
}

/// Text as `parse` reads it.
impl FromStr for Decimal {
    type Err = Bad;

    fn from_str(text: &str) -> Result<Decimal, Bad> {
        parse(text.as_bytes())
    }
}

/// Why text is not a value.
#[derive(Debug, PartialEq)]
pub enum Bad {
    /// It does not follow the grammar.
    Form,
    /// It does, but is past the limits.
    Range,
}

/// What the text is, and what a value is: `not a value: ...` or `out of range: ...`.
impl fmt::Display for Bad {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Bad::Form => write!(f, "not a value: {FORM}"),
            Bad::Range => write!(f, "out of range: a value is {LIMITS}"),
        }
    }
}

impl std::error::Error for Bad {}

/// What a value may be, for messages.
const FORM: &str = "a value is a decimal such as 7, -12, 20.5, .5 or 2.5E3";
/// The limits of a value, and of a time, for messages.
pub(crate) const LIMITS: &str =
    "m·10^-s with m a 64-bit integer and at most 18 digits after the point";

/// Why `text` was refused, for a message.
pub(crate) fn why_refused(text: &[u8], bad: Bad) -> String {
    format!("{} is {bad}", quote(text))
}

/// Parses `[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?`, ASCII only.
pub fn parse(text: &[u8]) -> Result<Decimal, Bad> {
    let (negative, text) = match text {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, text),
    };
    let (whole, text) = digits(text);
    let (fraction, text) = match text {
        [b'.', rest @ ..] => digits(rest),
        _ => (&[][..], text),
    };
    if whole.is_empty() && fraction.is_empty() {
        return Err(Bad::Form);
    }
    let exponent = match text {
        [] => 0,
        [b'e' | b'E', rest @ ..] => {
            let (negative, rest) = match rest {
                [b'-', rest @ ..] => (true, rest),
                [b'+', rest @ ..] => (false, rest),
                _ => (false, rest),
            };
            let (exponent, rest) = digits(rest);
            if exponent.is_empty() || !rest.is_empty() {
                return Err(Bad::Form);
            }
            // Past a million, an exponent can only put a non-zero value out of range.
            let size = exponent
                .iter()
                .fold(0i64, |n, d| (n * 10 + i64::from(d - b'0')).min(1_000_000));
            if negative { -size } else { size }
        }
        _ => return Err(Bad::Form),
    };
    let mut magnitude: u64 = 0;
    for d in whole.iter().chain(fraction) {
        magnitude = (magnitude.checked_mul(10))
            .and_then(|m| m.checked_add(u64::from(d - b'0')))
            .ok_or(Bad::Range)?;
    }
    let mut scale = fraction.len() as i64 - exponent;
    if scale < 0 {
        // A positive exponent past the digits: m grows, the scale is 0.
        let shift = u32::try_from(-scale).unwrap_or(u32::MAX);
        if magnitude != 0 {
            magnitude = (10u64.checked_pow(shift))
                .and_then(|p| magnitude.checked_mul(p))
                .ok_or(Bad::Range)?;
        }
        scale = 0;
    }
    let mantissa = if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    };
    let scale = u8::try_from(scale).map_err(|_| Bad::Range)?;
    Decimal::new(mantissa.ok_or(Bad::Range)?, scale).ok_or(Bad::Range)
}

/// `text` as a value, if it is written in canonical form with at most 18 digits: the fast
/// path, one pass over the digits and the point, whose text is then its own canonical
/// form, to be copied as it is. `None` does not mean it is not a value: `parse` tells.
#[inline(always)]
pub(crate) fn canonical(text: &[u8]) -> Option<Decimal> {
    let (negative, digits) = match text {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, text),
    };
    // A first digit that is not 0, or a 0 alone or before the point; at most 18 digits.
    match digits {
        [b'1'..=b'9', ..] | [b'0'] | [b'0', b'.', ..] if digits.len() <= 19 => {}
        _ => return None,
    }
    let (mut magnitude, at) = digit_run(digits, 0, 0);
    let scale = match &digits[at..] {
        [] if at <= 18 => 0,
        [b'.', fraction @ ..] if !fraction.is_empty() && at + fraction.len() <= 18 => {
            let end;
            (magnitude, end) = digit_run(digits, at + 1, magnitude);
            if end < digits.len() {
                return None;
            }
            fraction.len()
        }
        _ => return None,
    };
    if negative && magnitude == 0 {
        return None; // -0 is written 0
    }
    // At most 18 digits: below 10^18, inside an `i64`.
    Decimal::new(if negative { -magnitude } else { magnitude }, scale as u8)
}

/// The value written in canonical form with at most 18 digits at the start of `text`, and
/// how many bytes it takes: up to the end of `text` or a byte that is neither a digit nor
/// its point, which then follows it. So a field is read on the same pass that finds its
/// end.
#[inline(always)]
pub(crate) fn canonical_prefix(text: &[u8]) -> Option<(Decimal, usize)> {
    let (negative, digits) = match text {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, text),
    };
    // A first digit that is not 0, or a 0 that no digit follows.
    match digits {
        [b'1'..=b'9', ..] => {}
        [b'0', next, ..] if next.is_ascii_digit() => return None,
        [b'0', ..] => {}
        _ => return None,
    }
    let (mut magnitude, mut at) = digit_run(digits, 0, 0);
    let whole = at;
    if digits.get(at) == Some(&b'.') {
        (magnitude, at) = digit_run(digits, at + 1, magnitude);
    }
    // A point needs a digit after it; at most 18 digits in all.
    let scale = at.saturating_sub(whole + 1);
    if (at > whole && scale == 0) || at - usize::from(at > whole) > 18 {
        return None;
    }
    if negative && magnitude == 0 {
        return None; // -0 is written 0
    }
    // At most 18 digits: below 10^18, inside an `i64`.
    let value = Decimal::new(if negative { -magnitude } else { magnitude }, scale as u8)?;
    Some((value, at + usize::from(negative)))
}

/// The digits of `digits` from `at` on, up to its end or the first byte that is not one,
/// appended to `magnitude`, and where they end. Past 18 digits in all the value wraps: the
/// callers refuse those.
#[inline(always)]
fn digit_run(digits: &[u8], mut at: usize, mut magnitude: i64) -> (i64, usize) {
    while let Some(&d) = digits.get(at).filter(|d| d.is_ascii_digit()) {
        magnitude = magnitude.wrapping_mul(10).wrapping_add(i64::from(d - b'0'));
        at += 1;
    }
    (magnitude, at)
}

/// The field `block[start..end]` as a value, as `canonical` reads it; a field of up to 8
/// digits, as a time mostly is, read as one word (`digits`) where the block has 8 bytes
/// from its start: the bytes past the field's end do not count.
#[inline(always)]
pub(crate) fn canonical_in(block: &[u8], (start, end): (usize, usize)) -> Option<Decimal> {
    let len = end - start;
    if let Some(word) = block
        .get(start..start + 8)
        .filter(|_| (1..=8).contains(&len))
    {
        let word = u64::from_le_bytes(word.try_into().expect("8 bytes"));
        // A digit alone, or a first digit that is not 0: then all digits are a canonical
        // integer.
        if len == 1 || word as u8 != b'0' {
            if let Some(value) = digits::integer(word, len) {
                return Decimal::new(value as i64, 0);
            }
        }
    }
    canonical(&block[start..end])
}

/// The field of the first `len` bytes of `span` (1 to 15) as a value, as `canonical`
/// reads it: a digit alone, or a field of up to 8 digits whose first is not 0, read as one
/// word (`digits`), of 4 bytes where that holds it; all digits are then a canonical integer.
#[inline(always)]
pub(crate) fn canonical_word(span: &[u8; 32], len: usize) -> Option<Decimal> {
    if len == 1 && span[0].is_ascii_digit() {
        return Decimal::new(i64::from(span[0] - b'0'), 0);
    }
    if len <= 4 && span[0] != b'0' {
        let word = u32::from_le_bytes(span[..4].try_into().expect("4 bytes"));
        if let Some(value) = digits::short(word, len) {
            return Decimal::new(i64::from(value), 0);
        }
    } else if len <= 8 && span[0] != b'0' {
        let word = u64::from_le_bytes(span[..8].try_into().expect("8 bytes"));
        if let Some(value) = digits::integer(word, len) {
            return Decimal::new(value as i64, 0);
        }
    }
    canonical(&span[..len & 15])
}

/// How `a` compares with `b` as numbers, exactly: `1.5` and `1.50` are equal. At different
/// scales, as integers at the largest (see `at_max_scale`).
#[inline]
pub(crate) fn compare(a: Decimal, b: Decimal) -> Ordering {
    if a.scale == b.scale {
        return a.mantissa.cmp(&b.mantissa);
    }
    let at_max = |d: Decimal| at_max_scale(d.mantissa, d.scale);
    at_max(a).cmp(&at_max(b))
}

/// m·10^-scale at the largest scale, `MAX_SCALE`, as an integer: exact, since |m| is below
/// 2^63 and 10^18 below 2^60, so the product is below 2^123 in size; so values compare as
/// these do.
pub(crate) fn at_max_scale(mantissa: i64, scale: u8) -> i128 {
    i128::from(mantissa) * i128::from(POW10[usize::from(MAX_SCALE - scale)])
}

/// The leading ASCII digits of `text`, and the rest.
fn digits(text: &[u8]) -> (&[u8], &[u8]) {
    text.split_at(text.iter().take_while(|b| b.is_ascii_digit()).count())
}

/// `a` and `b` at their common scale, the larger of the two: `(a's mantissa, b's, scale)`,
/// or `None` if a scaled mantissa does not fit in an `i64`.
pub fn at_common_scale(a: Decimal, b: Decimal) -> Option<(i64, i64, u8)> {
    let scale = a.scale.max(b.scale);
    let at = |d: Decimal| d.mantissa.checked_mul(POW10[usize::from(scale - d.scale)]);
    Some((at(a)?, at(b)?, scale))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{Prefix, Text};

    fn canonical(text: &str) -> String {
        let d = parse(text.as_bytes()).unwrap_or_else(|e| panic!("{text}: {e:?}"));
        let mut printed = Text::default();
        printed.line(&Prefix::new(b""), d.mantissa().into(), d.scale());
        String::from_utf8(printed.as_bytes().to_vec())
            .unwrap()
            .trim_end()
            .to_string()
    }

    #[test]
    fn a_decimal_has_at_most_eighteen_digits_after_the_point() {
        assert_eq!(Decimal::new(1, 19), None);
        assert_eq!(Decimal::new(1, u8::MAX), None);
        let finest = Decimal::new(i64::MIN, MAX_SCALE).unwrap();
        assert_eq!((finest.mantissa(), finest.scale()), (i64::MIN, 18));
    }

    #[test]
    fn values_parse_to_mantissa_and_scale() {
        for (text, mantissa, scale) in [
            ("7", 7, 0),
            ("-12", -12, 0),
            ("+3", 3, 0),
            ("20.5", 205, 1),
            (".5", 5, 1),
            ("5.", 5, 0),
            ("1e-05", 1, 5),
            ("2.5E3", 2500, 0),
            ("1.50", 150, 2),
            ("0e99999999999999999999", 0, 0),
            ("-9223372036854775808", i64::MIN, 0),
            ("9223372036854775807", i64::MAX, 0),
            ("0.000000000000000001", 1, 18),
            ("1e18", 1_000_000_000_000_000_000, 0),
        ] {
            assert_eq!(
                parse(text.as_bytes()),
                Ok(Decimal { mantissa, scale }),
                "{text}"
            );
        }
    }

    #[test]
    fn canonical_text_takes_the_fast_path_exactly_when_it_is_its_own_canonical_form() {
        // Every text of up to 7 bytes over the bytes a number is made of, and one that is
        // not: at most 7 digits, so the fast path must take every canonical one.
        let alphabet = b"019-.x";
        let mut texts = vec![Vec::new()];
        for _ in 0..7 {
            let longer: Vec<Vec<u8>> = texts
                .iter()
                .filter(|t| t.len() == texts.last().map_or(0, Vec::len))
                .flat_map(|t| alphabet.iter().map(move |&b| [&t[..], &[b]].concat()))
                .collect();
            texts.extend(longer);
        }
        assert_eq!(texts.len(), (0..8).map(|k| 6usize.pow(k)).sum::<usize>());
        for text in &texts {
            let expected = parse(text)
                .ok()
                .filter(|d| d.to_string().as_bytes() == &text[..]);
            assert_eq!(super::canonical(text), expected, "{text:?}");
            // At the start of a longer text, up to a byte that is no digit or point.
            let longer = [&text[..], b" 5"].concat();
            let prefix = canonical_prefix(&longer).filter(|&(_, len)| len == text.len());
            assert_eq!(prefix.map(|(value, _)| value), expected, "{text:?}");
            // In a block that goes on past the field, as the fast paths read a time.
            let block = [&text[..], b"\n1234567"].concat();
            assert_eq!(canonical_in(&block, (0, text.len())), expected, "{text:?}");
        }
    }

    #[test]
    fn a_field_of_8_digits_is_read_as_one_word_and_a_longer_one_is_not() {
        let read = |text: &[u8], len| canonical_in(text, (0, len)).map(|d| (d.mantissa, d.scale));
        assert_eq!(read(b"12345678\n", 8), Some((12_345_678, 0)));
        assert_eq!(read(b"99999999 1", 8), Some((99_999_999, 0)));
        assert_eq!(read(b"02345678\n", 8), None);
        assert_eq!(read(b"1234567x\n", 8), None);
        assert_eq!(read(b"123456789\n", 9), Some((123_456_789, 0)));
        assert_eq!(read(b"12345678", 7), Some((1_234_567, 0)));
        assert_eq!(read(b"-1234567\n", 8), Some((-1_234_567, 0)));
        assert_eq!(read(b"1234.567\n", 8), Some((1_234_567, 3)));
    }

    #[test]
    fn the_fast_path_takes_at_most_18_digits_and_leaves_longer_values_to_parse() {
        for text in [
            "999999999999999999",
            "-999999999999999999",
            "0.99999999999999999",
            "-12345678.9012345678",
            "1.00000000000000000",
        ] {
            let value = parse(text.as_bytes()).unwrap();
            assert_eq!(super::canonical(text.as_bytes()), Some(value), "{text}");
        }
        for text in [
            "1000000000000000000",
            "0.000000000000000001",
            "1.000000000000000000",
            "-9223372036854775808",
        ] {
            assert!(parse(text.as_bytes()).is_ok(), "{text}");
            assert_eq!(super::canonical(text.as_bytes()), None, "{text}");
        }
    }

    #[test]
    fn text_that_is_not_a_value_is_refused() {
        for text in [
            "",
            "-",
            "+",
            ".",
            "-.",
            "+-1",
            "1,5",
            "1_000",
            "0x10",
            "inf",
            "nan",
            "\u{2212}1",
            "1e",
            "1e+",
            "e5",
            "1.2.3",
            " 1",
            "1 ",
            "١",
        ] {
            assert_eq!(parse(text.as_bytes()), Err(Bad::Form), "{text}");
        }
    }

    #[test]
    fn values_past_the_limits_are_refused_not_rounded() {
        for text in [
            "1e30",
            "1e-19",
            "0.0000000000000000001",
            "0.1000000000000000000",
            "9223372036854775808",
            "-9223372036854775809",
            "1e19",
            "92233720368547758.08e2",
        ] {
            assert_eq!(parse(text.as_bytes()), Err(Bad::Range), "{text}");
        }
    }

    #[test]
    fn canonical_form_drops_signs_zeros_and_exponents_but_not_the_scale() {
        for (text, expected) in [
            ("007.50", "7.50"),
            ("+.5", "0.5"),
            ("-.5", "-0.5"),
            ("5.", "5"),
            ("-0", "0"),
            ("-0.00", "0.00"),
            ("1e-05", "0.00001"),
            ("2.5E3", "2500"),
            ("-9223372036854775808", "-9223372036854775808"),
            ("-9.223372036854775808", "-9.223372036854775808"),
            ("0.000000000000000001", "0.000000000000000001"),
        ] {
            assert_eq!(canonical(text), expected, "{text}");
            assert_eq!(canonical(expected), expected, "{expected} reads back");
        }
    }

    /// What `Text::line`, the fast writer, prints for `d`, without the newline.
    fn written(d: Decimal) -> String {
        let mut text = Text::default();
        text.line(&Prefix::new(b""), d.mantissa().into(), d.scale());
        let line = String::from_utf8(text.as_bytes().to_vec()).unwrap();
        line.strip_suffix('\n').unwrap().to_string()
    }

    /// Mantissas for every scale: the edges, powers of ten and their neighbours (zeros
    /// after the point, nines before it), and pseudo-random ones of every width.
    fn mantissas() -> Vec<i64> {
        let mut all = vec![0, 1, -1, 5, -5, i64::MIN, i64::MIN + 1, i64::MAX];
        for k in 0..19 {
            let p = 10i64.pow(k);
            all.extend([p, -p, p - 1, 1 - p, p + 1, -p - 1]);
        }
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..2000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            all.push((state as i64) >> (state % 64));
        }
        all
    }

    #[test]
    fn display_prints_what_the_fast_writer_prints_at_every_scale() {
        for scale in 0..=MAX_SCALE {
            for mantissa in mantissas() {
                let d = Decimal::new(mantissa, scale).unwrap();
                assert_eq!(d.to_string(), written(d), "{mantissa} at scale {scale}");
            }
        }
        let d = |mantissa, scale| Decimal::new(mantissa, scale).unwrap().to_string();
        assert_eq!(d(5, 3), "0.005");
        assert_eq!(d(-5, 3), "-0.005");
        assert_eq!(d(1005, 3), "1.005");
        assert_eq!(d(0, 2), "0.00");
        assert_eq!(d(i64::MIN, 18), "-9.223372036854775808");
        assert_eq!(d(i64::MAX, 0), "9223372036854775807");
    }

    #[test]
    fn canonical_text_parses_and_displays_as_itself() {
        for scale in 0..=MAX_SCALE {
            for mantissa in mantissas() {
                let d = Decimal::new(mantissa, scale).unwrap();
                let text = d.to_string();
                assert_eq!(text.parse::<Decimal>(), Ok(d), "{text}");
            }
        }
        for text in [
            "0",
            "-1",
            "0.005",
            "-0.50",
            "7.000000000000000000",
            "1e3",
            "+2",
            ".5",
        ] {
            let d: Decimal = text.parse().unwrap();
            let canonical = d.to_string();
            assert_eq!(canonical.parse::<Decimal>(), Ok(d), "{text}");
            assert_eq!(canonical, written(d), "{text}");
        }
        assert_eq!("1e-19".parse::<Decimal>(), Err(Bad::Range));
        assert_eq!("x".parse::<Decimal>(), Err(Bad::Form));
    }

    #[test]
    fn why_text_is_refused_quotes_it_and_says_what_a_value_is() {
        assert_eq!(
            why_refused(b"x", Bad::Form),
            "'x' is not a value: a value is a decimal such as 7, -12, 20.5, .5 or 2.5E3"
        );
        assert_eq!(
            why_refused(b"1e30", Bad::Range),
            "'1e30' is out of range: a value is m·10^-s with m a 64-bit integer and at \
             most 18 digits after the point"
        );
    }

    #[test]
    fn common_scale_multiplies_the_coarser_value() {
        let d = |text: &str| parse(text.as_bytes()).unwrap();
        assert_eq!(
            at_common_scale(d("19.5"), d("25.25")),
            Some((1950, 2525, 2))
        );
        assert_eq!(at_common_scale(d("1"), d("1.0")), Some((10, 10, 1)));
        assert_eq!(at_common_scale(d("9223372036854775807"), d("0.1")), None);
    }
}
