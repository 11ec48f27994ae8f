//! The times of a stream's values ahead of a point in time, oldest first: what the shared
//! input's lead bound counts by time. They are kept in runs that step evenly, so times that
//! count (ticks, seconds, rounds) take one run however many there are: a run of times is
//! added by comparing each step with the first, and dropped by a search, with no store per
//! time.
//!
//! Invariant: the runs hold exactly the times added and not yet dropped, in order; every
//! run holds two times or more, but the last, and those whose
//! times do not fit one scale in an `i64`: so times take at most 12 bytes each (and times
//! of 19 digits whose scale changes at every one, 24).

use std::collections::VecDeque;

use crate::decimal;

/// `start`, `start + step`, ... `len` times in all, mantissas at `scale`.
#[derive(Clone, Copy, Debug)]
struct Run {
    start: i64,
    /// From 1 to 2^64 - 1, as times increase within `i64`; of no meaning while the run
    /// holds one time.
    step: u64,
    len: u32,
    scale: u8,
}

impl Run {
    /// Its `i`-th time, at the largest scale, as times compare (`decimal::at_max_scale`).
    /// Exact: it is one of the times added, so an `i64` mantissa.
    fn at(&self, i: u32) -> i128 {
        let mantissa = i128::from(self.start) + i128::from(i) * i128::from(self.step);
        mantissa * i128::from(decimal::POW10[usize::from(decimal::MAX_SCALE - self.scale)])
    }
}

/// Whether `len` times, one or more, mantissas at one scale that increase from `first` to
/// `last`, count up by one: exactly when `last` is `first` plus `len - 1`, as no step is
/// less than one. The difference of two `i64`s in order wraps in `u64` to itself.
pub(crate) fn count_up(first: i64, last: i64, len: usize) -> bool {
    last.wrapping_sub(first) as u64 == (len as u64).wrapping_sub(1)
}

/// A stream's times ahead, oldest first, in runs.
#[derive(Clone, Debug, Default)]
pub(crate) struct Ahead {
    runs: VecDeque<Run>,
}

impl Ahead {
    /// How many times it holds.
    pub(crate) fn len(&self) -> u64 {
        self.runs.iter().map(|run| u64::from(run.len)).sum()
    }

    pub(crate) fn clear(&mut self) {
        self.runs = VecDeque::new();
    }

    /// Adds `times`, mantissas at `scale`, each later than the one before and than those
    /// it holds. A slice that steps evenly from the last run's step, the common case, only
    /// lengthens it.
    pub(crate) fn extend(&mut self, times: &[i64], scale: u8) {
        // Times at another scale than the last run's join it at the larger scale, where they
        // are as exact.
        let up = |m: i64, by: u8| m.checked_mul(decimal::POW10[usize::from(by)]);
        match self.runs.back_mut() {
            Some(run) if run.scale > scale => {
                let by = run.scale - scale;
                let larger = run.scale;
                if let Some(times) = times.iter().map(|&t| up(t, by)).collect::<Option<Vec<_>>>() {
                    return self.extend(&times, larger);
                }
            }
            Some(run) if run.scale < scale && run.len == 1 => {
                if let Some(start) = up(run.start, scale - run.scale) {
                    (run.start, run.scale) = (start, scale);
                }
            }
            _ => {}
        }
        let mut rest = times;
        while let Some((&first, after)) = rest.split_first() {
            let last = self.runs.back_mut();
            let last = last.filter(|run| run.scale == scale && run.len < u32::MAX);
            // Times increase, so a step is from 1 to 2^64 - 1: their difference wraps in
            // `u64` to the step itself, and the wrapping sum of the steps to the last time is
            // that time, an `i64`. `first` joins the last run if it steps from it as it does.
            let joined = last.and_then(|run| {
                let steps = run.step.wrapping_mul(u64::from(run.len - 1));
                let step = first.wrapping_sub(run.start.wrapping_add(steps as i64)) as u64;
                (run.len == 1 || step == run.step).then_some((run, step))
            });
            let Some((run, step)) = joined else {
                let run = Run {
                    start: first,
                    step: 0,
                    len: 1,
                    scale,
                };
                self.runs.push_back(run);
                rest = after;
                continue;
            };
            run.step = step;
            // As many as follow at that step: all of them, mostly. At a step of one, known
            // from the last alone (`count_up`). Else found with no early exit, so that the
            // loop compares several pairs at once; else a pair at a time.
            let steps = |pair: &[i64]| pair[1].wrapping_sub(pair[0]) as u64 == step;
            let counting = step == 1
                && rest
                    .last()
                    .is_some_and(|&last| count_up(first, last, rest.len()));
            let even = if counting || rest.windows(2).fold(true, |all, pair| all & steps(pair)) {
                rest.len()
            } else {
                1 + rest.windows(2).take_while(|pair| steps(pair)).count()
            };
            let even = even.min((u32::MAX - run.len) as usize);
            run.len += even as u32;
            rest = &rest[even..];
        }
    }

