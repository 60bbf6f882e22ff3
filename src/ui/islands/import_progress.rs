//! An import's progress bar, kept current while the import runs: the island asks the
//! server once a second (`GET /api/v1/imports/{id}`, read by hand: this was the bundle's
//! only server function call, and with it went that machinery's share of every page's
//! WebAssembly). Without JavaScript the server-rendered state shows, with a link to look
//! again.

use leptos::prelude::*;

use crate::dto::ImportView;

fn summary(i: &ImportView) -> String {
    match i.status.as_str() {
        "done" => format!(
            "Done: {} readings imported, {} rows skipped.",
            i.rows_imported, i.rows_skipped
        ),
        "failed" => format!("Stopped: {}", i.note.clone().unwrap_or_default()),
        _ => {
            let pct = if i.total_bytes > 0 {
                i.done_bytes * 100 / i.total_bytes
            } else {
                0
            };
            format!("Importing… {pct} % ({} readings so far)", i.rows_imported)
        }
    }
}

#[island]
pub fn ImportProgress(import: ImportView) -> impl IntoView {
    let state = RwSignal::new(import);
    #[cfg(feature = "hydrate")]
    {
        use crate::ui::json_get::{field, get, int, text};
        if state.get_untracked().status == "running" {
            let handle = set_interval_with_handle(
                move || {
                    let id = state.get_untracked().id;
                    leptos::task::spawn_local(async move {
                        if let Ok(v) = get(&format!("/api/v1/imports/{id}")).await {
                            state.set(ImportView {
                                id: int(&v, "id"),
                                meter_id: int(&v, "meter_id"),
                                file_name: text(&v, "file_name"),
                                status: text(&v, "status"),
                                done_bytes: int(&v, "done_bytes"),
                                total_bytes: int(&v, "total_bytes"),
                                rows_imported: int(&v, "rows_imported"),
                                rows_skipped: int(&v, "rows_skipped"),
                                note: field(&v, "note").as_string(),
                            });
                        }
                    });
                },
                std::time::Duration::from_secs(1),
            );
            if let Ok(handle) = handle {
                Effect::new(move |_| {
                    if state.get().status != "running" {
                        handle.clear();
                    }
                });
            }
        }
    }
    view! {
        <div class="import" data-testid="import-progress" data-status=move || state.get().status>
            <p class="small">
                <strong>{move || state.get().file_name}</strong>
                " — "
                <span role="status">{move || summary(&state.get())}</span>
            </p>
            <progress
                max=move || state.get().total_bytes.max(1)
                value=move || state.get().done_bytes
                aria-label="Import progress"
            ></progress>
            {move || {
                let s = state.get();
                (s.status == "done")
                    .then(|| s.note.clone())
                    .flatten()
                    .map(|note| view! { <pre class="small muted">{note}</pre> })
            }}
        </div>
    }
}
