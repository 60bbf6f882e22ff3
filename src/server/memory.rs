//! Giving freed memory back to the system while the server idles.
//!
//! mimalloc hands freed pages back to the system ("purges" them) a second after they are
//! freed, but it only looks for pages whose second is up when some page is freed later.
//! A busy server frees pages all the time; an idle one frees none, so after a burst it
//! keeps what the burst used: seeding the demo data at a first start left 11 MB resident
//! (53.1 MB idle against 41.1 MB on a restart, `bench/budgets.py`), as do a warming pass
//! or ten thousand connections closing.
//!
//! Allocating and freeing one huge block is such a page free (mimalloc frees a huge block's
//! page at once, and checks for expired pages when it does). The block is never written,
//! so it costs address space for an instant, not memory. Measured in a test program on
//! this allocator: 62.6 MB freed and still resident, 4.5 MB after one such free.

use std::time::Duration;

use tokio::sync::watch;

/// How often an idle server looks for freed memory to give back; a second more than
/// mimalloc's purge delay is how long a burst's memory can stay.
const EVERY: Duration = Duration::from_secs(2);

/// Larger than mimalloc's largest non-huge block (the size of its large pages, 4 MiB).
const HUGE: usize = 32 << 20;

/// Frees one huge, untouched block: mimalloc then purges the pages freed over a second ago.
pub fn give_back_freed() {
    drop(std::hint::black_box(Vec::<u8>::with_capacity(HUGE)));
}

/// Runs [`give_back_freed`] every [`EVERY`] until `stopping` turns true.
pub fn start(mut stopping: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => give_back_freed(),
                _ = stopping.wait_for(|s| *s) => return,
            }
        }
    })
}
