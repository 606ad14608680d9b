//! Leadership among replicas on one database: exactly one of them, the holder of the
//! `background` lease, runs the duties that must happen once (the sync schedule and every
//! sync, the inactivity check, the action poller). The lease has a term in the database; the
//! holder renews it every `renew_every`, gives it up on a clean stop, and a replica that finds
//! the term over takes it. A killed leader is so replaced within `term + renew_every`.
//!
//! Terms are compared with each replica's own clock: replicas must keep their clocks within a
//! few seconds of each other (NTP), well inside the term.

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

use crate::db::{self, Stores};
use crate::supervisor::{StopSignal, Supervisor};

/// The one lease the background duties run under.
pub const BACKGROUND: &str = "background";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaseTiming {
    /// How long a taken or renewed lease lasts without renewal.
    pub term: Duration,
    /// How often the holder renews, and how often the others try to take it.
    pub renew_every: Duration,
}

impl Default for LeaseTiming {
    /// A dead leader is replaced within 20 s (the issue asks for 30 s); renewing three times
    /// per term rides out two failed writes (a busy database) without a change of leader.
    fn default() -> Self {
        Self {
            term: Duration::from_secs(15),
            renew_every: Duration::from_secs(5),
        }
    }
}

/// Whether this replica leads, as it changes.
#[derive(Clone, Debug)]
pub struct Leader {
    replica: String,
    leading: watch::Receiver<bool>,
}

impl Leader {
    /// This replica's id in the lease table and the logs.
    pub fn replica(&self) -> &str {
        &self.replica
    }

    pub fn is_leading(&self) -> bool {
        *self.leading.borrow()
    }

    /// A replica that always leads: one process that never shares its database (tests that
    /// drive a service without the lease loop).
    pub fn alone() -> Self {
        let (tx, leading) = watch::channel(true);
        // The value never changes; a dropped sender leaves the last value readable.
        drop(tx);
        Self {
            replica: "alone".into(),
            leading,
        }
    }
}

/// The lease loop of one replica.
#[derive(Clone)]
pub struct Election {
    db: Stores,
    replica: String,
    timing: LeaseTiming,
    leading: watch::Sender<bool>,
}

impl Election {
    /// `replica` must differ between live replicas and should stay the same when one process
    /// is restarted in its place (see [`replica_id`]), so a restarted single server takes its
    /// own lease back at once instead of waiting for the term of the one it replaces.
    pub fn new(db: &Stores, replica: String, timing: LeaseTiming) -> (Self, Leader) {
        let (leading, rx) = watch::channel(false);
        let leader = Leader {
            replica: replica.clone(),
            leading: rx,
        };
        (
            Self {
                db: db.clone(),
                replica,
                timing,
                leading,
            },
            leader,
        )
    }

    /// One attempt to take or renew the lease; updates the leading state and returns it.
    /// The first attempt is made before the server serves, so a replica alone on its database
    /// leads from the start.
    pub async fn attempt(&self, held_until: &mut Option<SystemTime>) -> bool {
        let now = SystemTime::now();
        let until = now + self.timing.term;
        let result = self
            .db
            .leases
            .try_acquire(
                BACKGROUND,
                &self.replica,
                millis(now),
                millis(until),
                &db::now(),
            )
            .await;
        let leading = match result {
            Ok(true) => {
                *held_until = Some(until);
                true
            }
            Ok(false) => {
                *held_until = None;
                false
            }
            // The database did not answer: keep leading while the last term lasts (no other
            // replica can take it before), with a renewal's margin to stop the duties in time.
            Err(e) => {
                tracing::warn!(error = %e, "cannot renew the background lease");
                held_until.is_some_and(|t| now + self.timing.renew_every < t)
            }
        };
        let was = self.leading.send_replace(leading);
        if leading != was {
            if leading {
                tracing::info!(replica = %self.replica, "this replica now runs the background duties");
                // Syncs run only on the leader, and the last one stepped down or died: a row
                // still Running is its unfinished run (or this process's, before a crash).
                match self.db.sync_runs.abandon_running(&db::now()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::warn!(runs = n, "closed sync runs the last leader left open"),
                    Err(e) => {
                        tracing::warn!(error = %e, "could not close the last leader's sync runs")
                    }
                }
                match self.db.remodel_runs.abandon_running(&db::now()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::warn!(runs = n, "closed re-models the last leader left open"),
                    Err(e) => {
                        tracing::warn!(error = %e, "could not close the last leader's re-models")
                    }
                }
            } else {
                tracing::warn!(replica = %self.replica, "this replica no longer runs the background duties");
            }
        }
        leading
    }

