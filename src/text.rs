//! Output lines, written fast: `PREFIX VALUE\n` with the value in canonical form.
//!
//! Invariant: `buf[..len]` holds whole lines, and `buf` always has `ROOM` bytes or more
//! after them to write into (what they hold is never read), so a line is written with
//! stores of a fixed size, the padding past its end overwritten by the next line.
//! Formatting is most of the work per value: std's machinery and copies of a variable
//! size cost more than the merge.

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

/// `v·10^-s\n` for every v below 10000 and s from 0 to 3, in 8 bytes, and its length: most
/// values of most runs are small, readings such as `21.35` and their sums among them, and
/// a lookup is the fastest way to write them. 352 KiB, of which a run touches the values
/// it has.
static TABLES: [[([u8; 8], u8); 10000]; 4] = {
    let mut tables = [[([0; 8], 0); 10000]; 4];
    let mut s = 0;
    while s <= 3 {
        let unit = [1, 10, 100, 1000][s];
        let mut v = 0;
        while v < 10000 {
            let (mut text, mut len) = ([0u8; 8], 0);
            let whole = v / unit;
            let mut k = if whole >= 1000 {
                4
            } else if whole >= 100 {
                3
            } else if whole >= 10 {
                2
            } else {
                1
            };
            while k > 0 {
                k -= 1;
                text[len] = b'0' + (whole / [1, 10, 100, 1000][k] % 10) as u8;
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
    let v = usize::try_from(v).ok().filter(|&v| v < 10000)?;
    TABLES.get(usize::from(scale)).map(|table| table[v])
}

/// `v` at `scale`, from 1 to 3, with its newline, for `v` from 0 to below 1000 units: its
/// whole part from the tables, the point, and its digits after it from `PAIRS`, in one
/// word, as `small` gives a value in the tables: the values just past the tables, such as
/// `123.45`.
///
/// Exact: v is whole·10^scale + fraction, the fraction below 10^scale, written with
/// `scale` digits, zeros first, as the canonical form has it. At most 3 digits, the point,
/// 3 digits and the newline: 8 bytes.
#[inline]
fn point(v: i128, scale: u8) -> Option<([u8; 8], u8)> {
    let v = u64::try_from(v).ok()?;
    let pair = |n: u64| u64::from(u16::from_le_bytes(PAIRS[n as usize]));
    let (whole, fraction) = match scale {
        1 => (v / 10, u64::from(b'0') + v % 10),
        2 => (v / 100, pair(v % 100)),
        3 => (
            v / 1000,
            pair(v % 1000 / 10) | (u64::from(b'0') + v % 10) << 16,
        ),
        _ => return None,
    };
    let &(text, width) = TABLES[0][..1000].get(usize::try_from(whole).ok()?)?;
    // The whole part's digits, 1 to 3, less their newline; the point; the fraction's
    // digits and a newline.
    let digits = usize::from(width.wrapping_sub(1) & 3);
    let whole = u64::from_le_bytes(text) & (u64::MAX >> (64 - 8 * digits));
    let fraction = fraction | u64::from(b'\n') << (8 * scale);
    let line = whole | u64::from(b'.') << (8 * digits) | fraction << (8 * (digits + 1));
    Some((line.to_le_bytes(), (digits + usize::from(scale) + 2) as u8))
}

/// `v` at `scale` with its newline, for `v` below 10^8 in size at scales 1 to 7, as
/// `eight_at_scale` writes it: at most 11 bytes, in 16. Worked out, not looked up, so that
/// a run of such values keeps to the fast loop, where their digits are worked out side by
/// side rather than one line after another.
#[inline]
fn medium(v: i128, scale: u8) -> Option<([u8; 16], u8)> {
    let magnitude = u64::try_from(v.unsigned_abs()).ok().filter(|&m| m < E8)?;
    if !(1..8).contains(&scale) {
        return None;
    }
    let mut text = [0; 32];
    text[0] = b'-';
    let end = eight_at_scale(&mut text, usize::from(v < 0), magnitude, scale.into());
    text[end] = b'\n';
    let mut line = [0; 16];
    line.copy_from_slice(&text[..16]);
    Some((line, end as u8 + 1))
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
}

/// No prefix: what `line_timed` writes the time with.
static BARE: Prefix = Prefix {
    padded: Vec::new(),
    len: 0,
};

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

    /// Appends `prefix` and each line of `block` that ends at `ends`, the first at its
    /// start, with its newline: for short names and lines, the common case, two 16-byte
    /// stores each, the next line's overwriting the bytes past this one's end.
    pub(crate) fn prefixed(&mut self, prefix: &Prefix, block: &[u8], ends: &[usize]) {
        let Some(&last) = ends.last() else { return };
        self.reserve(last + 1 + ends.len() * prefix.padded.len() + 32);
        let (head, at) = (
            <[u8; 16]>::try_from(&prefix.padded[..]).ok(),
            prefix.len.min(16),
        );
        let (mut i, mut start) = (0, 0);
        while i < ends.len() {
            let (buf, mut len) = (&mut self.buf[..], self.len);
            if let Some(head) = head {
                // Short lines and prefix: within the ROOM bytes that the invariant leaves
                // past `len`, each a 16-byte store, from a block that has 16 bytes from its
                // start. A loop with no call in it, so that what it needs stays in registers.
                while let Some(&end) = ends.get(i) {
                    let bytes = end + 1 - start;
                    let (true, Some(line), Some(text)) = (
                        bytes <= 16,
                        buf.get_mut(len..len + ROOM),
                        block.get(start..start + 16),
                    ) else {
                        break;
                    };
                    let line: &mut [u8; ROOM] = line.try_into().expect("ROOM bytes");
                    line[..16].copy_from_slice(&head);
                    line[at..at + 16].copy_from_slice(text);
                    (len, start, i) = (len + at + bytes, end + 1, i + 1);
                }
            }
            if let Some(&end) = ends.get(i) {
                buf[len..len + prefix.len].copy_from_slice(&prefix.padded[..prefix.len]);
                buf[len + prefix.len..][..end + 1 - start].copy_from_slice(&block[start..=end]);
                (len, start, i) = (len + prefix.len + end + 1 - start, end + 1, i + 1);
            }
            self.len = len;
        }
    }

    /// Appends lines already in canonical form.
    pub(crate) fn extend(&mut self, lines: &[u8]) {
        self.reserve(lines.len());
        self.buf[self.len..self.len + lines.len()].copy_from_slice(lines);
        self.len += lines.len();
    }

    /// Appends a line for each of `values` at `scale`: for short names and small values,
    /// the common case, one 16-byte store for the prefix and one 8-byte store from a table
    /// (or, past the tables, one store as `point` or `medium` works it out) each, in one
    /// tight loop that keeps the length in a register; anything else, a line at a time.
    pub(crate) fn lines<T: Copy + Into<i128>>(&mut self, prefix: &Prefix, values: &[T], scale: u8) {
        // A loop for each way past the tables: one that holds both keeps fewer values in
        // registers, and costs the values in the tables more.
        if (1..=3).contains(&scale) {
            let point = |v, scale| {
                let Some((text, width)) = point(v, scale) else {
                    return medium(v, scale);
                };
                let mut wide = [0; 16];
                wide[..8].copy_from_slice(&text);
                Some((wide, width))
            };
            self.lines_past(prefix, values, scale, point);
        } else {
            self.lines_past(prefix, values, scale, medium);
        }
    }

    /// `lines`, with `past` to work out the values past the tables, or `None` to leave
    /// them to `line`.
    #[inline(always)]
    fn lines_past<T: Copy + Into<i128>>(
        &mut self,
        prefix: &Prefix,
        values: &[T],
        scale: u8,
        past: impl Fn(i128, u8) -> Option<([u8; 16], u8)>,
    ) {
        let Ok(head) = <[u8; 16]>::try_from(&prefix.padded[..]) else {
            return values
                .iter()
                .for_each(|&v| self.line(prefix, v.into(), scale));
        };
        let table = TABLES
            .get(usize::from(scale))
            .map_or(&[][..], |table| &table[..]);
        let start = prefix.len.min(16);
        let mut i = 0;
        while i < values.len() {
            let (buf, mut len) = (&mut self.buf[..], self.len);
            while let Some(&v) = values.get(i) {
                // A line here is at most 16 bytes of prefix and 16 of value, within the ROOM
                // bytes from its start, which the invariant leaves past `len`. Offsets within
                // `line` are bounded where they are made, so that none needs a check.
                let v = v.into();
                // Found in two comparisons: the range `len..len + ROOM` would also check
                // that its end does not overflow.
                let room = buf.get_mut(len..).and_then(<[u8]>::first_chunk_mut::<ROOM>);
                let Some(line) = room else {
                    break;
                };
                line[..16].copy_from_slice(&head);
                let width = match usize::try_from(v).ok().and_then(|v| table.get(v)) {
                    Some(&(text, width)) => {
                        line[start..start + 8].copy_from_slice(&text);
                        width
                    }
                    None => {
                        let Some((text, width)) = past(v, scale) else {
                            break;
                        };
                        line[start..start + 16].copy_from_slice(&text);
                        width
                    }
                };
                len += start + usize::from(width & 15);
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
            Ok(v) if v < E8 && scale < 8 => at = eight_at_scale(buf, at, v, scale),
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

    /// Appends `prefix`, n·10^-scale and time·10^-time_scale, each in canonical form as
    /// `line` writes it, a space between them and a newline: `PREFIX VALUE TIME\n`.
    ///
    /// Exact as `line` is, since `line` writes both: the value's line, whose newline
    /// becomes the space, then the time's, with no prefix; an `i64` time is an `i128`
    /// unchanged.
    #[inline]
    pub(crate) fn line_timed(
        &mut self,
        prefix: &Prefix,
        n: i128,
        scale: u8,
        time: i64,
        time_scale: u8,
    ) {
        self.line(prefix, n, scale);
        self.buf[self.len - 1] = b' ';
        self.line(&BARE, time.into(), time_scale);
    }

    /// Appends a line for each of `values` at `scale`, the first at time `first`, the next
    /// at `first + 1`, and so on, as `lines_timed` writes them: times that count, as a
    /// generated stream's do. For short names and small values, the common case, a time's
    /// text is worked out once for each hundred times, with the space before it and the
    /// newline, as one word: then each line is one 16-byte store for the prefix, one 8-byte
    /// store for the value and one 16-byte store for the time, and the word's last digit
    /// goes up by one, and its tens digit at each ten. Anything else, a line at a time.
    pub(crate) fn lines_counted<T: Copy + Into<i128>>(
        &mut self,
        prefix: &Prefix,
        values: &[T],
        scale: u8,
        first: u64,
    ) {
        let one_by_one = |text: &mut Self, from: usize, t: u64| {
            for (k, &v) in values[from..].iter().enumerate() {
                text.line_timed(prefix, v.into(), scale, (t + k as u64) as i64, 0);
            }
        };
        let (Some(table), Ok(head)) = (
            TABLES.get(usize::from(scale)),
            <[u8; 16]>::try_from(&prefix.padded[..]),
        ) else {
            return one_by_one(self, 0, first);
        };
        let start = prefix.len.min(16);
        let mut leading = Leading::NONE;
        // The text of time `t`, what adding one to its last digit adds, how many bytes it
        // takes, how many times from `t` on are written by adding one, and how many times
        // after those the tens digit can go up by one in the same way.
        let (mut i, mut t) = (0, first);
        let (mut word, mut step, mut bytes, mut run, mut decades) = (0u128, 0u128, 0, 0, 0);
        while i < values.len() {
            if run == 0 {
                let counter = Counter::at(t, &mut leading);
                if counter.bytes == 0 {
                    return one_by_one(self, i, t); // past 14 digits
                }
                (word, step, bytes) = (counter.line, counter.step, counter.bytes);
                run = usize::from(counter.left) + 1;
                decades = if t >= 10 {
                    9 - (t / 10 % 10) as usize
                } else {
                    0
                };
            }
            let (buf, mut len) = (&mut self.buf[..], self.len);
            let mut taken = 0;
            for &v in &values[i..] {
                if run == 0 {
                    if decades == 0 {
                        break; // at a hundred: the next word is worked out again
                    }
                    // From ..d9 to ..(d+1)0, d below 9: the last digit, one past '9' now,
                    // less 10, and the tens digit, the byte before it, plus one.
                    (word, run, decades) = (word - 10 * step + (step >> 8), 10, decades - 1);
                }
                // A line here is at most 16 bytes of prefix, 8 of value and 16 of space and
                // time, within the ROOM bytes from its start, which the invariant leaves
                // past `len`. Offsets within `line` are bounded where they are made, so
                // that none needs a check.
                let value = usize::try_from(v.into()).ok().and_then(|v| table.get(v));
                let (Some(&value), Some(line)) = (value, buf.get_mut(len..len + ROOM)) else {
                    break;
                };
                let line: &mut [u8; ROOM] = line.try_into().expect("ROOM bytes");
                let at = timed_start(line, (&head, start), value);
                line[at..at + 16].copy_from_slice(&word.to_le_bytes());
                len += at + bytes;
                word += step;
                (run, taken) = (run - 1, taken + 1);
            }
            self.len = len;
            self.reserve(0); // the padding after the lines, as the invariant has it
            (i, t) = (i + taken, t + taken as u64);
            if run > 0 && i < values.len() {
                // A value not in the tables, or no room: this line the long way.
                self.line_timed(prefix, values[i].into(), scale, t as i64, 0);
                (i, t, run, word) = (i + 1, t + 1, run - 1, word + step);
            }
        }
    }

    /// Appends a line for each of `values` at `scale` with the time of the same index in
    /// `times` at `time_scale`, as `line_timed` writes it. Times that count go to
    /// `lines_counted`. For short names, small values and integer times from 0, the common
    /// case, one 16-byte store for the prefix, one 8-byte store for the value, then the
    /// space and the time with one 16-byte store (see `Counter`), or its digits 8 at a time
    /// (see `time_digits`), in one tight loop that keeps the length in a register; anything
    /// else, a line at a time.
    ///
    /// Panics if `values` and `times` differ in length.
    pub(crate) fn lines_timed<T: Copy + Into<i128>>(
        &mut self,
        prefix: &Prefix,
        values: &[T],
        scale: u8,
        times: &[i64],
        time_scale: u8,
    ) {
        assert_eq!(values.len(), times.len(), "a time for each value");
        let fast = (prefix.padded.len() == 16, time_scale);
        let (Some(table), (true, 0)) = (TABLES.get(usize::from(scale)), fast) else {
            for (&v, &t) in values.iter().zip(times) {
                self.line_timed(prefix, v.into(), scale, t, time_scale);
            }
            return;
        };
        // Every pair looked at, with no early exit, so that the loop takes several at once.
        let counting =
            (times.windows(2)).fold(true, |all, pair| all & (pair[1].wrapping_sub(pair[0]) == 1));
        if let (true, Some(&first)) = (counting, times.first()) {
            if let Ok(first) = u64::try_from(first) {
                return self.lines_counted(prefix, values, scale, first);
            }
        }
        let head: [u8; 16] = prefix.padded[..16].try_into().expect("16 bytes");
        let start = prefix.len.min(16);
        // A time one more than the last, as times that count mostly are, is written by
        // adding one to the last one's digits (see `Counter`).
        let (mut i, mut leading, mut counter) = (0, Leading::NONE, Counter::NONE);
        while i < values.len() {
            let (buf, mut len) = (&mut self.buf[..], self.len);
            while let (Some(&v), Some(&t)) = (values.get(i), times.get(i)) {
                // A line here is at most 16 bytes of prefix, 8 of value and space, and a
                // time of 19 digits and a newline, whose stores end 4 bytes past it at
                // most: all within the ROOM bytes from its start, which the invariant
                // leaves past `len`. Offsets within `line` are bounded where they are
                // made, so that none needs a check.
                let value = usize::try_from(v.into()).ok().and_then(|v| table.get(v));
                let (Some(&value), Some(line)) = (value, buf.get_mut(len..len + ROOM)) else {
                    break;
                };
                let line: &mut [u8; ROOM] = line.try_into().expect("ROOM bytes");
                let at = timed_start(line, (&head, start), value);
                len += if counter.follows(t) {
                    counter.write(line, at)
                } else {
                    let Ok(t) = u64::try_from(t) else { break };
                    counter = Counter::at(t, &mut leading);
                    if counter.bytes > 0 {
                        line[at..at + 16].copy_from_slice(&counter.line.to_le_bytes());
                        at + counter.bytes
                    } else {
                        line[at] = b' ';
                        time_digits(line, at + 1, t, &mut leading)
                    }
                };
                i += 1;
            }
            self.len = len;
            self.reserve(0); // the padding after the lines, as the invariant has it
            if let Some(&v) = values.get(i) {
                self.line_timed(prefix, v.into(), scale, times[i], time_scale);
                i += 1;
            }
        }
    }
}

/// Writes the start of a timed line at `line`'s start: `head`, which `start` bytes of are
/// the prefix, then a value's `text` from the tables; returns where its newline is, where
/// the space before the time goes. At most 24 bytes, within the window.
#[inline(always)]
fn timed_start(
    line: &mut [u8; ROOM],
    (head, start): (&[u8; 16], usize),
    value: ([u8; 8], u8),
) -> usize {
    let ((text, width), start) = (value, start.min(16));
    line[..16].copy_from_slice(head);
    line[start..start + 8].copy_from_slice(&text);
    start + usize::from(width.wrapping_sub(1) & 7)
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

/// 10^8: a time's digits are written 8 at a time.
const E8: u64 = 100_000_000;

/// `0` in every byte of a word: a digit's value plus this is its ASCII.
const ASCII: u64 = 0x3030_3030_3030_3030;

/// The last time written, with the space before it, so that the next, when it is one more
/// and the last did not end in 9, as times that count ticks, seconds or rounds mostly are,
/// is written by adding one to its last digit: one addition and one store of 16 bytes, the
/// space and the newline with them, read and written whole (a wide read of what narrow
/// writes made waits for them to reach the cache).
#[derive(Clone, Copy)]
struct Counter {
    /// A space, the digits of the last time in ASCII, the first in the lowest byte but
    /// one, then a newline, then zeros.
    line: u128,
    /// One in the byte of the last digit: what adding one to it adds to `line`.
    step: u128,
    /// How many bytes `line` takes, at most 16.
    bytes: usize,
    /// The last time plus one.
    next: i64,
    /// How many more times one more can follow by adding one to the last digit: 9 less
    /// that digit, or 0 when none can (no time yet, or a time of 10^14 or more).
    left: u8,
}

impl Counter {
    const NONE: Counter = Counter {
        line: 0,
        step: 0,
        bytes: 0,
        next: 0,
        left: 0,
    };

    /// Whether `t` is one more than the last time, which did not end in 9: then, and only
    /// then, adding one to the last digit is exact.
    #[inline]
    fn follows(&self, t: i64) -> bool {
        self.left > 0 && self.next == t
    }

    /// Writes a space, the time one more than the last and a newline at `line[at..]`, with
    /// a store of 16 bytes; returns where the line ends.
    #[inline]
    fn write(&mut self, line: &mut [u8], at: usize) -> usize {
        self.line += self.step;
        (self.next, self.left) = (self.next + 1, self.left - 1);
        line[at..at + 16].copy_from_slice(&self.line.to_le_bytes());
        at + self.bytes
    }

    /// The counter at time `t`: a space, its digits and a newline, worked out in registers
    /// (a wide read of what narrow writes just made would wait for them to reach the
    /// cache); `NONE` past 14 digits, which no word holds with the space and newline.
    ///
    /// Exact: below 10^8, `t`'s digits are `eight`'s less its leading zeros but the last;
    /// past that, `high`'s digits (see `Leading`) then `low`'s 8, as `time_digits` writes.
    #[inline]
    fn at(t: u64, leading: &mut Leading) -> Counter {
        let (high, high_width, low, low_width) = if t < E8 {
            let text = eight(t);
            let zeros = (((text ^ ASCII) | 1 << 56).trailing_zeros() / 8) as usize;
            (0, 0, u128::from(text >> (8 * zeros)), 8 - zeros)
        } else {
            let (text, width) = leading.of(t / E8);
            (
                u128::from_le_bytes(text),
                width,
                u128::from(eight(t % E8)),
                8,
            )
        };
        let digits = high_width + low_width;
        if digits > 14 {
            return Counter::NONE;
        }
        let line = u128::from(b' ') | high << 8 | low << (8 * (1 + high_width));
        Counter {
            line: line | u128::from(b'\n') << (8 * (1 + digits)),
            step: 1 << (8 * digits),
            bytes: digits + 2,
            next: t as i64 + 1,
            left: 9 - (t % 10) as u8,
        }
    }
}

/// Writes the digits of `v`, as many as it has, and a newline at `buf[at..]`, with stores
/// that end 16 bytes past `at` at most, or at the newline; returns where the line ends.
/// `leading` holds the digits before the last 8 of the last time that had more than 8.
///
/// Exact: below 10^8, `v` is its own digits (see `eight_or_fewer`). Past that, `v` is
/// `high`·10^8 + `low`: `high`'s digits, as many as it has (see `Leading`), then `low`'s 8,
/// zeros first (see `eight`).
#[inline]
fn time_digits(buf: &mut [u8], at: usize, v: u64, leading: &mut Leading) -> usize {
    let end = if v < E8 {
        eight_or_fewer(buf, at, v)
    } else {
        let (text, width) = leading.of(v / E8);
        buf[at..at + 16].copy_from_slice(&text);
        let at = at + width;
        buf[at..at + 8].copy_from_slice(&eight(v % E8).to_le_bytes());
        at + 8
    };
    buf[end] = b'\n';
    end + 1
}

/// Writes the digits of `v`, below 10^8, as many as it has, at `buf[at..]` with an 8-byte
/// store, zeros after them; returns where they end.
///
/// Exact: `eight`'s 8 digits less its leading zeros but the last: the zero bytes of its
/// digits' values, counted from the first, a bit set in the last so that `0` keeps it.
#[inline]
fn eight_or_fewer(buf: &mut [u8], at: usize, v: u64) -> usize {
    let text = eight(v);
    let zeros = (((text ^ ASCII) | 1 << 56).trailing_zeros() / 8) as usize;
    buf[at..at + 8].copy_from_slice(&(text >> (8 * zeros)).to_le_bytes());
    at + 8 - zeros
}

/// Writes `v`, below 10^8, at `scale`, from 1 to 7, at `buf[at..]` with 8-byte stores:
/// the digits before the point (at least one), the point, and `scale` digits; returns
/// where they end.
///
/// Exact: `eight`'s 8 digits are the 8 - `scale` before the point, zeros first, then the
/// `scale` after it. The zeros dropped are the zero bytes of their values counted from the
/// first, a bit set in the last digit before the point so that it stays.
#[inline]
fn eight_at_scale(buf: &mut [u8], at: usize, v: u64, scale: usize) -> usize {
    debug_assert!((1..8).contains(&scale));
    let text = eight(v);
    let whole = 8 - scale;
    let zeros = (((text ^ ASCII) | 1 << (8 * (whole - 1))).trailing_zeros() / 8) as usize;
    buf[at..at + 8].copy_from_slice(&(text >> (8 * zeros)).to_le_bytes());
    let at = at + whole - zeros;
    buf[at] = b'.';
    buf[at + 1..at + 9].copy_from_slice(&(text >> (8 * whole)).to_le_bytes());
    at + 1 + scale
}

/// The digits of a time before its last 8, as the last time that had such digits had
/// them: times that follow one another mostly share them (Unix seconds for three years,
/// milliseconds for a day, nanoseconds for a tenth of a second), and a line then copies
/// them rather than works them out again.
struct Leading {
    /// The time divided by 10^8, or 0 before any: no time past 10^8 has 0 there.
    high: u64,
    /// Its digits, zeros after them: it is below 10^12.
    text: [u8; 16],
    /// How many digits it has.
    width: usize,
}

impl Leading {
    const NONE: Leading = Leading {
        high: 0,
        text: [0; 16],
        width: 0,
    };

    /// The digits of `high`, not 0 and below 10^12, zeros after them, and how many: the
    /// last ones if `high` is the last, else written by `digits`.
    #[inline]
    fn of(&mut self, high: u64) -> ([u8; 16], usize) {
        debug_assert!(high > 0 && high < E8 * 10_000);
        if high != self.high {
            let width = width(high);
            self.text = [0; 16];
            digits(&mut self.text, 0, high, width);
            (self.high, self.width) = (high, width);
        }
        (self.text, self.width)
    }
}

/// The 8 digits of `v`, below 10^8, zeros first, in ASCII, the first in the word's lowest
/// byte (its first in memory, as `to_le_bytes` lays it out): a few multiplications in
/// lanes of one word, no loop and no table.
///
/// Exact: the 4-digit halves go to 32-bit lanes, then each half's 2-digit halves to 16-bit
/// lanes, then each digit to a byte. A lane's h below 10^4 times 10486, below 2^27, shifted
/// by 20 is h / 100: 10486 / 2^20 is 1/100 plus less than 2.3·10^-7, so h·10486 / 2^20 is
/// h / 100 plus less than 0.003, below the next integer. A lane's p below 100 times 103,
/// below 2^14, shifted by 10 is p / 10: 103 / 2^10 is 1/10 plus less than 5.9·10^-4, p·103
/// / 2^10 is p / 10 plus less than 0.06. No product reaches the next lane, and the masks
/// drop what the shifts bring down from it.
#[inline]
fn eight(v: u64) -> u64 {
    debug_assert!(v < E8);
    let fours = (v / 10_000) | ((v % 10_000) << 32);
    let hundreds = ((fours * 10_486) >> 20) & 0x0000_007f_0000_007f;
    let twos = hundreds | ((fours - 100 * hundreds) << 16);
    let tens = ((twos * 103) >> 10) & 0x000f_000f_000f_000f;
    let ones = twos - 10 * tens;
    (tens | (ones << 8)) | ASCII
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
    use crate::decimal::Decimal;

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
    fn every_value_in_the_tables_prints_as_display_has_it() {
        for scale in 0..=3u8 {
            for v in 0..10_000 {
                let expected = format!("v {}\n", Decimal::new(v, scale).unwrap());
                assert_eq!(printed(v.into(), scale), expected, "{v} at {scale}");
            }
        }
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
    fn decimals_below_10_to_the_8_at_scales_1_to_7_print_as_display_has_them() {
        // Every digit count, each with zeros and nines at its edges, at every such scale,
        // and both signs: the 8-byte way against `Decimal`'s `Display`.
        let mut values: Vec<i64> = (0..2000).collect();
        for digits in 1..=8u32 {
            let unit = 10i64.pow(digits - 1);
            values.extend([unit, unit + 1, 10 * unit - 1, 5 * unit, unit * 10 / 3]);
        }
        for scale in 1..8u8 {
            for &v in &values {
                for n in [v, -v] {
                    let expected = format!("v {}\n", Decimal::new(n, scale).unwrap());
                    assert_eq!(printed(n.into(), scale), expected, "{n} at {scale}");
                }
            }
        }
    }

    #[test]
    fn many_lines_at_once_are_the_lines_one_at_a_time() {
        let edges = [
            99_999_999,
            -99_999_999,
            100_000_000,
            12_345_678,
            i64::MIN,
            i64::MAX,
        ];
        // Past the tables (10000 and more), and past 1000 units, where `point` gives way.
        let units = [
            9_999, 10_000, 99_999, 100_000, 999_999, 1_000_000, 1_000_001,
        ];
        let past = (1100..1_100_000).step_by(97).chain(units);
        let values: Vec<i64> = (-1100..1100).chain(edges).chain(past).collect();
        for name in ["x ", "a_rather_long_stream_name "] {
            let prefix = Prefix::new(name.as_bytes());
            for scale in [0, 1, 2, 3, 5, 7, 8] {
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
    fn copied_lines_are_the_prefix_and_the_line_whatever_their_lengths() {
        // Lines of 0 to 20 bytes, each with its newline: 16 bytes or fewer take the fast way,
        // and so does a prefix of 16 bytes or fewer; the last lines of a block have fewer
        // than 16 bytes after their start.
        let lines: Vec<String> = (0..44).map(|k| "7".repeat(k % 21)).collect();
        for name in [1, 2, 14, 15, 16, 17, 30] {
            let start = format!("{} ", "n".repeat(name - 1));
            let prefix = Prefix::new(start.as_bytes());
            for first in [0, 1, 20, 40, 43] {
                let block: String = lines[first..].iter().map(|l| format!("{l}\n")).collect();
                let ends: Vec<usize> = block.match_indices('\n').map(|(i, _)| i).collect();
                let mut text = Text::with_capacity(0);
                text.prefixed(&prefix, block.as_bytes(), &ends);
                text.prefixed(&prefix, block.as_bytes(), &ends[..1]);
                let line = |l: &String| format!("{start}{l}\n");
                let expected: String = (lines[first..].iter().map(line))
                    .chain([line(&lines[first])])
                    .collect();
                assert_eq!(text.as_bytes(), expected.as_bytes(), "{name} {first}");
                assert!(
                    text.buf.len() >= text.len + ROOM,
                    "{name} {first}: room after the lines"
                );
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

    /// n·10^-scale as the decimal rules have it, by `format!`: the sign, the whole part (`0`
    /// if none), and with a scale the point and `scale` digits.
    fn decimal(n: i128, scale: u8) -> String {
        let (sign, scale) = (if n < 0 { "-" } else { "" }, usize::from(scale));
        let digits = format!("{:0>width$}", n.unsigned_abs(), width = scale + 1);
        let (whole, fraction) = digits.split_at(digits.len() - scale);
        match scale {
            0 => format!("{sign}{whole}"),
            _ => format!("{sign}{whole}.{fraction}"),
        }
    }

    fn timed(prefix: &Prefix, n: i128, scale: u8, time: i64, time_scale: u8) -> String {
        let mut text = Text::default();
        text.line_timed(prefix, n, scale, time, time_scale);
        String::from_utf8(text.as_bytes().to_vec()).unwrap()
    }

    /// Values for a merge: the edges of `i64` and `i128`, and powers of ten, their
    /// neighbours and their negatives.
    fn value_edges() -> Vec<i128> {
        let mut all = vec![0, 1, -1, 5, -5, 999, 1000];
        all.extend([i64::MIN, i64::MIN + 1, i64::MAX].map(i128::from));
        all.extend([i128::MIN, i128::MIN + 1, i128::MAX]);
        for k in 0..39 {
            let p = 10i128.pow(k);
            all.extend([p, -p, p - 1, 1 - p, p + 1, -p - 1]);
        }
        all
    }

    /// Times: 0, 9, 99, powers of ten and their neighbours, Unix seconds and milliseconds,
    /// the edges of `i64`, and their negatives.
    fn time_edges() -> Vec<i64> {
        let mut all = vec![
            0,
            9,
            99,
            1_764_614_400,
            1_764_614_400_125,
            i64::MAX,
            i64::MIN,
        ];
        for k in 0..19 {
            let p = 10i64.pow(k);
            all.extend([p, p - 1, p + 1]);
        }
        let negatives: Vec<i64> = all.iter().filter_map(|t| t.checked_neg()).collect();
        all.extend(negatives);
        all
    }

    #[test]
    fn a_timed_line_is_its_value_and_its_time_as_the_decimal_rules_have_them() {
        let (short, long) = (Prefix::new(b"t "), Prefix::new(&[b'n'; 30]));
        let check = |n: i128, scale: u8, time: i64, time_scale: u8| {
            for (prefix, name) in [(&short, "t "), (&long, &*"n".repeat(30))] {
                let expected = format!(
                    "{name}{} {}\n",
                    decimal(n, scale),
                    decimal(time.into(), time_scale)
                );
                let line = timed(prefix, n, scale, time, time_scale);
                assert_eq!(line, expected, "{n} at {scale}, {time} at {time_scale}");
            }
        };
        let some_times = [0, 1, -1, 1_764_614_400, i64::MIN, i64::MAX];
        for n in value_edges() {
            for scale in 0..=18 {
                for time in some_times {
                    for time_scale in [0, 3, 18] {
                        check(n, scale, time, time_scale);
                    }
                }
            }
        }
        let some_values = [0, -5, 999, i128::from(i64::MIN), i128::MIN, i128::MAX];
        for time in time_edges() {
            for time_scale in 0..=18 {
                for n in some_values {
                    for scale in [0, 2, 18] {
                        check(n, scale, time, time_scale);
                    }
                }
            }
        }
        assert_eq!(timed(&short, 3, 0, 17, 0), "t 3 17\n");
        assert_eq!(
            timed(&short, 2130, 2, 1_764_614_400_125, 3),
            "t 21.30 1764614400.125\n"
        );
        assert_eq!(timed(&short, -5, 3, -5, 3), "t -0.005 -0.005\n");
        assert_eq!(
            timed(&Prefix::new(b"merge "), 111, 0, 17, 0),
            "merge 111 17\n"
        );
        assert_eq!(
            timed(&short, i128::MIN, 18, i64::MIN, 18),
            "t -170141183460469231731.687303715884105728 -9.223372036854775808\n"
        );
    }

    /// `lines_timed` of `values` and `times`, and `line_timed` of each, for every name and
    /// scale, from a buffer with no room, so that it grows as the lines come.
    fn assert_timed_lines_are_lines_one_at_a_time<T: Copy + Into<i128>>(
        values: &[T],
        times: &[i64],
    ) {
        let names = [
            "x ",
            "sixteen_bytes__ ",
            &format!("{} ", "n".repeat(29)),
            "",
        ];
        for name in names {
            let prefix = Prefix::new(name.as_bytes());
            for (scale, time_scale) in [(0, 0), (1, 0), (2, 0), (3, 0), (5, 0), (0, 3), (2, 18)] {
                let (mut many, mut one) = (Text::default(), Text::default());
                many.lines_timed(&prefix, values, scale, times, time_scale);
                for (&v, &t) in values.iter().zip(times) {
                    one.line_timed(&prefix, v.into(), scale, t, time_scale);
                }
                assert!(
                    many.as_bytes() == one.as_bytes(),
                    "{name:?} {scale} {time_scale}"
                );
            }
        }
    }

    #[test]
    fn many_timed_lines_at_once_are_the_lines_one_at_a_time() {
        let values: Vec<i64> = (-1100..1100).chain([i64::MIN, i64::MAX, 0]).collect();
        let count = values.len() as i64;
        let edges = time_edges();
        let every_width = (0..count).map(|i| edges[i as usize % edges.len()]);
        for times in [
            (1..=count).collect::<Vec<_>>(),
            (0..count).collect(),
            (0..count).map(|i| 1_764_614_400 + i).collect(),
            // Counting past 14 and 15 digits, where the counter stops.
            (0..count).map(|i| 100_000_000_000_000 - 1000 + i).collect(),
            (0..count)
                .map(|i| 1_000_000_000_000_000 - 1000 + i)
                .collect(),
            (0..count).map(|i| 1_764_614_400_125 + 7 * i).collect(),
            (0..count).map(|i| i64::MAX - i).collect(),
            (0..count).map(|i| i64::MIN + i).collect(),
            every_width.collect(),
        ] {
            assert_timed_lines_are_lines_one_at_a_time(&values, &times);
            // Past the tables and an `i64`, with the edges of `i128` first.
            let mut wide: Vec<i128> = values.iter().map(|&v| i128::from(v) << 64).collect();
            wide[..2].copy_from_slice(&[i128::MIN, i128::MAX]);
            assert_timed_lines_are_lines_one_at_a_time(&wide, &times);
        }
    }

    #[test]
    fn eight_digits_come_first_to_last_with_leading_zeros() {
        let powers = (0..9).flat_map(|k| [10u64.pow(k) - 1, 10u64.pow(k)]);
        for v in (0..E8).step_by(9_973).chain(powers).filter(|&v| v < E8) {
            assert_eq!(eight(v).to_le_bytes(), *format!("{v:08}").as_bytes(), "{v}");
        }
        assert_eq!(&eight(E8 - 1).to_le_bytes(), b"99999999");
    }
}
