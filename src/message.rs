//! What the leaves and readers send the root: one stream's values, in order, with their
//! output lines already written. Formatting is most of the work per value; done where the
//! values are made, it runs beside the merge instead of on the root, the one thread every
//! value passes through.
//!
//! Invariant: a batch's `lines` are the `NAME VALUE` lines of its values, in order, or
//! empty when only merges are printed; its `scales` count its `mantissas` in runs of one
//! scale; and it is bounded in bytes as well as in values, so a long name costs about its
//! own length, not its length times the batch.

use crate::decimal::{self, Decimal};
use crate::error::Error;

/// At most this many values go in one message, as IoTPy's `extend` sends several at once:
/// one message per value would cost more than the merge itself.
pub(crate) const BATCH: usize = 2048;

/// A batch is full once its lines take this many bytes.
const BYTES: usize = 1 << 16;

/// What a leaf or a reader tells the root.
pub(crate) enum Msg {
    /// A stream's next values, in order.
    Values(Batch),
    /// The stream has no more values.
    End(usize),
    /// The stream's next item is this failure; it has no more.
    Failed(usize, Error),
}

/// A run of one stream's values.
pub(crate) struct Batch {
    pub(crate) stream: usize,
    pub(crate) mantissas: Vec<i64>,
    /// `(scale, count)`: the scales of `mantissas`, in runs.
    pub(crate) scales: Vec<(u8, usize)>,
    pub(crate) lines: Vec<u8>,
}

impl Batch {
    /// An empty batch with room for a full batch of values and, if they are printed,
    /// their lines: growing a batch value by value would cost more than filling it.
    pub(crate) fn new(stream: usize, prefix: Option<&[u8]>) -> Self {
        let line = prefix.map_or(0, |prefix| prefix.len() + 4); // allowing for a short value
        Batch {
            stream,
            mantissas: Vec::with_capacity(BATCH),
            scales: Vec::new(),
            lines: Vec::with_capacity((BATCH * line).min(BYTES)),
        }
    }

    /// Empties the batch, keeping its room, to be filled again.
    pub(crate) fn clear(&mut self) {
        self.mantissas.clear();
        self.scales.clear();
        self.lines.clear();
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.mantissas.is_empty()
    }

    pub(crate) fn is_full(&self) -> bool {
        self.mantissas.len() >= BATCH || self.lines.len() >= BYTES
    }

    /// Appends `value`, and its line if the stream's lines are printed.
    #[inline]
    pub(crate) fn push(&mut self, value: Decimal, prefix: Option<&[u8]>) {
        self.mantissas.push(value.mantissa);
        match self.scales.last_mut() {
            Some((scale, count)) if *scale == value.scale => *count += 1,
            _ => self.scales.push((value.scale, 1)),
        }
        if let Some(prefix) = prefix {
            decimal::line(&mut self.lines, prefix, value.mantissa.into(), value.scale);
        }
    }
}

/// What starts each line of stream `name`, `NAME `, or `None` when only merges are printed.
pub(crate) fn prefix(name: &str, merges_only: bool) -> Option<Vec<u8>> {
    (!merges_only).then(|| format!("{name} ").into_bytes())
}
