//! What the leaves and the reader send the root: one stream's values, in order, with their
//! output lines already written. Formatting is most of the work per value; done where the
//! values are made, it runs beside the merge instead of on the root, the one thread every
//! value passes through.
//!
//! Invariant: a batch's `lines` are the `NAME VALUE` lines of its `values`, in order, or
//! empty when only merges are printed.

use std::io;

/// At most this many values go in one message, as IoTPy's `extend` sends several at once:
/// one message per value would cost more than the merge itself.
pub(crate) const BATCH: usize = 2048;

/// What a leaf or the reader tells the root.
pub(crate) enum Msg {
    /// A stream's next values, in order.
    Values(Batch),
    /// The stream has no more values.
    End(usize),
    /// The stream's source panicked.
    Failed(usize),
    /// The input's line so numbered is bad, for the reason given.
    BadLine(u64, String),
    /// The input could not be read.
    Unreadable(io::Error),
}

/// A run of one stream's values.
pub(crate) struct Batch {
    pub(crate) stream: usize,
    pub(crate) values: Vec<i64>,
    pub(crate) lines: Vec<u8>,
}

impl Batch {
    /// An empty batch with room for `values` values and, if they are printed, their lines:
    /// growing a batch value by value would cost more than filling it.
    pub(crate) fn new(stream: usize, values: usize, prefix: Option<&[u8]>) -> Self {
        let line = prefix.map_or(0, |prefix| prefix.len() + 4); // allowing for a short value
        Batch {
            stream,
            values: Vec::with_capacity(values),
            lines: Vec::with_capacity(values * line),
        }
    }

    /// Empties the batch, keeping its room, to be filled again.
    pub(crate) fn clear(&mut self) {
        self.values.clear();
        self.lines.clear();
    }

    /// Appends `value`, and its line if the stream's lines are printed.
    pub(crate) fn push(&mut self, value: i64, prefix: Option<&[u8]>) {
        self.values.push(value);
        if let Some(prefix) = prefix {
            line(&mut self.lines, prefix, value.into());
        }
    }
}

/// What starts each line of stream `name`, `NAME `, or `None` when only merges are printed.
pub(crate) fn prefix(name: &str, merges_only: bool) -> Option<Vec<u8>> {
    (!merges_only).then(|| format!("{name} ").into_bytes())
}

/// Appends `prefix`, `n` in decimal and a newline. Done by hand: on the hot path, std's
/// formatting machinery costs more than the merge.
#[inline]
pub(crate) fn line(text: &mut Vec<u8>, prefix: &[u8], n: i128) {
    let mut buf = [0u8; 41]; // a sign, up to 39 digits and '\n'
    let mut at = buf.len() - 1;
    buf[at] = b'\n';
    let mut wide = n.unsigned_abs();
    while wide > u128::from(u64::MAX) {
        at -= 1;
        buf[at] = b'0' + (wide % 10) as u8;
        wide /= 10;
    }
    let mut narrow = wide as u64; // 64-bit division is several times faster than 128-bit
    loop {
        at -= 1;
        buf[at] = b'0' + (narrow % 10) as u8;
        narrow /= 10;
        if narrow == 0 {
            break;
        }
    }
    if n < 0 {
        at -= 1;
        buf[at] = b'-';
    }
    text.extend_from_slice(prefix);
    text.extend_from_slice(&buf[at..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printed(n: i128) -> String {
        let mut text = Vec::new();
        line(&mut text, b"v ", n);
        String::from_utf8(text).unwrap()
    }

    #[test]
    fn numbers_print_as_std_prints_them() {
        let edges = [0, 7, -7, 10, -10, 1 << 64, -(1 << 64), i128::MAX, i128::MIN];
        for n in edges
            .into_iter()
            .chain((-1000..1000).map(|n| n * 9_999_991))
        {
            assert_eq!(printed(n), format!("v {n}\n"));
        }
    }
}
