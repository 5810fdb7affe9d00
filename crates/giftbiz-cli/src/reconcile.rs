//! `giftbiz reconcile`: settles the journal's unsettled sends and prints any drift between
//! the journal, the service's coupon statuses (0201) and its balance (0301).

use clap::Args;
use giftbiz_client::ChasePolicy;

use crate::api::{explain, JournalArgs};
use crate::client_args::ClientArgs;

#[derive(Args)]
pub struct ReconcileArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(flatten)]
    pub journal: JournalArgs,
}

/// Exits non-zero when a send is still unsettled or the service contradicts the journal.
pub async fn run(args: ReconcileArgs) -> anyhow::Result<()> {
    let client = args.client.client()?;
    let journal = args.journal.open()?;
    let report = client.reconcile(&journal, &ChasePolicy::default()).await.map_err(explain)?;
    if args.client.json {
        crate::output::print_json(&report)?;
    } else {
        for (tr_id, state) in &report.settled {
            println!("settled   {tr_id}: {state}");
        }
        for (tr_id, why) in &report.still_pending {
            println!("pending   {tr_id}: {why}");
        }
        for d in &report.coupon_drift {
            println!("DRIFT     {}: journal says {}, the service says {}", d.tr_id, d.journal, d.service);
        }
        println!(
            "{} sends checked; balance {} KRW; the journal's charged sends cost {} KRW",
            report.checked, report.balance, report.journal_spent
        );
        match (report.previous, report.balance_drift) {
            (Some(p), Some(0)) => println!("the balance moved by exactly the journal's sends since the last reconcile ({} KRW then)", p.balance),
            (Some(p), Some(d)) => println!(
                "balance drift: {d:+} KRW since the last reconcile ({} KRW then) not explained by the journal's sends \
                 (charges, adjustments, sends or cancels made elsewhere)",
                p.balance
            ),
            _ => println!("first reconcile of this journal: the balance is recorded for the next one"),
        }
    }
    if !report.is_consistent() {
        anyhow::bail!(
            "{} send(s) still unsettled, {} contradicted by the service",
            report.still_pending.len(),
            report.coupon_drift.len()
        );
    }
    Ok(())
}