    /// Holds or seeks the lease until `stop`. It goes on renewing while the server drains and
    /// lets a sync finish; [`Election::release`] gives the lease up after that.
    pub async fn run(self, mut stop: StopSignal) {
        let mut held_until = None;
        let mut interval = tokio::time::interval(self.timing.renew_every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = interval.tick() => {}
                () = stop.stopped() => return,
            }
            self.attempt(&mut held_until).await;
        }
    }

    /// A clean stop: another replica takes the lease at its next attempt instead of waiting
    /// for the term to end.
    pub async fn release(&self) {
        if !self.leading.send_replace(false) {
            return;
        }
        match self.db.leases.release(BACKGROUND, &self.replica).await {
            Ok(()) => tracing::info!(replica = %self.replica, "background lease given up"),
            Err(e) => {
                tracing::warn!(error = %e, "cannot give the background lease up; another replica takes it when its term ends")
            }
        }
    }
}

/// Runs `make(signal)` while this replica leads: started when it becomes leader, told to stop
/// when it is no longer (or the server stops), started again on the next election. Meant to
/// run under the supervisor; a panic of the duty propagates so the supervisor restarts it.
pub async fn while_leading<F, Fut>(leader: Leader, mut stop: StopSignal, make: F)
where
    F: Fn(StopSignal) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut leading = leader.leading;
    loop {
        let elected = tokio::select! {
            elected = leading.wait_for(|l| *l) => elected.is_ok(),
            () = stop.stopped() => return,
        };
        // Closed without ever leading (`Leader::alone` leads from the start, so it passes).
        if !elected && !*leading.borrow() {
            return;
        }
        let (end_term, term) = watch::channel(false);
        let mut duty = tokio::spawn(make(StopSignal::from_receiver(term)));
        let ended_alone = tokio::select! {
            ended = &mut duty => Some(ended),
            () = until_not_leading(&mut leading) => None,
            () = stop.stopped() => None,
        };
        let ended = match ended_alone {
            Some(ended) => ended,
            None => {
                let _ = end_term.send(true);
                duty.await
            }
        };
        if let Err(e) = ended {
            if e.is_panic() {
                std::panic::resume_unwind(e.into_panic());
            }
        }
        if stop.is_stopped() {
            return;
        }
        if *leading.borrow() {
            // The duty ended by itself while this replica still leads: the supervisor
            // decides when to start it again.
            return;
        }
    }
}

/// Runs `make` under `loops` as the duty `name`, only while `leader` leads.
pub fn spawn_while_leading<F, Fut>(
    loops: &mut Supervisor,
    name: &'static str,
    leader: &Leader,
    make: F,
) where
    F: Fn(StopSignal) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let leader = leader.clone();
    loops.spawn(name, move |stop| {
        while_leading(leader.clone(), stop, make.clone())
    });
}

/// This machine's host name and the port the server listens on: unique among live replicas
/// (two processes cannot listen on one port of one host), and the same for a server restarted
/// with its configuration.
pub fn replica_id(port: u16) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into());
    format!("{host}:{port}")
}

/// Completes when leadership is lost; never, when it cannot change any more (`Leader::alone`).
async fn until_not_leading(leading: &mut watch::Receiver<bool>) {
    if leading.wait_for(|l| !*l).await.is_err() {
        std::future::pending::<()>().await;
    }
}

fn millis(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
