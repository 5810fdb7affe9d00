//! A background job's sign of life, for `/ready`: when its last round ended, and whether its
//! task still runs (a panic or a return ends it).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct Beat {
    started: Instant,
    /// Milliseconds from `started` to the end of the last round.
    last_round_ms: AtomicU64,
    stopped: AtomicBool,
    /// A round that takes longer than this is a stalled job.
    limit: Duration,
}

/// What `/ready` says of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Running,
    /// No round ended within its limit.
    Stalled,
    Stopped,
}

impl JobState {
    pub fn name(self) -> &'static str {
        match self {
            JobState::Running => "running",
            JobState::Stalled => "stalled",
            JobState::Stopped => "stopped",
        }
    }
}

impl Beat {
    pub fn new(limit: Duration) -> Arc<Beat> {
        Arc::new(Beat { started: Instant::now(), last_round_ms: AtomicU64::new(0), stopped: AtomicBool::new(false), limit })
    }

    /// A round ended.
    pub fn round(&self) {
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_round_ms.store(ms, Ordering::Relaxed);
    }

    pub fn state(&self) -> JobState {
        if self.stopped.load(Ordering::Relaxed) {
            return JobState::Stopped;
        }
        let since = Duration::from_millis(self.last_round_ms.load(Ordering::Relaxed));
        if self.started.elapsed().saturating_sub(since) > self.limit {
            JobState::Stalled
        } else {
            JobState::Running
        }
    }

    /// Held by the job's task: marks the job stopped when the task ends, however it ends.
    pub fn alive(self: &Arc<Self>) -> Alive {
        Alive(self.clone())
    }
}

pub struct Alive(Arc<Beat>);

/// The beats of the jobs this server runs (`None`: turned off by its interval setting).
#[derive(Default)]
pub struct JobBeats {
    pub delivery: Option<Arc<Beat>>,
    pub expiry: Option<Arc<Beat>>,
}

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.stopped.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_is_stopped_once_its_task_drops_its_guard() {
        let beat = Beat::new(Duration::from_secs(3600));
        let alive = beat.alive();
        beat.round();
        assert_eq!(beat.state(), JobState::Running);
        drop(alive);
        assert_eq!(beat.state(), JobState::Stopped);
    }
}
