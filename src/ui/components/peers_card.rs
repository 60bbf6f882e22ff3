//! Where the user's pace stands among similar households — a percentile, never anyone's
//! own figures.

use leptos::prelude::*;

use crate::domain::outlook::peers::{MIN_GROUP, PeerComparison};

#[component]
pub fn PeersCard(peers: PeerComparison) -> impl IntoView {
    let text = match (peers.available, peers.percentile) {
        (true, Some(p)) => format!(
            "Your pace is as good as or better than {p} % of the {} other households on a similar plan near you.",
            peers.group_size - 1
        ),
        _ if peers.meter_id.is_none() => {
            "Add a budget to compare its pace with similar households.".to_string()
        }
        _ => format!(
            "Not enough households on a similar plan near you to compare with yet ({} of {MIN_GROUP}).",
            peers.group_size
        ),
    };
    view! {
        <section class="card" aria-labelledby="peers-title" data-testid="peers">
            <h2 id="peers-title">"Compared with neighbours"</h2>
            {peers
                .percentile
                .filter(|_| peers.available)
                .map(|p| view! { <meter min="0" max="100" value=p aria-label="Percentile among peers">{p}</meter> })}
            <p>{text}</p>
        </section>
    }
}
