//! The balance score (the average pace of all budgets, 0–100) and the day's one sentence.

use leptos::prelude::*;

#[component]
pub fn BalanceCard(score: Option<u8>, status: Option<String>, insight: String) -> impl IntoView {
    view! {
        <section class="card balance" aria-label="Balance" data-testid="balance">
            {score
                .map(|s| {
                    view! {
                        <div class="score" data-testid="balance-score">
                            <strong>{s}</strong>
                            <span class="muted">"/100"</span>
                        </div>
                    }
                })}
            <div>
                {status
                    .map(|st| {
                        view! {
                            <span class=format!("badge status {st}")>{format!("Balance: {st}")}</span>
                        }
                    })}
                <p class="insight" data-testid="insight">{insight}</p>
            </div>
        </section>
    }
}
