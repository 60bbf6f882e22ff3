//! The meter page's "Import" section: upload a CSV file, follow its progress.

use leptos::prelude::*;

use crate::{dto::ImportView, ui::islands::import_progress::ImportProgress};

#[component]
pub fn ImportSection(meter_id: i64, imports: Vec<ImportView>) -> impl IntoView {
    let open = !imports.is_empty();
    view! {
        <details class="card stack" id="import" open=open>
            <summary>"Import" <span class="muted">"a CSV file of readings"</span></summary>
            <form method="post" action=format!("/meters/{meter_id}/import") enctype="multipart/form-data" class="stack" data-testid="import-form">
                <div class="field">
                    <label for="import-file">"CSV file"</label>
                    <input id="import-file" type="file" name="file" accept=".csv,text/csv" required />
                </div>
                <div class="field">
                    <label for="import-format">"Format"</label>
                    <select id="import-format" name="format">
                        <option value="legacy">"Legacy monitor: timestamp,total_used_mb,remaining_mb,collection_status,…"</option>
                        <option value="generic">"Generic: timestamp,value[,remaining]"</option>
                    </select>
                </div>
                <p class="hint">"Importing the same file again is safe: it resumes where it stopped and never duplicates readings."</p>
                <button type="submit" class="button primary">"Import"</button>
            </form>
            {imports.into_iter().map(|i| view! { <ImportProgress import=i /> }).collect_view()}
            <p class="small"><a href=format!("/meters/{meter_id}#import")>"Refresh"</a></p>
        </details>
    }
    .into_any()
}
