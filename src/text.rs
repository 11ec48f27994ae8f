//! Output lines, written fast: `PREFIX VALUE\n` with the value in canonical form.
//!
//! Invariant: `buf[..len]` holds whole lines, and `buf` always has `ROOM` zeroed bytes or
//! more after them, so a line is written with stores of a fixed size, the padding past its
//! end overwritten by the next line. Formatting is most of the work per value: std's
//! machinery and copies of a variable size cost more than the merge.

/// The most a line takes besides its prefix: a sign, "0.", 39 digits, a newline, padding.
const ROOM: usize = 64;

/// "00" to "99".
static PAIRS: [[u8; 2]; 100] = {
    let mut pairs = [[0; 2]; 100];
    let mut n = 0;
    while n < 100 {
        pairs[n] = [b'0' + (n / 10) as u8, b'0' + (n % 10) as u8];
        n += 1;
    }
    pairs
};

/// `v·10^-s\n` for every v below 1000 and s from 0 to 3, in 8 bytes, and its length: most
/// values of most runs are small, and a lookup is the fastest way to write them.
static TABLES: [[([u8; 8], u8); 1000]; 4] = {
    let mut tables = [[([0; 8], 0); 1000]; 4];
    let mut s = 0;
    while s <= 3 {
        let unit = [1, 10, 100, 1000][s];
        let mut v = 0;
        while v < 1000 {
            let (mut text, mut len) = ([0u8; 8], 0);
            let whole = v / unit;
            let mut k = if whole >= 100 {
                3
            } else if whole >= 10 {
                2
            } else {
                1
            };
            while k > 0 {
                k -= 1;
                text[len] = b'0' + (whole / [1, 10, 100][k] % 10) as u8;
                len += 1;
            }
            if s > 0 {
                text[len] = b'.';
                len += 1;
            }
            let mut k = s;
            while k > 0 {
                k -= 1;
                text[len] = b'0' + (v / [1, 10, 100][k] % 10) as u8;
                len += 1;
            }
            text[len] = b'\n';
            tables[s][v] = (text, len as u8 + 1);
            v += 1;
        }
        s += 1;
    }
    tables
};

/// `v` at `scale` with its newline, from `TABLES`, if it is small enough to be there.
#[inline]
fn small(v: i128, scale: u8) -> Option<([u8; 8], u8)> {
    let v = usize::try_from(v).ok().filter(|&v| v < 1000)?;
    TABLES.get(usize::from(scale)).map(|table| table[v])
}

/// A line's start, `NAME `, padded with zeros to a multiple of 16 bytes.
#[derive(Clone, Debug)]
pub(crate) struct Prefix {
    padded: Vec<u8>,
    len: usize,
}

