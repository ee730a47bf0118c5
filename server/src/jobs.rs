//! The background worker every `nachweis serve` runs: it sends due mail and
//! runs the daily jobs. Several processes may run it against one database;
//! the claims in the outbox and in `job_runs` keep them from doing the same
//! work twice.

use std::time::Duration;

use app::state::AppState;

use crate::mailer::{Mailer, send_due};

/// One pass of everything the worker does, at the state's clock time:
/// first the daily digest (its mails are queued), then the mail.
pub async fn pass(state: &AppState, mailer: Option<&Mailer>, node: &str, digest_hour: u32) {
    let now = state.now();
    if app::reminders::service::due(now, digest_hour) {
        let digest =
            app::reminders::service::run_digest(&state.db, now, node, &state.public_url).await;
        crate::metrics::metrics().job("digest", digest.is_ok());
        match digest {
            Ok(r) if r.orgs > 0 => {
                tracing::info!(orgs = r.orgs, mails = r.mails, "daily digest queued");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("daily digest failed: {e}"),
        }
        // AVV offers not accepted after 14 days: one reminder each.
        let recalled = app::contract::service::remind(&state.db, now, &state.public_url).await;
        crate::metrics::metrics().job("contract_reminders", recalled.is_ok());
        match recalled {
            Ok(n) if n > 0 => tracing::info!(offers = n, "AVV offer reminders queued"),
            Ok(_) => {}
            Err(e) => tracing::warn!("AVV offer reminders failed: {e}"),
        }
        // Training reminders: each goes out once, ever (see send_reminders).
        let reminders =
            app::training::service::send_reminders(&state.db, now, &state.public_url).await;
        crate::metrics::metrics().job("training_reminders", reminders.is_ok());
        match reminders {
            Ok(n) if n > 0 => tracing::info!(mails = n, "training reminders queued"),
            Ok(_) => {}
            Err(e) => tracing::warn!("training reminders failed: {e}"),
        }
    }
    // A changed AVV text or changed particulars: a new offer to the
    // customers that had one (sealed here, not in the DPO's request).
    let offers =
        app::contract::service::reoffer_changed(&state.db, &state.signing, &state.public_url, now)
            .await;
    crate::metrics::metrics().job("contract_offers", offers.is_ok());
    match offers {
        Ok(n) if n > 0 => tracing::info!(offers = n, "new AVV offers after a change"),
        Ok(_) => {}
        Err(e) => tracing::warn!("AVV offers failed: {e}"),
    }
    if let Some(mailer) = mailer {
        let mail = send_due(&state.db, mailer, now, node).await;
        crate::metrics::metrics().job("mail", mail.is_ok());
        match mail {
            Ok(p) if p.sent + p.retry_later + p.failed > 0 || p.interrupted > 0 => {
                tracing::info!(
                    sent = p.sent,
                    retry_later = p.retry_later,
                    failed = p.failed,
                    interrupted = p.interrupted,
                    "mail pass"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("mail pass failed: {e}"),
        }
    }
}

/// Runs [`pass`] every `interval` until the task is aborted.
pub fn spawn(
    state: AppState,
    mailer: Option<Mailer>,
    interval: Duration,
    digest_hour: u32,
) -> tokio::task::JoinHandle<()> {
    let node = crate::mailer::node_name();
    if mailer.is_none() {
        tracing::warn!(
            "no SMTP server configured (NACHWEIS_SMTP_HOST): mail stays queued in the outbox"
        );
    }
    tokio::spawn(async move {
        // The first pass one interval after start: a starting node first serves.
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            pass(&state, mailer.as_ref(), &node, digest_hour).await;
        }
    })
}
