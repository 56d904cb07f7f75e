//! Stopping a long run from outside it: a flag another thread sets (Ctrl-C) and a
//! wall-clock deadline, polled by the simulations between paths. A stopped run returns
//! [`crate::SimError::Stopped`] saying how far it got; it never returns partial results
//! as if they were whole.
//!
//! It is **not** a timer or a signal handler: the caller sets the flag (the CLI from its
//! Ctrl-C handler) and chooses the deadline (the CLI's `--deadline`, a script's wall-clock
//! limit).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// When a run should stop early: never (the default), when a flag is set, at a deadline,
/// or whichever comes first.
#[derive(Debug, Clone, Default)]
pub struct Stop {
    flag: Option<Arc<AtomicBool>>,
    deadline: Option<Instant>,
}

/// Why a run stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The stop flag was set (Ctrl-C in the CLI).
    Interrupted,
    /// The deadline passed.
    Deadline,
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StopReason::Interrupted => "interrupted",
            StopReason::Deadline => "stopped at its deadline",
        })
    }
}

impl Stop {
    /// Never stops early.
    pub fn never() -> Self {
        Stop::default()
    }

    /// Also stops once `flag` is set.
    pub fn on_flag(mut self, flag: Arc<AtomicBool>) -> Self {
        self.flag = Some(flag);
        self
    }

    /// Also stops at `deadline` (an earlier deadline already set is kept).
    pub fn at(mut self, deadline: Instant) -> Self {
        self.deadline = Some(self.deadline.map_or(deadline, |d| d.min(deadline)));
        self
    }

    /// Why the run should stop now, if it should.
    pub fn reason(&self) -> Option<StopReason> {
        if self.flag.as_ref().is_some_and(|f| f.load(Ordering::Relaxed)) {
            return Some(StopReason::Interrupted);
        }
        match self.deadline {
            Some(d) if Instant::now() >= d => Some(StopReason::Deadline),
            _ => None,
        }
    }

    /// Whether this can stop at all (nothing to poll otherwise).
    pub fn is_armed(&self) -> bool {
        self.flag.is_some() || self.deadline.is_some()
    }
}

/// How often (in paths) a simulation polls its [`Stop`]: often enough to stop within
/// milliseconds, rarely enough that the clock read costs nothing measurable.
pub(crate) const POLL_EVERY: u64 = 16;