impl Prefix {
    pub(crate) fn new(text: &[u8]) -> Self {
        let mut padded = text.to_vec();
        padded.resize(text.len().next_multiple_of(16), 0);
        Prefix {
            padded,
            len: text.len(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.padded[..self.len]
    }
}

/// Lines, and room to write more.
#[derive(Debug, Default)]
pub(crate) struct Text {
    buf: Vec<u8>,
    len: usize,
}

impl Text {
    pub(crate) fn with_capacity(bytes: usize) -> Self {
        Text {
            buf: vec![0; bytes + ROOM],
            len: 0,
        }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn clear(&mut self) {
        self.len = 0;
    }

    /// Makes room for `bytes` more, and the padding after them.
    #[inline]
    fn reserve(&mut self, bytes: usize) {
        if self.buf.len() < self.len + bytes + ROOM {
            self.buf.resize(2 * self.buf.len() + bytes + ROOM, 0);
        }
    }

    /// Appends lines already in canonical form.
    pub(crate) fn extend(&mut self, lines: &[u8]) {
        self.reserve(lines.len());
        self.buf[self.len..self.len + lines.len()].copy_from_slice(lines);
        self.len += lines.len();
    }

    /// Appends a line for each of `values` at `scale`: for short names and small values,
    /// the common case, one 16-byte and one 8-byte store each, in one tight loop that
    /// keeps the length in a register; anything else, a line at a time.
    pub(crate) fn lines<T: Copy + Into<i128>>(&mut self, prefix: &Prefix, values: &[T], scale: u8) {
        let Ok(head) = <[u8; 16]>::try_from(&prefix.padded[..]) else {
            return values
                .iter()
                .for_each(|&v| self.line(prefix, v.into(), scale));
        };
        let mut i = 0;
        while i < values.len() {
            let (buf, mut len) = (&mut self.buf[..], self.len);
            while let Some(&v) = values.get(i) {
                // A line here writes at most 16 + 8 bytes; past those, it is `reserve`'s turn.
                let Some((text, width)) = small(v.into(), scale).filter(|_| len + 24 <= buf.len())
                else {
                    break;
                };
                buf[len..len + 16].copy_from_slice(&head);
                buf[len + prefix.len..len + prefix.len + 8].copy_from_slice(&text);
                len += prefix.len + usize::from(width);
                i += 1;
            }
            self.len = len;
            self.reserve(0); // the padding after the lines, as the invariant has it
            if let Some(&v) = values.get(i) {
                self.line(prefix, v.into(), scale);
                i += 1;
            }
        }
    }

    /// TEMPORARY
    pub(crate) fn line_timed(
        &mut self,
        prefix: &Prefix,
        n: i128,
        scale: u8,
        time: i64,
        time_scale: u8,
    ) {
        self.line(prefix, n, scale);
        self.len -= 1;
        self.line(&Prefix::new(b" "), time.into(), time_scale);
    }

    /// TEMPORARY
    pub(crate) fn lines_timed<T: Copy + Into<i128>>(
        &mut self,
        prefix: &Prefix,
        values: &[T],
        scale: u8,
        times: &[i64],
        time_scale: u8,
    ) {
        for (&v, &t) in values.iter().zip(times) {
            self.line_timed(prefix, v.into(), scale, t, time_scale);
        }
    }

    /// Appends `prefix`, n·10^-scale in canonical form (no `+`, no leading zeros, `scale`
    /// digits after the point, a `0` before a leading point) and a newline.
    #[inline]
    pub(crate) fn line(&mut self, prefix: &Prefix, n: i128, scale: u8) {
        self.reserve(prefix.padded.len());
        let mut at = self.len;
        for chunk in prefix.padded.chunks_exact(16) {
            self.buf[at..at + 16].copy_from_slice(chunk);
            at += 16;
        }
        at = self.len + prefix.len;
        let buf = &mut self.buf[at..at + ROOM];
        if let Some((text, len)) = small(n, scale) {
            buf[..8].copy_from_slice(&text);
            self.len += prefix.len + usize::from(len);
            return;
        }
        buf[0] = b'-';
        let mut at = usize::from(n < 0);
        let scale = usize::from(scale);
        match u64::try_from(n.unsigned_abs()) {
            Ok(v) if scale == 0 => at = digits(buf, at, v, width(v)),
            Ok(v) => {
                let (whole, fraction) = split(v, scale);
                at = match small(whole.into(), 0) {
                    Some((text, len)) => {
                        buf[at..at + 8].copy_from_slice(&text);
                        at + usize::from(len) - 1
                    }
                    None => digits(buf, at, whole, width(whole)),
                };
                buf[at] = b'.';
                at = digits(buf, at + 1, fraction, scale);
            }
            Err(_) => at = wide(buf, at, n.unsigned_abs(), scale),
        }
        buf[at] = b'\n';
        self.len += prefix.len + at + 1;
    }
}

/// `v` divided by 10^scale, and the remainder: by a constant for the common scales, which
/// is a multiplication rather than a division.
#[inline]
fn split(v: u64, scale: usize) -> (u64, u64) {
    match scale {
        1 => (v / 10, v % 10),
        2 => (v / 100, v % 100),
        3 => (v / 1000, v % 1000),
        4 => (v / 10_000, v % 10_000),
        _ => {
            let unit = 10u64.pow(scale as u32);
            (v / unit, v % unit)
        }
    }
}

/// How many digits `v` has.
#[inline]
fn width(v: u64) -> usize {
    v.checked_ilog10().map_or(1, |log| log as usize + 1)
}

/// Writes the last `count` digits of `v` at `buf[at..]`, zeros first if need be; returns
/// where they end.
#[inline]
fn digits(buf: &mut [u8], at: usize, mut v: u64, count: usize) -> usize {
    let end = at + count;
    let mut i = end;
    while i >= at + 2 {
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[(v % 100) as usize]);
        v /= 100;
    }
    if i > at {
        buf[at] = b'0' + (v % 10) as u8;
    }
    end
}

/// Writes `v`, more than a `u64`, at scale `scale` at `buf[at..]`: the slow way, digit by
/// digit; returns where it ends.
#[cold]
fn wide(buf: &mut [u8], at: usize, mut v: u128, scale: usize) -> usize {
    let mut reversed = Vec::with_capacity(41);
    while v > 0 || reversed.len() <= scale {
        if reversed.len() == scale && scale > 0 {
            reversed.push(b'.');
        }
        reversed.push(b'0' + (v % 10) as u8);
        v /= 10;
    }
    for (i, &digit) in reversed.iter().rev().enumerate() {
        buf[at + i] = digit;
    }
    at + reversed.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printed(n: i128, scale: u8) -> String {
        let mut text = Text::default();
        text.line(&Prefix::new(b"v "), n, scale);
        String::from_utf8(text.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn integers_print_as_std_prints_them() {
        let edges = [
            0,
            7,
            -7,
            10,
            -10,
            99,
            100,
            1 << 64,
            -(1 << 64),
            i128::MAX,
            i128::MIN,
        ];
        let powers = (0..39).flat_map(|k| {
            let p = 10i128.pow(k);
            [p - 1, p, -p, 1 - p]
        });
        for n in edges
            .into_iter()
            .chain(powers)
            .chain((-1000..1000).map(|n| n * 9_999_991))
        {
            assert_eq!(printed(n, 0), format!("v {n}\n"));
        }
        assert_eq!(printed(u64::MAX.into(), 0), format!("v {}\n", u64::MAX));
    }

    #[test]
    fn decimals_keep_their_scale() {
        assert_eq!(printed(-5, 3), "v -0.005\n");
        assert_eq!(printed(0, 2), "v 0.00\n");
        assert_eq!(printed(2130, 2), "v 21.30\n");
        assert_eq!(printed(i64::MIN.into(), 18), "v -9.223372036854775808\n");
        assert_eq!(printed(1, 18), "v 0.000000000000000001\n");
        assert_eq!(
            printed(i128::MIN, 18),
            "v -170141183460469231731.687303715884105728\n"
        );
        assert_eq!(printed(1 << 64, 20), "v 0.18446744073709551616\n");
    }

    #[test]
    fn many_lines_at_once_are_the_lines_one_at_a_time() {
        let values: Vec<i64> = (-1100..1100).chain([i64::MIN, i64::MAX]).collect();
        for name in ["x ", "a_rather_long_stream_name "] {
            let prefix = Prefix::new(name.as_bytes());
            for scale in [0, 1, 2, 3, 5] {
                let (mut many, mut one) = (Text::default(), Text::default());
                many.lines(&prefix, &values, scale);
                values
                    .iter()
                    .for_each(|&v| one.line(&prefix, v.into(), scale));
                assert!(many.as_bytes() == one.as_bytes(), "{name} {scale}");
            }
        }
    }

    #[test]
    fn lines_follow_one_another_whatever_the_prefix() {
        let mut text = Text::with_capacity(0);
        let long = Prefix::new(format!("{} ", "n".repeat(40)).as_bytes());
        for k in 0..1000 {
            text.line(&Prefix::new(b"x "), k, 1);
            text.line(&long, -k, 0);
        }
        let expected: String = (0..1000)
            .map(|k| format!("x {}.{}\n{} {}\n", k / 10, k % 10, "n".repeat(40), -k))
            .collect();
        assert_eq!(
            String::from_utf8(text.as_bytes().to_vec()).unwrap(),
            expected
        );
    }
}