    /// Drops the times that are not later than `time`, at the largest scale; returns how
    /// many.
    pub(crate) fn drop_until(&mut self, time: i128) -> u64 {
        let mut dropped = 0;
        while let Some(run) = self.runs.front_mut() {
            // The first of its times later than `time`, by bisection: they increase.
            let (mut gone, mut later) = (0, run.len);
            while gone < later {
                let mid = gone + (later - gone) / 2;
                if run.at(mid) <= time {
                    gone = mid + 1;
                } else {
                    later = mid;
                }
            }
            dropped += u64::from(gone);
            if gone < run.len {
                // The `gone`-th time, an `i64`: the wrapping sum is exact.
                run.start = run
                    .start
                    .wrapping_add(u64::from(gone).wrapping_mul(run.step) as i64);
                run.len -= gone;
                break;
            }
            self.runs.pop_front();
        }
        dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `Ahead` must hold: every time, at the largest scale.
    fn plainly(times: &[(i64, u8)]) -> Vec<i128> {
        let at_max = |(m, s): (i64, u8)| decimal::at_max_scale(m, s);
        times.iter().map(|&t| at_max(t)).collect()
    }

    /// Every time `ahead` holds, in order.
    fn held(ahead: &Ahead) -> Vec<i128> {
        (ahead.runs.iter())
            .flat_map(|run| (0..run.len).map(|i| run.at(i)))
            .collect()
    }

    /// Adds `times` in slices of one scale and at most `most` times, checking what it holds
    /// after each, then drops up to each of `points` in turn.
    fn check(times: &[(i64, u8)], most: usize, points: &[i128]) {
        let mut ahead = Ahead::default();
        let mut i = 0;
        while i < times.len() {
            let scale = times[i].1;
            let n = times[i..]
                .iter()
                .take(most)
                .take_while(|t| t.1 == scale)
                .count();
            let slice: Vec<i64> = times[i..i + n].iter().map(|t| t.0).collect();
            ahead.extend(&slice, scale);
            i += n;
            assert_eq!(held(&ahead), plainly(&times[..i]), "{times:?} {most}");
            assert_eq!(ahead.len(), i as u64);
        }
        // Two times or more a run, but the last, where they fit one scale.
        let top = times.iter().map(|t| t.1).max().unwrap_or(0);
        let up = |&(m, s): &(i64, u8)| m.checked_mul(decimal::POW10[usize::from(top - s)]);
        let fit = times.iter().all(|t| up(t).is_some());
        let most_runs = if fit {
            times.len() / 2 + 1
        } else {
            times.len()
        };
        assert!(ahead.runs.len() <= most_runs, "{:?}", ahead.runs);
        let mut left = plainly(times);
        for &point in points {
            let gone = left.partition_point(|&t| t <= point);
            left.drain(..gone);
            assert_eq!(ahead.drop_until(point), gone as u64, "{point}");
            assert_eq!(
                (held(&ahead), ahead.len()),
                (left.clone(), left.len() as u64)
            );
        }
    }

    #[test]
    fn times_that_step_evenly_take_one_run_and_drop_exactly() {
        let counting: Vec<(i64, u8)> = (1..=1000).map(|t| (t, 0)).collect();
        let mut ahead = Ahead::default();
        for slice in counting.chunks(97) {
            ahead.extend(&slice.iter().map(|t| t.0).collect::<Vec<_>>(), 0);
        }
        assert_eq!((ahead.runs.len(), ahead.len()), (1, 1000));
        // 1, 1.5, 2, 2.5, ...: at two scales, one run at the larger.
        let mut halves = Ahead::default();
        for t in 1..=100 {
            halves.extend(&[t], 0);
            halves.extend(&[10 * t + 5], 1);
        }
        assert_eq!((halves.runs.len(), halves.len()), (1, 200));
        let second = decimal::at_max_scale(1, 0);
        for most in [1, 2, 3, 1000] {
            check(
                &counting,
                most,
                &[0, second, 500 * second, 500 * second, 999 * second],
            );
        }
    }

    #[test]
    fn any_increasing_times_are_held_and_dropped_as_a_list_would_be() {
        let edges = [i64::MIN, i64::MIN + 1, -5, 0, 3, i64::MAX - 1, i64::MAX];
        let mut seed = 7u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            seed >> 33
        };
        for case in 0..300 {
            // Steps now even, now not, at one scale or a few, and the extremes of `i64`.
            let mut times = Vec::new();
            let mut t = edges[case % edges.len()].min(i64::MAX - 1000);
            let scale = |k: u64| [0, 0, 1, 18][k as usize % 4];
            let mut s = scale(next());
            for _ in 0..(next() % 60) {
                times.push((t, s));
                if next() % 8 == 0 {
                    s = scale(next());
                }
                let step = [1, 1, 2, 60, (next() % 1000) as i64 + 1][next() as usize % 5];
                let Some(later) = t.checked_add(step) else {
                    break;
                };
                t = later;
            }
            // Times must increase as numbers too, whatever their scales.
            let mut increasing: Vec<(i64, u8)> = Vec::new();
            for &(m, s) in &times {
                let at = decimal::at_max_scale(m, s);
                if increasing
                    .last()
                    .is_none_or(|&l| decimal::at_max_scale(l.0, l.1) < at)
                {
                    increasing.push((m, s));
                }
            }
            let mut points: Vec<i128> = plainly(&increasing);
            points.push(i128::MIN);
            points.sort();
            let points: Vec<i128> = points.into_iter().step_by(3).collect();
            for most in [1, 4, 100] {
                check(&increasing, most, &points);
            }
        }
        check(
            &[(i64::MIN, 0), (i64::MAX, 0), (i64::MAX, 18)],
            100,
            &[0, i128::MAX],
        );
    }
}
